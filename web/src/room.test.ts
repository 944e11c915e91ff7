import { describe, expect, it } from "vitest";

import { ECHO_TIMEOUT_MS } from "./outbox";
import { type Line, type Room, emptyRoom, lineKey, receive, roomReducer, wakeAt } from "./room";
import { HOLD_MS, RESYNC_MS } from "./stream";

const play = (...frames: Record<string, unknown>[]): Room =>
  frames.reduce((room, frame) => receive(room, frame), emptyRoom);

/** The lines without their places, as the page shows them. */
const shown = (lines: Line[]) => lines.map(({ place: _, ...line }) => line);

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
    expect(shown(streaming.lines)).toEqual([
      { kind: "bot", id: "a1", text: "Papo is a chat.", status: "streaming", questionId: "q1" },
    ]);
    const done = receive(streaming, {
      publicMessage: "Bot: Papo is a chat.",
      type: "public",
      from: "Bot",
      text: "Papo is a chat.",
      answerId: "a1",
      status: "complete",
    });
    expect(shown(done.lines)).toEqual([
      { kind: "bot", id: "a1", text: "Papo is a chat.", status: "complete", questionId: "q1" },
    ]);
  });

  it("marks a question to the bot", () => {
    const room = play({ publicMessage: "Ana: Why?", from: "Ana", text: "Why?", id: "q1", answerId: "a1" });
    expect(shown(room.lines)).toEqual([{ kind: "public", id: "q1", from: "Ana", text: "Why?", toBot: true }]);
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
    expect(shown(room.lines)[1]).toEqual({
      kind: "bot",
      id: "a1",
      text: "Hello.",
      status: "complete",
      earlier: true,
    });
    expect(room.lines.map((line) => line.earlier ?? false)).toEqual([true, true, false]);
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

  it("keeps when each line was said, an answer from its first piece", () => {
    const room = play(
      { history: [{ type: "public", id: "m1", from: "Ana", text: "hi", ts: 1000 }] },
      { systemMessage: "Bruno joined the chat", id: "s1", ts: 2000 },
      { publicMessage: "Bruno: psst", from: "Bruno", to: "Ana", text: "psst", id: "p1", ts: 3000 },
      { botDelta: "Hel", answerId: "a1", ts: 4000 },
      { botDelta: "lo.", answerId: "a1", ts: 4500 },
      { publicMessage: "Bot: Hello.", from: "Bot", text: "Hello.", answerId: "a1", ts: 5000 },
      { privateMessage: "Bruno: psst", from: "Bruno", to: "Ana", text: "psst", id: "p2", ts: 6000 },
      { error: "Nobody named Zé is in the chat.", code: "unknown_recipient", ts: 7000 },
    );
    expect(
      room.lines.map((line) => [line.kind, line.id.startsWith("local-") ? "local" : line.id, line.ts]),
    ).toEqual([
      ["public", "m1", 1000],
      ["system", "s1", 2000],
      ["public", "p1", 3000],
      ["bot", "a1", 4000],
      ["private", "p2", 6000],
      ["error", "local", 7000],
    ]);
  });

  it("dates a frame without a time by its arrival, through the page's reducer", () => {
    const heard = roomReducer(emptyRoom, { type: "frame", frame: { publicMessage: "Ana: hi" }, at: 1234 });
    expect(heard.lines[0].ts).toBe(1234);
    const dated = roomReducer(emptyRoom, { type: "frame", frame: { systemMessage: "x", ts: 99 }, at: 1234 });
    expect(dated.lines[0].ts).toBe(99);
    const asked = roomReducer(heard, { type: "join", name: "Ana", language: "pt-BR" });
    expect(asked.asked).toBe("Ana");
    expect(asked.outgoing).toEqual([{ action: "setName", name: "Ana", language: "pt-BR", resume: true }]);
    expect(roomReducer(asked, { type: "reset" })).toBe(emptyRoom);
  });

  it("ends an answer with the status the server gave, and only a known one", () => {
    const end = (status: unknown) =>
      play({ publicMessage: "Bot: x", from: "Bot", text: "x", answerId: "a1", status }).lines[0];
    expect(end("interrupted")).toMatchObject({ kind: "bot", status: "interrupted" });
    expect(end("failed")).toMatchObject({ kind: "bot", status: "failed" });
    expect(end("weird")).toMatchObject({ kind: "bot", status: "complete" });
    expect(end(undefined)).toMatchObject({ kind: "bot", status: "complete" });
  });

  it("keys lines by kind and id, as a question and its answer may share neither", () => {
    const room = play(
      { publicMessage: "Ana: Why?", from: "Ana", text: "Why?", id: "x", answerId: "x" },
      { botDelta: "Because.", answerId: "x" },
    );
    expect(room.lines.map(lineKey)).toEqual(["public-x", "bot-x"]);
  });
});

