/**
 * The room's lines as the page lays them out: a separator where the day
 * changes, and the "earlier messages" divider below the history a newcomer
 * received. Days are the viewer's local days.
 */

import { type Line, lineKey } from "./room";

export type Item =
  | { kind: "day"; key: string; ts: number }
  | { kind: "earlier"; key: string }
  | { kind: "line"; key: string; line: Line };

/** The local calendar day of a moment, as `YYYY-MM-DD`. */
export function dayKey(ts: number): string {
  const date = new Date(ts);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The items for `lines`. With `fromTheStart` false, the room has lines
 * before the first the page holds: that line's day may have begun among
 * them, so no separator heads it (the next day's does). A separator at the
 * top would also be the item the view holds on while earlier lines come in
 * above (it keeps its key, its day), keeping the reader at the top, past the
 * lines that came. */
export function timeline(lines: readonly Line[], fromTheStart = true): Item[] {
  const items: Item[] = [];
  const first = fromTheStart ? undefined : lines.find((line) => line.ts !== undefined)?.ts;
  let day: string | null = first === undefined ? null : dayKey(first);
  let dayEnd = -Infinity; // when the day of the last separator ends
  // Lines fetched as the reader scrolls up may stand among the history: the divider goes below it all.
  let lastEarlier = lines.length - 1;
  while (lastEarlier >= 0 && !lines[lastEarlier].earlier) lastEarlier--;
  for (const [index, line] of lines.entries()) {
    if (index === lastEarlier + 1 && lastEarlier >= 0) items.push({ kind: "earlier", key: "earlier" });
    // Later days only: a line placed by its offset may carry an earlier time.
    if (line.ts !== undefined && line.ts >= dayEnd) {
      const key = dayKey(line.ts);
      if (day === null || key > day) {
        items.push({ kind: "day", key: `day-${key}`, ts: line.ts });
        day = key;
        const date = new Date(line.ts);
        dayEnd = new Date(date.getFullYear(), date.getMonth(), date.getDate() + 1).getTime();
      }
    }
    items.push({ kind: "line", key: lineKey(line), line });
  }
  if (lastEarlier >= 0 && lastEarlier === lines.length - 1) items.push({ kind: "earlier", key: "earlier" });
  return items;
}

export interface DayWords {
  today: string;
  yesterday: string;
}

/** "Today", "Yesterday", else the date (with its year when not this year's). */
export function dayLabel(ts: number, now: number, locale: string, words: DayWords): string {
  const today = new Date(now);
  const key = dayKey(ts);
  if (key === dayKey(now)) return words.today;
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (key === dayKey(yesterday.getTime())) return words.yesterday;
  const sameYear = new Date(ts).getFullYear() === today.getFullYear();
  return new Intl.DateTimeFormat(locale, {
    weekday: "long",
    day: "numeric",
    month: "long",
    ...(sameYear ? {} : { year: "numeric" }),
  }).format(ts);
}

/** The time of day, short and local: "14:03", "2:03 PM". */
export function timeOfDay(ts: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { timeStyle: "short" }).format(ts);
}

/** The whole moment, for a tooltip. */
export function fullTime(ts: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "medium" }).format(ts);
}
