import { describe, expect, it } from "vitest";

import { type Line } from "./room";
import { dayKey, dayLabel, timeOfDay, timeline } from "./timeline";

// Local times, so that the tests hold in any time zone.
const at = (day: number, hour: number, minute = 0) => new Date(2026, 2, day, hour, minute).getTime();

const said = (id: string, ts: number | undefined, earlier = false): Line => ({
  kind: "public",
  id,
  place: [0, 2, 0],
  from: "Ana",
  text: id,
  toBot: false,
  ...(ts === undefined ? {} : { ts }),
  ...(earlier ? { earlier: true as const } : {}),
});

const shape = (lines: Line[]) =>
  timeline(lines).map((item) =>
    item.kind === "line" ? item.line.id : item.kind === "day" ? `day ${dayKey(item.ts)}` : "earlier",
  );

describe("timeline", () => {
  it("puts a separator where the local day changes, and only there", () => {
    const lines = [
      said("a", at(9, 23, 58)),
      said("b", at(9, 23, 59)),
      said("c", at(10, 0, 1)),
      said("d", undefined),
    ];
    expect(shape(lines)).toEqual(["day 2026-03-09", "a", "b", "day 2026-03-10", "c", "d"]);
  });

  it("never goes back a day: an answer begun before midnight keeps its time, after lines of the next day", () => {
    const lines = [said("q", at(9, 23, 59)), said("c", at(10, 0, 1)), said("answer", at(9, 23, 59))];
    expect(shape(lines)).toEqual(["day 2026-03-09", "q", "day 2026-03-10", "c", "answer"]);
  });

  it("puts the earlier-messages divider below the history, before what came live", () => {
    const lines = [said("h1", at(9, 10), true), said("h2", at(10, 9), true), said("now", at(10, 11))];
    expect(shape(lines)).toEqual(["day 2026-03-09", "h1", "day 2026-03-10", "h2", "earlier", "now"]);
  });

  it("puts the divider last while only the history has come", () => {
    expect(shape([said("h1", at(9, 10), true)])).toEqual(["day 2026-03-09", "h1", "earlier"]);
    expect(shape([said("now", at(9, 10))])).toEqual(["day 2026-03-09", "now"]);
    expect(shape([])).toEqual([]);
  });

  it("puts one divider below the history, lines fetched among it or above it", () => {
    const fetched = (id: string, ts: number): Line => ({ ...said(id, ts), fetched: true });
    const lines = [
      fetched("before", at(9, 9)),
      said("h1", at(9, 10), true),
      fetched("joined", at(9, 11)),
      said("h2", at(9, 12), true),
      said("now", at(9, 13)),
    ];
    expect(shape(lines)).toEqual(["day 2026-03-09", "before", "h1", "joined", "h2", "earlier", "now"]);
  });

  it("heads no line with its day while the room has lines before those held", () => {
    const lines = [said("a", at(9, 10)), said("b", at(9, 11)), said("c", at(10, 9))];
    const shown = timeline(lines, false).map((item) => item.key);
    expect(shown).toEqual(["public-a", "public-b", "day-2026-03-10", "public-c"]);
    // Earlier lines come in above: the first item is still a line, the one the view stays on.
    const more = timeline([said("z", at(8, 10)), ...lines], false).map((item) => item.key);
    expect(more).toEqual(["public-z", "day-2026-03-09", "public-a", "public-b", "day-2026-03-10", "public-c"]);
  });

  it("gives every item a key of its own", () => {
    const lines = [said("h1", at(9, 10), true), said("a", at(10, 9)), said("b", at(11, 9))];
    const keys = timeline(lines).map((item) => item.key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("dayLabel", () => {
  const words = { today: "Today", yesterday: "Yesterday" };
  const now = at(10, 8);

  it("says today and yesterday by the calendar, not by 24 hours", () => {
    expect(dayLabel(at(10, 0, 0), now, "en", words)).toBe("Today");
    expect(dayLabel(at(9, 23, 59), now, "en", words)).toBe("Yesterday");
    expect(dayLabel(at(9, 0, 1), now, "en", words)).toBe("Yesterday");
    expect(
      dayLabel(new Date(2026, 2, 1, 0, 0).getTime(), new Date(2026, 2, 2, 12).getTime(), "en", words),
    ).toBe("Yesterday");
  });

  it("names other days in the page's language, with the year when it is not this one", () => {
    expect(dayLabel(at(8, 12), now, "en-US", words)).toBe("Sunday, March 8");
    expect(dayLabel(at(8, 12), now, "pt-BR", words)).toBe("domingo, 8 de março");
    expect(dayLabel(new Date(2025, 11, 31, 12).getTime(), now, "en-US", words)).toBe(
      "Wednesday, December 31, 2025",
    );
  });
});

describe("timeOfDay", () => {
  it("is short and local", () => {
    expect(timeOfDay(at(9, 14, 3), "pt-BR")).toBe("14:03");
    expect(timeOfDay(at(9, 14, 3), "en-GB")).toBe("14:03");
    expect(timeOfDay(at(9, 14, 3), "en-US")).toMatch(/^2:03\sPM$/);
  });
});
