/**
 * The "new messages" divider: above the first message from someone else
 * after the line where this person had stopped reading (their read marker,
 * as the server kept it), among the day separators and lines of `timeline.ts`.
 */

import { isMessageFromOthers } from "./attention";
import type { Item } from "./timeline";

export type Shown = Item | { kind: "unread"; key: "unread" };

/** `items` with the divider above the first unread message from others
 * (none when the marker is unknown, 0, or nothing after it is unread). */
export function withDivider(items: readonly Item[], marker: number | null, me: string | null): Shown[] {
  if (!marker) return [...items];
  const first = items.findIndex(
    (item) =>
      item.kind === "line" &&
      Number.isFinite(item.line.place[0]) &&
      item.line.place[0] > marker &&
      isMessageFromOthers(item.line, me),
  );
  if (first < 0) return [...items];
  // Above the day separator that heads the message, when one does.
  const at = first > 0 && items[first - 1].kind === "day" ? first - 1 : first;
  return [...items.slice(0, at), { kind: "unread", key: "unread" }, ...items.slice(at)];
}