// The room as the page lives it: through roomReducer, with times.

type Action = Parameters<typeof roomReducer>[1];
const run = (room: Room, ...actions: Action[]): Room => actions.reduce(roomReducer, room);
const heard = (frame: Record<string, unknown>, at = 0): Action => ({ type: "frame", frame, at });
const said = (offset: number, text: string, from = "Bruno") => ({
  publicMessage: `${from}: ${text}`,
  type: "public",
  from,
  text,
  id: `m${offset}`,
  ts: 1000 + offset,
  offset,
});
const privately = (privateOffset: number, after: number, text: string, from = "Bruno", to = "Ana") => ({
  privateMessage: `${from}: ${text}`,
  type: "private",
  from,
  to,
  text,
  id: `p${privateOffset}`,
  ts: 2000 + privateOffset,
  after,
  privateOffset,
});
const missed = (frames: Record<string, unknown>[], complete = true) => ({ missed: frames, type: "missed", complete });
const texts = (room: Room) =>
  room.lines.map((line) => ("text" in line ? line.text : line.kind === "notice" ? line.notice : ""));

/** Ana in the room at offset 2 (she joined at 1, after nothing), with a resume token. */
const ana = run(
  emptyRoom,
  { type: "open", language: "en", at: 0 },
  { type: "join", name: "Ana", language: "en" },
  heard({ resumeToken: "s1.secret", type: "session", name: "Ana", offset: 0, privateOffset: 0 }),
  heard({ members: ["Ana"], type: "members", asOf: 1 }),
  heard({ systemMessage: "Ana joined the chat", type: "system", event: "joined", name: "Ana", id: "j1", offset: 1 }),
  heard(said(2, "hi")),
);

