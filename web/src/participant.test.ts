import { afterEach, describe, expect, it, vi } from "vitest";

import { restore, save } from "./reconnect";
import { type Room, askedByMe, emptyRoom, receive, roomReducer, saved } from "./room";
import { storage } from "./storage.fake";

const play = (room: Room, ...frames: Record<string, unknown>[]): Room =>
  frames.reduce((next, frame) => receive(next, frame), room);

const ana: Room = { ...emptyRoom, me: "Ana", open: true };

describe("the bot as a participant", () => {
  it("knows the answers to this person's questions, which they may stop or ask again", () => {
    const room = play(
      ana,
      { publicMessage: "Ana: @bot hi", type: "public", from: "Ana", text: "@bot hi", id: "q1", answerId: "q1.a" },
      { botDelta: "Hi", type: "botDelta", answerId: "q1.a", questionId: "q1", seq: 1 },
      { publicMessage: "Bruno: @bot yo", type: "public", from: "Bruno", text: "@bot yo", id: "q2", answerId: "q2.a" },
      { botDelta: "Yo", type: "botDelta", answerId: "q2.a", questionId: "q2", seq: 1 },
    );
    const answers = room.lines.filter((line) => line.kind === "bot");
    expect(answers.map((line) => askedByMe(room, line))).toEqual([true, false]);
    const stopping = roomReducer(room, { type: "stop", answerId: "q1.a" });
    expect(stopping.outgoing).toEqual([{ action: "stopAnswer", answerId: "q1.a" }]);
    const again = roomReducer(room, { type: "again", answerId: "q1.a" });
    expect(again.outgoing).toEqual([{ action: "askAgain", answerId: "q1.a" }]);
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("keeps this person's questions across a reload, so their answers keep Stop and Ask again", () => {
    storage();
    const asked = play(
      { ...ana, session: { token: "t.s", name: "Ana" } },
      { publicMessage: "Ana: @bot hi", type: "public", from: "Ana", text: "@bot hi", id: "q1", answerId: "q1.a" },
    );
    save(saved(asked), "main");
    const reloaded = roomReducer(emptyRoom, { type: "kept", session: restore("main") });
    const answer = play(
      { ...reloaded, me: "Ana", open: true },
      { botDelta: "Hi", type: "botDelta", answerId: "q1.a", questionId: "q1", seq: 1 },
    ).lines.filter((line) => line.kind === "bot");
    expect(answer.map((line) => askedByMe(reloaded, line))).toEqual([true]);
  });

  it("keeps no more questions than it may, and only ids", () => {
    storage();
    sessionStorage.setItem(
      "papo.session",
      JSON.stringify({ token: "t.s", name: "Ana", offset: 1, privateOffset: 0, questions: [1, "q1", null, "q2"] }),
    );
    expect(restore("main")?.questions).toEqual(["q1", "q2"]);
    const many = Array.from({ length: 80 }, (_, i) => `q${i}`);
    save({ token: "t.s", name: "Ana", offset: 1, privateOffset: 0, questions: many }, "main");
    expect(restore("main")?.questions).toEqual(many.slice(-50));
  });

  it("takes the text so far from a piece marked so, and shows a stopped answer ended", () => {
    const room = play(
      ana,
      { botDelta: "Once upon a", soFar: true, type: "botDelta", answerId: "a", questionId: "q", seq: 2 },
      { botDelta: " time", type: "botDelta", answerId: "a", questionId: "q", seq: 3 },
    );
    expect(room.lines.map((line) => ("text" in line ? line.text : ""))).toEqual(["Once upon a time"]);
    const stopped = play(room, {
      publicMessage: "Bot: Once upon a time\n\n[stopped by Ana]",
      type: "public",
      from: "Bot",
      text: "Once upon a time\n\n[stopped by Ana]",
      answerId: "a",
      questionId: "q",
      status: "stopped",
      offset: 3,
    });
    expect(stopped.lines).toMatchObject([{ kind: "bot", status: "stopped" }]);
  });

  it("keeps the room's own bot, and shows a summary as the bot's answer", () => {
    const room = play(
      ana,
      { persona: "You are a pirate.", type: "persona", model: "llama3.2", by: "Olga", ts: 1 },
      {
        privateMessage: "Bot: They planned a trip.",
        type: "private",
        from: "Bot",
        to: "Ana",
        text: "They planned a trip.",
        answerId: "s.a",
        status: "complete",
        covers: { from: 4, to: 9 },
        after: 9,
      },
    );
    expect(room.persona).toEqual({ persona: "You are a pirate.", model: "llama3.2", by: "Olga" });
    expect(room.lines).toMatchObject([{ kind: "bot", text: "They planned a trip.", status: "complete" }]);
  });

  it("offers to catch up once what was missed came, and asks after where the page had read", () => {
    let room: Room = { ...emptyRoom, me: "Ana", session: { token: "t", name: "Ana", offset: 3 } };
    room = roomReducer(room, { type: "open", language: "en", at: 1 });
    const lines = [4, 5, 6, 7, 8, 9].map((offset) => ({
      publicMessage: `Bruno: ${offset}`,
      type: "public",
      from: "Bruno",
      text: `${offset}`,
      id: `m${offset}`,
      offset,
    }));
    room = play(room, { missed: lines, type: "missed", complete: true });
    expect(room.catchUp).toEqual({ after: 3, unread: 6 });
    const asked = roomReducer(room, { type: "catchUp" });
    expect(asked.outgoing).toEqual([{ action: "catchUp", after: 3 }]);
    expect(asked.catchUp).toBeNull();
  });
});
