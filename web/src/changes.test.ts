import { describe, expect, it } from "vitest";

import { deleteFrame, editFrame, editable, reactFrame, reactable } from "./changes";
import { type Line, type Room, emptyRoom, receive, roomReducer } from "./room";

const play = (...frames: Record<string, unknown>[]): Room =>
  frames.reduce((room, frame) => receive(room, frame), emptyRoom);

const said = (offset: number, text: string, from = "Ana") => ({
  publicMessage: `${from}: ${text}`,
  type: "public",
  from,
  text,
  id: `m${offset}`,
  ts: 1000 + offset,
  offset,
});

const joined = { systemMessage: "Ana joined the chat", type: "system", id: "s1", offset: 1 };

const lineAt = (room: Room, offset: number): Line | undefined => room.lines.find((l) => l.offset === offset);

describe("lines that change", () => {
  it("shows an edit, marked, in the line it names", () => {
    const room = play(joined, said(2, "helo"), {
      edited: "hello",
      type: "edited",
      line: 2,
      id: "m2",
      from: "Ana",
      ts: 5000,
      offset: 3,
    });
    expect(lineAt(room, 2)).toMatchObject({ kind: "public", text: "hello", editedAt: 5000 });
    expect(room.lines).toHaveLength(2);
    expect(room.offsets.last).toBe(3);
  });

  it("shows a placeholder for a deleted line, without its reactions", () => {
    const room = play(
      joined,
      said(2, "secret"),
      { reactions: [{ emoji: "👍", by: ["Bea"] }], type: "reactions", line: 2, id: "m2", offset: 3 },
      { deleted: true, type: "deleted", line: 2, id: "m2", from: "Ana", ts: 9, offset: 4 },
    );
    const line = lineAt(room, 2);
    expect(line).toMatchObject({ kind: "public", text: "", deleted: true });
    expect(line?.reactions).toBeUndefined();
  });

  it("keeps the reactions a frame lists, all of them", () => {
    const react = (offset: number, reactions: unknown[]) => ({
      reactions,
      type: "reactions",
      line: 2,
      id: "m2",
      offset,
    });
    const room = play(
      joined,
      said(2, "hi"),
      react(3, [{ emoji: "👍", by: ["Ana", "Bea"] }]),
      react(4, [{ emoji: "🎉", by: ["Bea"] }]),
    );
    expect(lineAt(room, 2)?.reactions).toEqual([{ emoji: "🎉", by: ["Bea"] }]);
    expect(lineAt(play(joined, said(2, "hi"), react(3, [])), 2)?.reactions).toBeUndefined();
  });

  it("waits for the lines before a change, as for any frame of the stream", () => {
    const edit = { edited: "hello", type: "edited", line: 2, id: "m2", offset: 3 };
    const early = play(joined, edit);
    expect(early.lines).toHaveLength(1);
    const room = receive(early, said(2, "helo"));
    expect(lineAt(room, 2)).toMatchObject({ text: "hello" });
  });

  it("reads the marks of lines kept changed: fetched, missed, or in the history", () => {
    const kept = { ...said(2, "hello"), editedAt: 7, reactions: [{ emoji: "👍", by: ["Bea"] }] };
    const gone = { ...said(3, ""), publicMessage: "Ana: (message deleted)", deletedAt: 8 };
    const missed = play(joined, { missed: [kept, gone], complete: true });
    expect(lineAt(missed, 2)).toMatchObject({ editedAt: 7, reactions: [{ emoji: "👍", by: ["Bea"] }] });
    expect(lineAt(missed, 3)).toMatchObject({ deleted: true, text: "" });
    const history = play({ history: [kept, { ...gone, type: "public" }] });
    expect(history.lines.map((l) => [l.editedAt, l.deleted])).toEqual([
      [7, undefined],
      [undefined, true],
    ]);
  });

  it("lets a change of a line the page does not hold go", () => {
    const room = play(joined, { deleted: true, type: "deleted", line: 1, id: "x", offset: 2 });
    expect(lineAt(room, 1)?.kind).toBe("system");
  });

  it("sends what the person asks for, once joined and connected", () => {
    let room = play(joined, said(2, "hi"));
    room = { ...room, open: true, me: "Ana" };
    for (const frame of [editFrame(2, "hello"), deleteFrame(2), reactFrame(2, "👍", false)]) {
      expect(roomReducer(room, { type: "change", frame }).outgoing).toEqual([frame]);
    }
    expect(roomReducer({ ...room, open: false }, { type: "change", frame: deleteFrame(2) }).outgoing).toEqual([]);
  });

  it("offers one's own public lines to edit, and any message to react to", () => {
    const room = play(joined, said(2, "mine"), said(3, "hers", "Bea"));
    const [system, mine, hers] = room.lines;
    expect([system, mine, hers].map((line) => editable(line, "Ana"))).toEqual([false, true, false]);
    expect([system, mine, hers].map(reactable)).toEqual([false, true, true]);
    expect(editable({ ...mine, deleted: true }, "Ana")).toBe(false);
  });
});
