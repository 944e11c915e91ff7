import { describe, expect, it } from "vitest";

import { type Frame, type Line, type Room, emptyRoom, lineKey, roomReducer } from "./room";
import { KEEP, MIN_KEEP, hasEarlier, keepFrom } from "./window";

type Action = Parameters<typeof roomReducer>[1];
const run = (room: Room, ...actions: Action[]): Room => actions.reduce(roomReducer, room);
const heard = (frame: Frame, at = 0): Action => ({ type: "frame", frame, at });

const said = (offset: number, from = "Bruno"): Frame => ({
  publicMessage: `${from}: m${offset}`,
  type: "public",
  from,
  text: `m${offset}`,
  id: `m${offset}`,
  ts: 1000 + offset,
  offset,
});
const privately = (privateOffset: number, after: number): Frame => ({
  privateMessage: `Bruno: p${privateOffset}`,
  type: "private",
  from: "Bruno",
  to: "Ana",
  text: `p${privateOffset}`,
  id: `p${privateOffset}`,
  after,
  privateOffset,
});
const range = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i);

type Asked = { before: number } | { after: number };

/** The server's answer to `lines` (what was `asked`), in one post. */
const answer = (
  asked: Asked,
  frames: Frame[],
  from: number,
  to: number,
  edge: { start?: true; end?: true } = {},
): Frame => ({ lines: frames, type: "lines", ...asked, from, to, ...edge, complete: true });

/** The reader sees twenty lines from `first` on. */
const seeing = (first: number): Action => ({ type: "reading", view: { first, last: first + 19 } });

const texts = (room: Room) => room.lines.map((line) => ("text" in line ? line.text : line.kind));
const offsets = (room: Room) => room.lines.map((line) => line.offset);

/** Ana, keeping 100 lines, in a room where she joined after 200 frames were said. */
const ana = run(
  emptyRoom,
  { type: "keep", lines: 100 },
  { type: "open", language: "en", at: 0 },
  { type: "join", name: "Ana", language: "en" },
  heard({ resumeToken: "s1.secret", type: "session", name: "Ana", offset: 200, privateOffset: 0 }),
  heard({ systemMessage: "Ana joined the chat", type: "system", event: "joined", name: "Ana", offset: 201 }),
);

/** Ana after the room said 202 to `last`, following the newest. */
const after = (last: number, room = ana) => run(room, ...range(202, last).map((n) => heard(said(n))));