describe("one order", () => {
  it("joins with a resume token asked for, and keeps it", () => {
    expect(ana.me).toBe("Ana");
    expect(ana.session).toEqual({ token: "s1.secret", name: "Ana" });
    expect(ana.offsets).toEqual({ last: 2, held: [] });
    expect(texts(ana)).toEqual(["Ana joined the chat", "hi"]);
  });

  it("shows lines that came out of order in offset order, once the one missing came", () => {
    const early = run(ana, heard(said(4, "four"), 10), heard(said(5, "five"), 20));
    expect(texts(early)).toEqual(["Ana joined the chat", "hi"]);
    expect(early.gapSince).toBe(10);
    const filled = run(early, heard(said(3, "three"), 30));
    expect(texts(filled)).toEqual(["Ana joined the chat", "hi", "three", "four", "five"]);
    expect(filled.gapSince).toBeNull();
    expect(filled.outgoing).toEqual([]);
  });

  it("shows a line once, however often it comes: live, and again in what was missed", () => {
    const room = run(
      ana,
      heard(said(3, "three")),
      heard(said(3, "three")),
      heard(missed([said(2, "hi"), said(3, "three"), said(4, "four")])),
      heard(said(4, "four")),
    );
    expect(texts(room)).toEqual(["Ana joined the chat", "hi", "three", "four"]);
  });

  it("asks for a gap after holding it a while, and moves on once told that is all", () => {
    const held = run(ana, heard(said(4, "four"), 1000));
    const wake = wakeAt(held);
    expect(wake).toBe(1000 + HOLD_MS);
    expect(run(held, { type: "tick", at: 1000 + HOLD_MS - 1 }).outgoing).toEqual([]);
    const asking = run(held, { type: "tick", at: wake! });
    expect(asking.outgoing).toEqual([{ action: "sync", offset: 2, privateOffset: 0 }]);
    expect(wakeAt(asking)).toBe(wake! + RESYNC_MS); // asked again if no answer comes
    // Offset 3 was taken by an invocation that failed: nothing fills it.
    const moved = run(asking, heard(missed([said(4, "four")])));
    expect(texts(moved)).toEqual(["Ana joined the chat", "hi", "four"]);
    expect(moved.offsets).toEqual({ last: 4, held: [] });
    expect([moved.gapSince, wakeAt(moved)]).toEqual([null, null]);
    expect(texts(run(moved, heard(said(5, "five"))))).toEqual(["Ana joined the chat", "hi", "four", "five"]);
    // Should offset 3 come after all, it takes its place.
    expect(texts(run(moved, heard(said(3, "three"))))).toEqual(["Ana joined the chat", "hi", "three", "four"]);
  });

  it("places a private line after the room line it followed, and private lines in their order", () => {
    const room = run(
      ana,
      heard(said(3, "three")),
      heard(privately(2, 3, "second psst")),
      heard(privately(1, 2, "psst")),
      heard(said(4, "four")),
    );
    expect(texts(room)).toEqual(["Ana joined the chat", "hi", "psst", "three", "second psst", "four"]);
    expect(room.privates).toEqual({ last: 2, held: [] });
    const held = run(ana, heard(privately(2, 2, "second psst"), 50));
    expect(texts(held)).toEqual(["Ana joined the chat", "hi"]);
    expect(held.gapSince).toBe(50);
  });

  it("keeps the members list of the highest asOf, and a list for this page alone", () => {
    const room = run(
      ana,
      heard({ members: ["Ana", "Bruno", "Carla"], asOf: 7 }),
      heard({ members: ["Ana", "Bruno"], asOf: 5 }),
    );
    expect(room.members).toEqual(["Ana", "Bruno", "Carla"]);
    expect(run(room, heard({ members: ["Ana", "Carla"], asOf: 8 })).members).toEqual(["Ana", "Carla"]);
    const mine = run(room, heard({ members: ["Ana"] }));
    expect(mine.members).toEqual(["Ana"]);
    expect(run(mine, heard({ members: ["Ana", "Bruno"], asOf: 6 })).members).toEqual(["Ana"]);
  });

  it("keeps a streaming answer below what others say meanwhile, then places it by its offset", () => {
    const room = run(
      ana,
      heard({ publicMessage: "Ana: Why?", from: "Ana", text: "Why?", id: "q", answerId: "a", offset: 3 }),
      heard({ botDelta: "Be", answerId: "a" }),
      heard(said(4, "meanwhile")),
      heard({ botDelta: "cause.", answerId: "a" }),
    );
    expect(texts(room)).toEqual(["Ana joined the chat", "hi", "Why?", "meanwhile", "Because."]);
    expect(room.lines.at(-1)).toMatchObject({ kind: "bot", status: "streaming" });
    const done = run(
      room,
      heard(said(6, "after")),
      heard({ publicMessage: "Bot: Because.", from: "Bot", text: "Because.", answerId: "a", offset: 5 }),
    );
    expect(texts(done)).toEqual(["Ana joined the chat", "hi", "Why?", "meanwhile", "Because.", "after"]);
    // A piece that comes after the end changes nothing.
    expect(run(done, heard({ botDelta: "!", answerId: "a" })).lines).toBe(done.lines);
  });
});

