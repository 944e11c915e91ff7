import { describe, expect, it } from "vitest";

import { complete, mentionAt, suggestions } from "./mentions";

describe("mentions", () => {
  it("finds the @ being typed at the end", () => {
    expect(mentionAt("hi @b")).toBe("b");
    expect(mentionAt("@")).toBe("");
    expect(mentionAt("mail ana@bot")).toBeNull();
    expect(mentionAt("hi @bot there")).toBeNull();
  });

  it("offers the bot and people whose names begin so", () => {
    expect(suggestions("b", ["Bruno", "Ana"])).toEqual(["bot", "Bruno"]);
    expect(suggestions("", ["Ana"])).toEqual(["bot", "Ana"]);
    expect(suggestions("bot", ["Ana"])).toEqual([]);
  });

  it("completes the mention with a space after it", () => {
    expect(complete("hi @br", "Bruno")).toBe("hi @Bruno ");
    expect(complete("@", "bot")).toBe("@bot ");
  });
});
