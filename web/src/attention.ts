/**
 * What asks for the reader's attention: messages that arrived while the tab
 * was hidden (counted in the title), and lines that name them or are private.
 */

import { type Line, lineKey } from "./room";

/** A message someone else said: people's messages and the bot's answers. */
export function isMessageFromOthers(line: Line, me: string | null): boolean {
  switch (line.kind) {
    case "public":
    case "private":
      return line.from !== me;
    case "bot":
      return true;
    default:
      return false;
  }
}

/** The lines on the page when it was last seen, to count what came after. */
export const seenLines = (lines: readonly Line[]): ReadonlySet<string> => new Set(lines.map(lineKey));

/** Messages from others not among `seen` (a streaming answer counts once). */
export function unreadCount(lines: readonly Line[], seen: ReadonlySet<string>, me: string | null): number {
  return lines.filter((line) => !seen.has(lineKey(line)) && isMessageFromOthers(line, me)).length;
}

/** The page's title: "(3) papo" while 3 messages wait unread. */
export const pageTitle = (base: string, unread: number): string =>
  unread > 0 ? `(${unread}) ${base}` : base;

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether `text` names `name` as a whole word ("@Ana", "ana," but not "Banana"). */
export function names(text: string, name: string): boolean {
  if (!name.trim()) return false;
  const word = new RegExp(`(^|[^\\p{L}\\p{N}_])${escape(name)}(?![\\p{L}\\p{N}_])`, "iu");
  return word.test(text);
}

/** A line to highlight for `me`: private to or from them, or naming them. */
export function wantsAttention(line: Line, me: string | null): boolean {
  if (me === null) return false;
  switch (line.kind) {
    case "private":
      return true;
    case "public":
      return line.from !== me && names(line.text, me);
    case "bot":
      return names(line.text, me);
    default:
      return false;
  }
}