describe("coming back", () => {
  const away = run(ana, heard(said(3, "three")), heard(privately(1, 3, "psst")), { type: "closed", at: 50 });

  it("resumes on a new connection from where the page had read", () => {
    expect([away.open, away.me]).toEqual([false, "Ana"]);
    const back = run(away, { type: "open", language: "pt-BR", at: 100 });
    expect(back.outgoing).toEqual([
      {
        action: "setName",
        name: "Ana",
        language: "pt-BR",
        resume: { token: "s1.secret", offset: 3, privateOffset: 1 },
      },
    ]);
    expect(back.resuming).toBe(true);
    const resumed = run(
      back,
      heard({ resumeToken: "s1.secret", type: "session", name: "Ana", offset: 6, privateOffset: 1 }),
      heard({ members: ["Ana", "Bruno"], type: "members" }),
      heard(missed([said(4, "four"), said(5, "five")], false)),
    );
    expect(resumed.resuming).toBe(true);
    const done = run(resumed, heard(missed([said(6, "six"), privately(2, 5, "again")])));
    expect(done.resuming).toBe(false);
    expect(texts(done)).toEqual(["Ana joined the chat", "hi", "three", "psst", "four", "five", "again", "six"]);
    expect(done.members).toEqual(["Ana", "Bruno"]);
  });

  it("joins afresh under the same name when the token is refused, and says so", () => {
    const back = run(
      away,
      { type: "open", language: "en", at: 100 },
      heard({ error: "That resume token is wrong.", code: "resume_invalid", action: "setName" }),
    );
    expect(back.outgoing).toEqual([{ action: "setName", name: "Ana", language: "en", resume: true }]);
    expect([back.resuming, back.resumeFailed, back.session]).toEqual([false, true, null]);
    const joined = run(
      back,
      heard({ resumeToken: "s2.other", type: "session", name: "Ana", offset: 9, privateOffset: 0 }),
    );
    // What the room said meanwhile is asked for, from where the page had read.
    expect(joined.outgoing).toEqual([{ action: "sync", offset: 3, privateOffset: 0 }]);
    expect(joined.session).toEqual({ token: "s2.other", name: "Ana" });
    expect(joined.resumeFailed).toBe(false);
    expect(texts(joined).at(-1)).toBe("rejoined");
  });

  it("goes back to the join form, saying why, when the name is taken meanwhile", () => {
    const refused = run(
      away,
      { type: "open", language: "en", at: 100 },
      heard({ error: "That resume token is wrong.", code: "resume_invalid", action: "setName" }),
      heard({ error: "The name Ana is already taken.", code: "name_taken", action: "setName" }),
    );
    expect([refused.me, refused.asked, refused.resumeFailed]).toEqual([null, null, true]);
    expect(refused.nameError).toBe("The name Ana is already taken.");
    expect(run(refused, { type: "join", name: "Ana2", language: "en" }).resumeFailed).toBe(false);
  });

  it("after a reload, takes the tab's place back when joining under its name", () => {
    const session = { token: "s1.secret", name: "Ana", offset: 80, privateOffset: 2 };
    const reloaded: Room = run(emptyRoom, { type: "kept", session });
    expect(reloaded).toEqual({ ...emptyRoom, session });
    const back = run(reloaded, { type: "open", language: "en", at: 0 }, { type: "join", name: "ana", language: "en" });
    expect(back.outgoing).toEqual([
      {
        action: "setName",
        name: "Ana",
        language: "en",
        resume: { token: "s1.secret", offset: 30, privateOffset: 0 },
      },
    ]);
    const other = run(reloaded, { type: "open", language: "en", at: 0 }, { type: "join", name: "Bia", language: "en" });
    expect(other.outgoing).toEqual([{ action: "setName", name: "Bia", language: "en", resume: true }]);
  });

  it("takes a kept session only before joining", () => {
    const session = { token: "other.room", name: "Ana", offset: 1, privateOffset: 0 };
    expect(run(ana, { type: "kept", session }).session).toEqual(ana.session);
    const asking = run(emptyRoom, { type: "join", name: "Ana", language: "en" });
    expect(run(asking, { type: "kept", session }).session).toBeNull();
  });

  it("shows the history of a join again among the lines, not above an earlier-messages divider", () => {
    const rejoined = run(ana, heard({ history: [{ id: "old", from: "Bruno", text: "before" }] }));
    expect(texts(rejoined)).toEqual(["before", "Ana joined the chat", "hi"]);
    expect(rejoined.lines.some((line) => line.earlier)).toBe(false);
  });

  it("tells the server a new language with the same name", () => {
    const switched = run(ana, { type: "language", language: "pt-BR" });
    expect(switched.outgoing).toEqual([{ action: "setName", name: "Ana", language: "pt-BR" }]);
    expect(run(away, { type: "language", language: "pt-BR" }).outgoing).toEqual([]);
  });
});

