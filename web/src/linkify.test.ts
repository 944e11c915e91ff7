import { describe, expect, it } from "vitest";

import { linkify } from "./linkify";

describe("linkify", () => {
  it("makes http and https addresses links, and leaves the rest as text", () => {
    expect(linkify("see https://example.com/a?b=1#c and http://x.org")).toEqual([
      { text: "see " },
      { text: "https://example.com/a?b=1#c", href: "https://example.com/a?b=1#c" },
      { text: " and " },
      { text: "http://x.org", href: "http://x.org/" },
    ]);
  });

  it("never links other schemes", () => {
    for (const text of [
      "javascript:alert(1)",
      "data:text/html,<b>x</b>",
      "ftp://x.org",
      "file:///etc/passwd",
    ]) {
      expect(linkify(text)).toEqual([{ text }]);
    }
    expect(linkify("xhttps://example.com")).toEqual([{ text: "xhttps://example.com" }]);
  });

  it("leaves the sentence's punctuation out of the address", () => {
    expect(linkify("Look: https://example.com/docs.")).toEqual([
      { text: "Look: " },
      { text: "https://example.com/docs", href: "https://example.com/docs" },
      { text: "." },
    ]);
    expect(linkify("(see https://example.com/x)")[1]).toEqual({
      text: "https://example.com/x",
      href: "https://example.com/x",
    });
    expect(linkify("https://en.wikipedia.org/wiki/Papo_(x)!")[0]).toEqual({
      text: "https://en.wikipedia.org/wiki/Papo_(x)",
      href: "https://en.wikipedia.org/wiki/Papo_(x)",
    });
  });

  it("gives the text back whole, HTML and all, as text", () => {
    for (const text of ["<img src=x onerror=alert(1)> https://a.b/<script>", "", "no links", "http://"]) {
      expect(
        linkify(text)
          .map((piece) => piece.text)
          .join(""),
      ).toBe(text);
    }
    expect(linkify('https://a.b/"><script>')[0]).toEqual({ text: "https://a.b/", href: "https://a.b/" });
  });
});
