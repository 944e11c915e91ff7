/**
 * How much of the room the page keeps: at most `keep` lines, those nearest
 * where the reader is. In a room that never stops talking, the page lets go
 * of the oldest lines while the reader follows the newest, and of the newest
 * while they read far back; what it let go of comes back from the server
 * (the `lines` action) as the reader scrolls to it.
 *
 * The room's lines stand at room offsets (`Place`): a room line at its
 * offset, a private line after the room line its `after` names. The page
 * holds every line placed from offset `from` on, up to `until` (null: up to
 * the newest); a line it holds outside that span (the history a newcomer
 * received, a late line) is extra. A `lines` answer names the span it holds
 * whole, so the page grows its span only by spans that adjoin it: no line
 * twice, no gap.
 */

import { type Line } from "./room";

/** Lines the page keeps unless its address says otherwise (`?keep=`). */
export const KEEP = 3000;
/** The fewest it keeps: more than a tall screen shows, with room to scroll. */
export const MIN_KEEP = 100;
/** Lines asked for at a time, at most. */
export const PAGE = 100;

/** The places of the first and last lines in view. */
export interface View {
  first: number;
  last: number;
}

export interface Held {
  /** The most lines kept. */
  keep: number;
  /** The page holds every line placed at this room offset or later; null: not begun. */
  from: number | null;
  /** The room keeps nothing earlier than `from`. */
  start: boolean;
  /** The page let go of the lines placed here and later; null: it holds up to the newest. */
  until: number | null;
  /** Lines asked for and not yet all come: before `asked`, or after it. */
  loading: "earlier" | "later" | null;
  asked: number | null;
  /** While newer lines are being fetched, the first place the page let go of
   * at the bottom since it asked (the lines heard meanwhile no longer join on
   * from there); null: none. */
  cut: number | null;
  /** What the reader sees: the places of the first and last lines in view; null: following the newest. */
  reading: View | null;
  /** Which way the reader last went for more lines: the page lets go of lines on the other side first. */
  heading: "earlier" | "later";
}

export const emptyHeld: Held = {
  keep: KEEP,
  from: null,
  start: false,
  until: null,
  loading: null,
  asked: null,
  cut: null,
  reading: null,
  heading: "later",
};

/** `?keep=` of the page's address, a whole number of lines from `MIN_KEEP`; else `KEEP`. */
export function keepFrom(search: string): number {
  const asked = Number(new URLSearchParams(search).get("keep") || NaN);
  return Number.isSafeInteger(asked) && asked >= MIN_KEEP ? asked : KEEP;
}

/** How many lines to ask for at a time: no more than half of what is kept,
 * so that a page of them stays beside the line the reader is at. */
export const pageOf = (held: Held): number => Math.min(PAGE, Math.floor(held.keep / 2));

/** Whether the room may have lines before those the page holds. */
export const hasEarlier = (held: Held): boolean => held.from !== null && held.from > 1 && !held.start;

/** A line the page keeps wherever it stands: an answer still streaming (it
 * settles at its offset), or one of the page's own (a refusal). */
const anywhere = (line: Line): boolean => !Number.isFinite(line.place[0]) || line.place[1] === 2;

/** Whether a line heard live is kept: not where the page let go of lines,
 * unless newer lines are being fetched (their answer joins it on). */
export const keeps = (held: Held, line: Line): boolean =>
  held.until === null || held.loading === "later" || anywhere(line) || line.place[0] < held.until;

/** Where the page holds lines to after a `lines` answer of newer lines up
 * to `to`: what was heard meanwhile joins on, unless some of it was let go. */
export const untilAfter = (held: Held, to: number, end: boolean): number | null =>
  !end ? to + 1 : held.cut === null ? null : Math.max(held.cut, to + 1);

/** Whether a `lines` post answers what the page waits for (it repeats what was asked). */
export const awaited = (held: Held, before: unknown, after: unknown): boolean =>
  held.loading === "earlier" ? before === held.asked : held.loading === "later" && after === held.asked;

/** The span a `lines` answer holds, if it adjoins what the page holds: "earlier" or "later". */
export function adjoins(held: Held, from: number, to: number): "earlier" | "later" | null {
  if (held.from !== null && to === held.from - 1) return "earlier";
  if (held.until !== null && from === held.until) return "later";
  return null;
}

/** The lines the page keeps, and what it then holds: beyond `until` nothing
 * (once no newer lines are coming), and at most `keep`. It lets go of lines
 * behind the way the reader is heading, keeping a quarter of `keep` on that
 * side of what they see, then of lines ahead. A place's lines go together,
 * so the span stays whole. */
export function bounded(lines: Line[], held: Held): [Line[], Held] {
  if (lines.length <= held.keep && held.until === null) return [lines, held];
  let kept = lines;
  const until = held.until;
  if (until !== null && held.loading !== "later" && kept.some((line) => !keeps(held, line))) {
    kept = kept.filter((line) => keeps(held, line));
  }
  const some = kept.some(anywhere) ? kept.filter((line) => !anywhere(line)) : kept;
  if (some.length <= held.keep) return [kept, held];
  const seen = held.reading;
  const top = seen === null ? some.length - 1 : firstAt(some, seen.first);
  const bottom = seen === null ? some.length - 1 : Math.max(top, firstAt(some, seen.last + 1) - 1);
  const over = some.length - held.keep;
  const margin = Math.floor(held.keep / 4);
  const behind =
    held.heading === "later"
      ? Math.min(over, Math.max(0, top - margin))
      : Math.min(over, Math.max(0, some.length - 1 - bottom - margin));
  let first = held.heading === "later" ? behind : over - behind;
  let end = first + held.keep;
  while (first > 0 && first < some.length && some[first].place[0] === some[first - 1].place[0]) first++;
  while (end < some.length && end > first && some[end - 1].place[0] === some[end].place[0]) end--;
  if (first >= end) return [kept, held]; // more than `keep` lines in one place: kept whole
  const low = first > 0 ? some[first].place[0] : null;
  const high = end < some.length ? some[end].place[0] : null;
  const next: Held = {
    ...held,
    ...(low === null ? {} : { from: held.from === null ? low : Math.max(held.from, low), start: false }),
    ...(high === null ? {} : { until: until === null ? high : Math.min(until, high) }),
    ...(high !== null && held.loading === "later" ? { cut: Math.min(held.cut ?? high, high) } : {}),
  };
  return [
    kept.filter(
      (line) =>
        anywhere(line) || ((low === null || line.place[0] >= low) && (high === null || line.place[0] < high)),
    ),
    next,
  ];
}

/** The index of the first line placed at `place` or later (the number of lines if none is). */
function firstAt(lines: readonly Line[], place: number): number {
  const index = lines.findIndex((line) => line.place[0] >= place);
  return index < 0 ? lines.length : Math.max(0, index);
}
