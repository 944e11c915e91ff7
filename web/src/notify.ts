/**
 * Browser notifications for what is for this person while the tab is hidden:
 * a message that names them (`@Ana`, "ana,") or a private one. Permission is
 * asked for on a click, never on load, and the choice is remembered.
 */

import { names } from "./attention";
import type { Frame } from "./room";

export type Choice = "on" | "off";

const KEY = "papo.notify";

/** The choice this browser remembers (null: never asked). */
export function remembered(storage: Storage): Choice | null {
  try {
    const value = storage.getItem(KEY);
    return value === "on" || value === "off" ? value : null;
  } catch {
    return null;
  }
}

export function remember(storage: Storage, choice: Choice): void {
  try {
    storage.setItem(KEY, choice);
  } catch {
    // storage refused: the choice lasts as long as the page
  }
}

/** What to notify `me` of a live frame: its sender, as the title, and its text;
 * null when it is not for them. */
export function notice(frame: Frame, me: string | null): { from: string; text: string } | null {
  if (me === null || typeof frame.from !== "string" || typeof frame.text !== "string") return null;
  if (frame.from === me) return null;
  if (frame.type === "private" && frame.to === me) return { from: frame.from, text: frame.text };
  if (frame.type === "public" && names(frame.text, me)) return { from: frame.from, text: frame.text };
  return null;
}
