import { describe, expect, it } from "vitest";

import { withDivider } from "./divider";
import { notice, remember, remembered } from "./notify";
import {
  TYPING_SHOWN_MS,
  Throttle,
  aware,
  isAway,
  keptRooms,
  noAwareness,
  typingEnds,
  typists,
} from "./presence";
import type { Line } from "./room";
import { timeline } from "./timeline";

/** A Storage of the page's, held in a Map. */
function storageOf(items: Record<string, string>): Storage {
  const map = new Map(Object.entries(items));
  return {
    get length() {
      return map.size;
    },
    key: (index: number) => [...map.keys()][index] ?? null,
    getItem: (key: string) => map.get(key) ?? null,
    setItem: (key: string, value: string) => void map.set(key, value),
    removeItem: (key: string) => void map.delete(key),
    clear: () => map.clear(),
  };
}

describe("presence", () => {
  it("keeps each change, and a complete list replaces what it knew", () => {
    let state = aware(noAwareness, { type: "presence", presence: { Bruno: "away" }, here: 1, away: 1 }, "main", 0);
    expect(isAway(state, "Bruno")).toBe(true);
    expect(state.counts).toEqual({ here: 1, away: 1 });
    state = aware(state, { type: "presence", presence: { Carla: "away" }, here: 1, away: 2 }, "main", 0);
    expect([isAway(state, "Bruno"), isAway(state, "Carla")]).toEqual([true, true]);
    state = aware(
      state,
      { type: "presence", presence: { Ana: "here", Bruno: "here" }, complete: true, here: 2, away: 0 },
      "main",
      0,
    );
    expect([isAway(state, "Bruno"), isAway(state, "Carla")]).toEqual([false, false]);
  });

  it("counts a big room whose names it is not told, forgetting those it knew", () => {
    const known = aware(
      noAwareness,
      { type: "presence", presence: { Ana: "here", Bruno: "away" }, complete: true, here: 29, away: 4 },
      "main",
      0,
    );
    expect(isAway(known, "Bruno")).toBe(true);
    const state = aware(known, { type: "presence", presence: {}, here: 30, away: 4 }, "main", 0);
    expect(state.counts).toEqual({ here: 30, away: 4 });
    expect(state.presence).toEqual({});
  });

  it("ignores what is no presence", () => {
    const state = aware(noAwareness, { type: "presence", presence: { Ana: "asleep" } }, "main", 0);
    expect(state.presence).toEqual({});
  });
});

describe("typing", () => {
  it("shows a typist for a few seconds, until their message comes, never oneself", () => {
    let state = aware(noAwareness, { type: "typing", typing: "Ana" }, "main", 1000);
    state = aware(state, { type: "typing", typing: "Me" }, "main", 1000);
    expect(typists(state, 1000, "Me")).toEqual(["Ana"]);
    expect(typingEnds(state, 1000)).toBe(1000 + TYPING_SHOWN_MS);
    expect(typists(state, 1000 + TYPING_SHOWN_MS, "Me")).toEqual([]);
    expect(typingEnds(state, 1000 + TYPING_SHOWN_MS)).toBeNull();
    state = aware(state, { type: "typing", typing: "Ana" }, "main", 2000);
    state = aware(state, { type: "public", from: "Ana", text: "hi" }, "main", 2500);
    expect(typists(state, 2500, "Me")).toEqual([]);
  });

  it("throttles what goes out", () => {
    const throttle = new Throttle(3000);
    expect([0, 1000, 2999, 3000, 3001].map((at) => throttle.take(at))).toEqual([true, false, false, true, false]);
    expect(throttle.next()).toBe(6000);
  });
});

describe("read markers", () => {
  it("keeps where the person had stopped in this room, and counts the others", () => {
    let state = aware(
      noAwareness,
      {
        type: "unread",
        unread: { main: { read: 7, newest: 9, count: 2 }, team: { read: 3, newest: 10, count: 4 } },
      },
      "main",
      0,
    );
    expect(state.marker).toBe(7);
    expect(state.unread).toEqual({ team: { read: 3, newest: 10, count: 4 } });
    state = aware(state, { type: "unread", unread: { main: { read: 9, newest: 9, count: 0 } } }, "main", 0);
    expect(state.marker).toBe(7); // the divider stays as they read on
  });

  it("finds the rooms this tab kept a session in, but its own", () => {
    const storage = storageOf({
      "papo.session": JSON.stringify({ token: "t-main" }),
      "papo.session.team": JSON.stringify({ token: "t-team" }),
      "papo.session.broken": "{",
      "papo.language": "en",
    });
    expect(keptRooms(storage, "team")).toEqual({ main: "t-main" });
    expect(keptRooms(storage, "other")).toEqual({ main: "t-main", team: "t-team" });
  });

  const line = (offset: number, from: string): Line => ({
    kind: "public",
    id: `${offset}`,
    ts: 1_795_737_600_000,
    place: [offset, 0, 0],
    from,
    text: "hi",
    toBot: false,
  });

  it("puts the divider above the first message from others after the marker", () => {
    const items = timeline([line(3, "Ana"), line(4, "Me"), line(5, "Bruno"), line(6, "Ana")]);
    const shown = withDivider(items, 3, "Me").map((item) => (item.kind === "line" ? item.line.id : item.kind));
    expect(shown).toEqual(["day", "3", "4", "unread", "5", "6"]);
    expect(withDivider(items, 6, "Me").some((item) => item.kind === "unread")).toBe(false);
    expect(withDivider(items, null, "Me").some((item) => item.kind === "unread")).toBe(false);
    expect(withDivider(items, 0, "Me").some((item) => item.kind === "unread")).toBe(false);
  });
});

describe("notifications", () => {
  it("are for a mention of one's name or a private message, from someone else", () => {
    expect(notice({ type: "public", from: "Bruno", text: "@Ana look" }, "Ana")).toEqual({
      from: "Bruno",
      text: "@Ana look",
    });
    expect(notice({ type: "public", from: "Bruno", text: "Banana bread" }, "Ana")).toBeNull();
    expect(notice({ type: "private", from: "Bruno", to: "Ana", text: "psst" }, "Ana")).not.toBeNull();
    expect(notice({ type: "private", from: "Ana", to: "Bruno", text: "psst" }, "Ana")).toBeNull();
    expect(notice({ type: "public", from: "Ana", text: "I am Ana" }, "Ana")).toBeNull();
    expect(notice({ type: "public", from: "Bruno", text: "@Ana" }, null)).toBeNull();
  });

  it("remember the choice", () => {
    const storage = storageOf({});
    expect(remembered(storage)).toBeNull();
    remember(storage, "on");
    expect(remembered(storage)).toBe("on");
  });
});