describe("sending in order", () => {
  const say = (message: string, at = 0): Action => ({ type: "say", say: { action: "sendPublic", message }, at });
  const echo = (offset: number, text: string) => said(offset, text, "Ana");

  it("sends a message once the one before it came back", () => {
    const first = run(ana, say("one", 10));
    expect(first.outgoing).toEqual([{ action: "sendPublic", message: "one" }]);
    const queued = run(first, say("two", 11), say("three", 12));
    expect(queued.outgoing).toEqual([]);
    const second = run(queued, heard(echo(3, "one"), 20));
    expect(second.outgoing).toEqual([{ action: "sendPublic", message: "two" }]);
    // Someone else's line with the same words is no answer.
    expect(run(second, heard(said(4, "two"), 21)).outgoing).toEqual([]);
    const third = run(second, heard(echo(4, "two"), 30));
    expect(third.outgoing).toEqual([{ action: "sendPublic", message: "three" }]);
  });

  it("sends the next after a refusal, or after a while without an answer", () => {
    const queued = run(ana, say("one", 10), say("two", 11), say("three", 12));
    const refused = run(queued, heard({ error: "Too long.", code: "message_too_long", action: "sendPublic" }, 20));
    expect(refused.outgoing).toEqual([{ action: "sendPublic", message: "two" }]);
    expect(wakeAt(refused)).toBe(20 + ECHO_TIMEOUT_MS);
    expect(run(refused, { type: "tick", at: 20 + ECHO_TIMEOUT_MS - 1 }).outgoing).toEqual([]);
    const timedOut = run(refused, { type: "tick", at: 20 + ECHO_TIMEOUT_MS });
    expect(timedOut.outgoing).toEqual([{ action: "sendPublic", message: "three" }]);
  });

  it("waits for private messages and questions to come back too", () => {
    const queued = run(
      ana,
      { type: "say", say: { action: "sendPrivate", to: "Bruno", message: "psst" }, at: 1 },
      { type: "say", say: { action: "sendBot", message: "Why?" }, at: 2 },
      { type: "say", say: { action: "sendBot", message: "/reset" }, at: 3 },
      say("done", 4),
    );
    const afterPrivate = run(queued, heard(privately(1, 2, "psst", "Ana", "Bruno")));
    expect(afterPrivate.outgoing).toEqual([{ action: "sendBot", message: "Why?" }]);
    const afterQuestion = run(
      afterPrivate,
      heard({ publicMessage: "Ana: Why?", from: "Ana", text: "Why?", id: "q", answerId: "a", offset: 3 }),
    );
    expect(afterQuestion.outgoing).toEqual([{ action: "sendBot", message: "/reset" }]);
    const afterReset = run(
      afterQuestion,
      heard({ systemMessage: "Ana started afresh", event: "botReset", name: "Ana", id: "r", offset: 4 }),
    );
    expect(afterReset.outgoing).toEqual([{ action: "sendPublic", message: "done" }]);
  });

  it("sends a message lost in a drop again after resuming, unless it was among what was missed", () => {
    const inFlight = run(ana, say("one", 10), say("two", 11), { type: "closed", at: 12 });
    const back = run(
      inFlight,
      { type: "open", language: "en", at: 20 },
      heard({ resumeToken: "s1.secret", type: "session", name: "Ana", offset: 2, privateOffset: 0 }),
    );
    expect(back.outgoing).toEqual([]);
    expect(run(back, heard(missed([]))).outgoing).toEqual([{ action: "sendPublic", message: "one" }]);
    expect(run(back, heard(missed([echo(3, "one")]))).outgoing).toEqual([{ action: "sendPublic", message: "two" }]);
  });

  it("sends it again after joining afresh only once what was missed shows it did not arrive", () => {
    const inFlight = run(ana, say("one", 10), { type: "closed", at: 12 });
    const rejoined = run(
      inFlight,
      { type: "open", language: "en", at: 20 },
      heard({ error: "That resume token is wrong.", code: "resume_invalid", action: "setName" }),
      heard({ resumeToken: "s2.other", type: "session", name: "Ana", offset: 5, privateOffset: 0 }),
    );
    expect(rejoined.outgoing.filter((f) => f.action !== "setName")).toEqual([
      { action: "sync", offset: 2, privateOffset: 0 },
    ]);
    expect(run(rejoined, heard(missed([echo(3, "one")]))).outgoing).toEqual([]);
    expect(run(rejoined, heard(missed([]))).outgoing).toEqual([{ action: "sendPublic", message: "one" }]);
  });
});