describe("a bounded memory", () => {
  it("keeps its setting from the page's address, from a floor", () => {
    expect([keepFrom(""), keepFrom("?keep=500"), keepFrom("?keep=5"), keepFrom("?keep=lots")]).toEqual([
      KEEP,
      500,
      KEEP,
      KEEP,
    ]);
    expect(keepFrom(`?keep=${MIN_KEEP}`)).toBe(MIN_KEEP);
  });

  it("begins at the offset it joined at, with earlier lines to fetch", () => {
    expect(ana.held).toMatchObject({ from: 201, until: null, loading: null });
    expect(hasEarlier(ana.held)).toBe(true);
    expect(run(ana, { type: "reset" }).held.keep).toBe(100);
  });

  it("lets go of the oldest lines while the reader follows the newest", () => {
    const busy = after(450);
    expect(busy.lines).toHaveLength(100);
    expect(offsets(busy)).toEqual(range(351, 450));
    expect(busy.held).toMatchObject({ from: 351, until: null });
  });

  it("fetches the lines before those it holds as the reader reaches the top, each once and in place", () => {
    const busy = after(450);
    const asking = run(busy, seeing(351), { type: "more", side: "earlier" });
    expect(asking.outgoing).toEqual([{ action: "lines", before: 351, limit: 50 }]);
    expect(asking.held.loading).toBe("earlier");
    // Asked once, however often the reader scrolls meanwhile.
    expect(run(asking, { type: "more", side: "earlier" }).outgoing).toEqual([]);

    const back = run(asking, heard(answer({ before: 351 }, range(301, 350).map((n) => said(n)), 301, 350)));
    expect(back.held).toMatchObject({ from: 301, loading: null });
    // The reader is at 351: the page keeps the lines around it, and lets go of the newest.
    expect(offsets(back)).toEqual(range(301, 400));
    expect(back.held.until).toBe(401);
    expect(back.lines.filter((line) => line.fetched).map((line) => line.offset)).toEqual(range(301, 350));
  });

  it("knows when the room keeps nothing earlier", () => {
    const asking = run(after(220), seeing(201), { type: "more", side: "earlier" });
    expect(asking.outgoing).toEqual([{ action: "lines", before: 201, limit: 50 }]);
    const first = run(asking, heard(answer({ before: 201 }, [said(199), said(200)], 0, 200, { start: true })));
    expect(first.held).toMatchObject({ from: 0, start: true, loading: null });
    expect(hasEarlier(first.held)).toBe(false);
    expect(run(first, { type: "more", side: "earlier" }).outgoing).toEqual([]);
    expect(texts(first).slice(0, 3)).toEqual(["m199", "m200", "Ana joined the chat"]);
  });

  it("places the reader's private lines among those fetched", () => {
    const asking = run(after(220), seeing(201), { type: "more", side: "earlier" });
    const back = run(
      asking,
      heard(answer({ before: 201 }, [said(198), privately(3, 198), said(199), privately(4, 200), said(200)], 198, 200)),
    );
    expect(texts(back).slice(0, 6)).toEqual(["m198", "p3", "m199", "m200", "p4", "Ana joined the chat"]);
  });

  it("keeps nothing of an answer it no longer waits for", () => {
    const asking = run(after(450), seeing(351), { type: "more", side: "earlier" });
    const stale = run(asking, heard(answer({ before: 201 }, [said(200)], 150, 200)));
    expect(stale).toEqual({ ...asking, outgoing: [] });
  });

  it("keeps nothing of the answer it waits for when it let go of the lines it adjoined", () => {
    const asking = run(after(450), seeing(400), { type: "more", side: "earlier" });
    // Following the newest again meanwhile: the page let go of 351.
    const moved = run(asking, { type: "reading", view: null }, heard(said(451)));
    expect(moved.held.from).toBe(352);
    const answered = run(moved, heard(answer({ before: 351 }, range(301, 350).map((n) => said(n)), 301, 350)));
    expect(answered.lines).toEqual(moved.lines);
    expect(answered.held).toEqual({ ...moved.held, loading: null });
  });

  it("takes an answer of several posts, and waits until the last", () => {
    const asking = run(after(450), seeing(351), { type: "more", side: "earlier" });
    const first = run(
      asking,
      heard({ ...answer({ before: 351 }, range(326, 350).map((n) => said(n)), 326, 350), complete: false }),
    );
    expect(first.held).toMatchObject({ from: 326, loading: "earlier" });
    const second = run(first, heard(answer({ before: 351 }, range(301, 325).map((n) => said(n)), 301, 325)));
    expect(second.held).toMatchObject({ from: 301, loading: null });
    expect(offsets(second)).toEqual(range(301, 400));
  });

  it("forgets a refused fetch, saying nothing, and asks again when the reader scrolls again", () => {
    const asking = run(after(450), seeing(351), { type: "more", side: "earlier" });
    const refused = run(asking, heard({ error: "Slow down.", code: "rate_limited", action: "lines", retryAfter: 2 }));
    expect(refused.lines).toEqual(asking.lines);
    expect(refused.held.loading).toBeNull();
    expect(run(refused, { type: "more", side: "earlier" }).outgoing).toEqual([
      { action: "lines", before: 351, limit: 50 },
    ]);
  });

  describe("far back", () => {
    /** The reader at 301, the newest from 401 on let go of. */
    const back = run(
      after(450),
      seeing(351),
      { type: "more", side: "earlier" },
      heard(answer({ before: 351 }, range(301, 350).map((n) => said(n)), 301, 350)),
      seeing(301),
    );

    it("keeps no line said meanwhile among those it let go of", () => {
      const meanwhile = run(back, heard(said(451)), heard(privately(1, 451)));
      expect(meanwhile.lines).toEqual(back.lines);
      expect(meanwhile.offsets.last).toBe(451); // heard all the same
    });

    it("fetches the newer lines as the reader comes down, and follows the room again once it has them all", () => {
      const down = run(back, heard(said(451)), seeing(380), { type: "more", side: "later" });
      expect(down.outgoing).toEqual([{ action: "lines", after: 400, limit: 50 }]);
      const page = run(down, heard(answer({ after: 400 }, range(401, 450).map((n) => said(n)), 401, 450)));
      expect(page.held).toMatchObject({ until: 451, loading: null });
      expect(offsets(page)).toEqual(range(351, 450));

      const last = run(page, seeing(440), { type: "more", side: "later" });
      expect(last.outgoing).toEqual([{ action: "lines", after: 450, limit: 50 }]);
      // Said while that was asked for: kept, as the answer joins it on.
      const during = run(last, heard(said(452)), heard(said(453)));
      expect(offsets(during).slice(-2)).toEqual([452, 453]);
      const caughtUp = run(during, heard(answer({ after: 450 }, [said(451), said(452)], 451, 452, { end: true })));
      expect(caughtUp.held).toMatchObject({ until: null, loading: null });
      expect(offsets(caughtUp).slice(-4)).toEqual([450, 451, 452, 453]);
      const following = run(caughtUp, { type: "reading", view: null }, heard(said(454)));
      expect(offsets(following).slice(-2)).toEqual([453, 454]);
    });

    it("lets go of what was said meanwhile when the newer lines asked for do not reach it", () => {
      const down = run(back, seeing(380), { type: "more", side: "later" });
      const during = run(down, heard(said(451)));
      const page = run(during, heard(answer({ after: 400 }, range(401, 420).map((n) => said(n)), 401, 420)));
      expect(page.held.until).toBe(421);
      expect(offsets(page).at(-1)).toBe(420);
    });

    it("goes back to the newest when the reader writes", () => {
      const writing = run(back, heard(said(451)), {
        type: "say",
        say: { action: "sendPublic", message: "hi" },
        at: 5,
      });
      expect(writing.outgoing).toEqual([
        { action: "lines", before: 452, limit: 50 },
        { action: "sendPublic", message: "hi" },
      ]);
      expect(writing.lines).toEqual([]);
      expect(writing.held).toMatchObject({ from: 452, until: null, reading: null, loading: "earlier" });
      const echoed = run(writing, heard(said(452, "Ana")));
      expect(offsets(echoed)).toEqual([452]);
      const filled = run(echoed, heard(answer({ before: 452 }, range(402, 451).map((n) => said(n)), 402, 451)));
      expect(offsets(filled)).toEqual(range(402, 452));
    });
  });
});

