import { describe, expect, it } from "vitest";

import { names, pageTitle, seenLines, unreadCount, wantsAttention } from "./attention";
import { type Line } from "./room";

const from = (who: string, text: string, id = text): Line => ({
  kind: "public",
  id,
  place: [0, 2, 0],
  from: who,
  text,
  toBot: false,
});
const privately = (who: string, to: string, id: string): Line => ({
  kind: "private",
  id,
  place: [0, 2, 0],
  from: who,
  to,
  text: "psst",
});
const answer = (id: string, text: string, status: "streaming" | "complete" = "complete"): Line => ({
  kind: "bot",
  id,
  place: [0, 2, 0],
  text,
  status,
});
const system = (id: string): Line => ({
  kind: "system",
  id,
  place: [0, 2, 0],
  text: "Carla joined the chat",
});

describe("unread", () => {
  it("counts what others said after the page was hidden", () => {
    const before = [from("Bruno", "hi"), system("s1")];
    const seen = seenLines(before);
    const after = [
      ...before,
      from("Bruno", "are you there?"),
      from("Ana", "my own words"),
      privately("Bruno", "Ana", "p1"),
      privately("Ana", "Bruno", "p2"),
      system("s2"),
      { kind: "error", id: "e1", text: "no", code: "x" } as Line,
      answer("a1", "Hel", "streaming"),
    ];
    expect(unreadCount(after, seen, "Ana")).toBe(3);
  });

  it("counts a streaming answer once, as it grows and when it ends", () => {
    const seen = seenLines([]);
    expect(unreadCount([answer("a1", "Hel", "streaming")], seen, "Ana")).toBe(1);
    expect(unreadCount([answer("a1", "Hello.")], seen, "Ana")).toBe(1);
    expect(unreadCount([answer("a1", "Hello.")], seenLines([answer("a1", "Hel", "streaming")]), "Ana")).toBe(
      0,
    );
  });

  it("tells a question from its answer though they may share an id", () => {
    const question = from("Bruno", "why?", "x");
    expect(unreadCount([question, answer("x", "because")], seenLines([question]), "Ana")).toBe(1);
  });

  it("shows in the title", () => {
    expect(pageTitle("papo", 0)).toBe("papo");
    expect(pageTitle("papo", 3)).toBe("(3) papo");
  });
});

describe("attention", () => {
  it("finds a name as a whole word, whatever its case", () => {
    expect(names("ana, are you there?", "Ana")).toBe(true);
    expect(names("thanks @Ana!", "Ana")).toBe(true);
    expect(names("ANA", "Ana")).toBe(true);
    expect(names("Olá, Ângela.", "ângela")).toBe(true);
    expect(names("Banana bread", "Ana")).toBe(false);
    expect(names("Anabel", "Ana")).toBe(false);
    expect(names("Ana_2 is here", "Ana")).toBe(false);
    expect(names("Ana Clara, hi", "Ana Clara")).toBe(true);
    expect(names("1+1 (x)", "(x)")).toBe(true);
    expect(names("anything", " ")).toBe(false);
  });

  it("highlights private lines and lines that name you, not your own", () => {
    expect(wantsAttention(from("Bruno", "hi Ana"), "Ana")).toBe(true);
    expect(wantsAttention(from("Bruno", "hi Banana"), "Ana")).toBe(false);
    expect(wantsAttention(from("Ana", "I am Ana"), "Ana")).toBe(false);
    expect(wantsAttention(privately("Bruno", "Ana", "p1"), "Ana")).toBe(true);
    expect(wantsAttention(privately("Ana", "Bruno", "p2"), "Ana")).toBe(true);
    expect(wantsAttention(answer("a1", "Sure, Ana: here it is."), "Ana")).toBe(true);
    expect(wantsAttention(system("s1"), "Carla")).toBe(false);
    expect(wantsAttention(from("Bruno", "hi Ana"), null)).toBe(false);
  });
});
