import { describe, expect, it } from "vitest";

import { LANGUAGES, MESSAGES, formatLocale, pickLanguage } from "./i18n";

describe("languages", () => {
  it("picks the first of the browser's languages papo speaks", () => {
    expect(pickLanguage(["pt-BR", "en"])).toBe("pt-BR");
    expect(pickLanguage(["pt-PT"])).toBe("pt-BR");
    expect(pickLanguage(["pt"])).toBe("pt-BR");
    expect(pickLanguage(["fr-FR", "pt-BR", "en"])).toBe("pt-BR");
    expect(pickLanguage(["fr-FR", "en-GB", "pt-BR"])).toBe("en");
    expect(pickLanguage(["de"])).toBe("en");
    expect(pickLanguage([])).toBe("en");
  });

  it("formats times in the browser's English, else the page's language", () => {
    expect(formatLocale("en", ["en-GB", "pt-BR"])).toBe("en-GB");
    expect(formatLocale("en", ["pt-BR"])).toBe("en");
    expect(formatLocale("pt-BR", ["en-US"])).toBe("pt-BR");
  });

  it("has every word in both languages", () => {
    const [english, ...others] = LANGUAGES.map((language) => MESSAGES[language]);
    for (const other of others) {
      expect(Object.keys(other).sort()).toEqual(Object.keys(english).sort());
      for (const [key, value] of Object.entries(other)) {
        const word = typeof value === "function" ? value("Ana" as never) : value;
        expect(String(word), key).not.toBe("");
      }
    }
  });

  it("counts characters in each language's grammar", () => {
    expect(MESSAGES.en.charactersLeft(1)).toBe("1 character left");
    expect(MESSAGES.en.charactersLeft(1200)).toBe("1,200 characters left");
    expect(MESSAGES.en.charactersOver(2)).toBe("2 characters too many");
    expect(MESSAGES["pt-BR"].charactersLeft(1)).toBe("resta 1 caractere");
    expect(MESSAGES["pt-BR"].charactersLeft(1200)).toBe("restam 1.200 caracteres");
    expect(MESSAGES["pt-BR"].charactersOver(1)).toBe("1 caractere a mais");
  });
});