/** A room of `size` frames and a page reading it: frames said live in
 * bursts, the reader moving up and down, the server answering `lines` as
 * papo does (some answers late, some in several posts). */
function simulate(seed: number, steps: number) {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const frames = new Map<number, Frame>();
  let newest = 200;
  for (const n of range(1, 200)) frames.set(n, said(n));
  frames.delete(120); // an offset an invocation took and never wrote
  let room = run(ana, ...range(202, 260).map((n) => heard(said(n))));
  frames.set(201, { systemMessage: "Ana joined the chat", offset: 201 });
  for (const n of range(202, 260)) frames.set(n, said(n));
  newest = 260;
  const inFlight: Frame[] = [];

  const serve = (request: Frame) => {
    const limit = Number(request.limit);
    const kept = [...frames.keys()].sort((a, b) => a - b);
    if (typeof request.before === "number") {
      const below = kept.filter((n) => n < Number(request.before));
      const page = below.slice(-limit);
      const start = page.length < limit;
      const from = start ? 0 : page[0];
      const posts = chunks(page.reverse(), 1 + Math.floor(random() * 3)).map((chunk) => chunk.reverse());
      let to = Number(request.before) - 1;
      posts.forEach((chunk, index) => {
        const last = index === posts.length - 1;
        const low = last ? from : chunk[0];
        const lines = chunk.map((n) => frames.get(n)!);
        const edge = last && start ? { start: true as const } : {};
        inFlight.push({ ...answer({ before: Number(request.before) }, lines, low, to, edge), complete: last });
        to = low - 1;
      });
    } else {
      const above = kept.filter((n) => n > Number(request.after));
      const page = above.slice(0, limit);
      const end = page.length < limit;
      const from = Number(request.after) + 1;
      const to = end ? Math.max(from - 1, page.at(-1) ?? 0) : page.at(-1)!;
      const lines = page.map((n) => frames.get(n)!);
      inFlight.push(answer({ after: Number(request.after) }, lines, from, to, end ? { end: true } : {}));
    }
  };

  for (let i = 0; i < steps; i++) {
    const roll = random();
    if (roll < 0.45) {
      newest += 1;
      frames.set(newest, said(newest));
      room = run(room, heard(said(newest)));
    } else if (roll < 0.6 && inFlight.length) {
      room = run(room, heard(inFlight.shift()!));
    } else if (roll < 0.75) {
      const places = room.lines.map((line) => line.place[0]).filter(Number.isFinite);
      const at = random() < 0.3 ? null : (places[Math.floor(random() * places.length)] ?? null);
      room = run(room, at === null ? { type: "reading", view: null } : seeing(at));
    } else if (roll < 0.85) {
      room = run(room, { type: "more", side: "earlier" });
    } else if (roll < 0.95) {
      room = run(room, { type: "more", side: "later" });
    } else if (roll < 0.97) {
      room = run(room, { type: "newest" });
    }
    for (const frame of room.outgoing) if (frame.action === "lines") serve(frame);
    check(room, frames);
  }
  for (const post of inFlight) room = run(room, heard(post));
  check(room, frames);
  return room;
}

function chunks<T>(items: T[], count: number): T[][] {
  const size = Math.max(1, Math.ceil(items.length / count));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out.length ? out : [[]];
}

/** What the page holds: at most `keep` lines, each once, and every frame the
 * room kept from `from` on, up to `until`, without a gap. */
function check(room: Room, frames: Map<number, Frame>) {
  const keys = room.lines.map(lineKey);
  expect(new Set(keys).size).toBe(keys.length);
  expect(room.lines.length).toBeLessThanOrEqual(room.held.keep);
  const { from, until } = room.held;
  const held = room.lines.map((line: Line) => line.offset).filter((n) => n !== undefined);
  expect(held).toEqual([...held].sort((a, b) => a - b));
  if (from === null || held.length === 0) return;
  const top = until === null ? Math.max(...held) : until - 1;
  const expected = [...frames.keys()].filter((n) => n >= from && n <= top).sort((a, b) => a - b);
  expect(held.filter((n) => n >= from && n <= top)).toEqual(expected);
}

describe("a page that reads back and forth while the room talks", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])("holds each line once and none missing (run %i)", (seed) => {
    const room = simulate(seed, 1500);
    expect(room.lines.length).toBeGreaterThanOrEqual(50);
  });
});
