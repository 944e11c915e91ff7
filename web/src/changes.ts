/**
 * Lines that change after they were said: a person edits or deletes their
 * own, anyone adds or removes an emoji reaction. The server changes the line
 * where the room keeps it (so history, `sync` and `lines` give its latest
 * version, with `editedAt`, `deletedAt` or `reactions`), and tells everyone in
 * a frame of the room's stream (`edited`, `deleted`, `reactions`) that names
 * the line by its offset (`line`). Pure functions: `room.ts` applies them.
 */

import { type Frame, type Line } from "./room";

/** One emoji on a line, and who reacted with it. */
export interface Reaction {
  emoji: string;
  by: string[];
}

/** What a line shows of its changes. */
export interface Changes {
  /** When it was last edited (epoch ms). */
  editedAt?: number;
  /** Deleted by its sender: a placeholder stands in its place. */
  deleted?: true;
  reactions?: Reaction[];
}

/** A few emoji offered at a click; any other is one the person types. */
export const QUICK_REACTIONS: readonly string[] = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

const reactionsOf = (value: unknown): Reaction[] =>
  Array.isArray(value)
    ? value.filter((r) => typeof r?.emoji === "string" && Array.isArray(r.by) && r.by.length > 0)
    : [];

/** What a line's frame (live, missed, fetched or in the history) says of its changes. */
export function changesOf(frame: Frame): Changes {
  if (isNumber(frame.deletedAt)) return { deleted: true };
  const reactions = reactionsOf(frame.reactions);
  return {
    ...(isNumber(frame.editedAt) ? { editedAt: frame.editedAt } : {}),
    ...(reactions.length ? { reactions } : {}),
  };
}

/** Whether a frame tells of a change to a line (and names it). */
export const isChange = (frame: Frame): boolean =>
  isNumber(frame.line) &&
  ((frame.type === "edited" && typeof frame.edited === "string") ||
    (frame.type === "deleted" && frame.deleted === true) ||
    (frame.type === "reactions" && Array.isArray(frame.reactions)));

/** The line a change frame names, changed; any other as it was. */
function change(line: Line, frame: Frame): Line {
  if (line.offset !== frame.line || (line.kind !== "public" && line.kind !== "bot")) return line;
  switch (frame.type) {
    case "edited":
      return {
        ...line,
        text: String(frame.edited),
        ...(isNumber(frame.ts) ? { editedAt: frame.ts } : {}),
      };
    case "deleted":
      return { ...line, text: "", deleted: true, editedAt: undefined, reactions: undefined };
    case "reactions": {
      const reactions = reactionsOf(frame.reactions);
      return { ...line, reactions: reactions.length ? reactions : undefined };
    }
    default:
      return line;
  }
}

/** The lines with the change a frame tells (a line the page let go of is fetched changed). */
export function changed(lines: Line[], frame: Frame): Line[] {
  const index = lines.findIndex((line) => line.offset === frame.line);
  if (index < 0) return lines;
  const line = change(lines[index], frame);
  return line === lines[index] ? lines : lines.map((l, i) => (i === index ? line : l));
}

/** Whether `me` may edit or delete a line: their own public message, not deleted. */
export const editable = (line: Line, me: string): boolean =>
  line.kind === "public" && line.from === me && line.offset !== undefined && !line.deleted;

/** Whether anyone may react to a line: a message of the room's stream, not deleted. */
export const reactable = (line: Line): boolean =>
  (line.kind === "public" || line.kind === "bot") && line.offset !== undefined && !line.deleted;

/** The frames that ask the server for a change. */
export const editFrame = (offset: number, message: string): Frame => ({ action: "edit", offset, message });
export const deleteFrame = (offset: number): Frame => ({ action: "delete", offset });
export const reactFrame = (offset: number, emoji: string, add: boolean): Frame => ({
  action: "react",
  offset,
  emoji,
  add,
});
