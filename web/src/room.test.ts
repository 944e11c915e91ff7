import { describe, expect, it } from "vitest";

import { type Room, emptyRoom, receive } from "./room";

const play = (...frames: Record<string, unknown>[]): Room => frames.reduce(receive, emptyRoom);

describe("receive", () => {
  it("grows a bot answer from its pieces and closes it with the final frame", () => {
    const delta = (text: string, seq: number) => ({
      botDelta: text,
      type: "botDelta",
      answerId: "a1",
      questionId: "q1",
      seq,
    });
    const streaming = play(delta("Papo ", 1), delta("is a chat.", 2));
    expect(streaming.lines).toEqual([
      { kind: "bot", id: "a1", text: "Papo is a chat.", status: "streaming" },
    ]);
    const done = receive(streaming, {
      publicMessage: "Bot: Papo is a chat.",
      type: "public",
      from: "Bot",
      text: "Papo is a chat.",
      answerId: "a1",
      status: "complete",
    });
    expect(done.lines).toEqual([
      { kind: "bot", id: "a1", text: "Papo is a chat.", status: "complete" },
    ]);
  });

  it("marks a question to the bot", () => {
    const room = play({ publicMessage: "Ana: Why?", from: "Ana", text: "Why?", id: "q1", answerId: "a1" });
    expect(room.lines).toEqual([{ kind: "public", id: "q1", from: "Ana", text: "Why?", toBot: true }]);
  });

  it("puts the history first, once", () => {
    const history = {
      history: [
        { type: "public", id: "m1", from: "Ana", text: "hi" },
        { type: "public", id: "a1", from: "Bot", text: "Hello." },
      ],
    };
    const room = play(history, { systemMessage: "Bruno joined the chat", id: "s1" }, history);
    expect(room.lines.map((line) => line.id)).toEqual(["m1", "a1", "s1"]);
    expect(room.lines[1]).toEqual({ kind: "bot", id: "a1", text: "Hello.", status: "complete" });
  });

  it("joins when the server announces the name asked for, and shows a refusal", () => {
    const asked: Room = { ...emptyRoom, asked: "Ana" };
    const refused = receive(asked, { error: "The name Ana is already taken.", action: "setName" });
    expect([refused.me, refused.asked, refused.nameError]).toEqual([
      null,
      null,
      "The name Ana is already taken.",
    ]);
    const joined = receive(asked, { systemMessage: "Ana joined the chat", event: "joined", name: "Ana" });
    expect([joined.me, joined.asked, joined.nameError]).toEqual(["Ana", null, null]);
  });

  it("shows frames in the course's bare form", () => {
    const room = play({ members: ["Ana"] }, { publicMessage: "Ana: hi" }, { privateMessage: "Bruno: psst" });
    expect(room.members).toEqual(["Ana"]);
    expect(room.lines.map((line) => [line.kind, "text" in line ? line.text : ""])).toEqual([
      ["system", "Ana: hi"],
      ["private", "Bruno: psst"],
    ]);
  });
});
