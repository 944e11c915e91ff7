/**
 * Completing a mention as it is typed: `@b` at the end of the message offers
 * `@bot` and the people whose names begin so; taking one puts the whole name
 * in, with a space after it.
 */

import { BOT } from "./room";

/** What the `@` being typed at the end of `text` asks for, or null: none is. */
export function mentionAt(text: string): string | null {
  const found = /(?:^|\s)@([\p{L}\p{N}_.-]*)$/u.exec(text);
  return found ? (found[1] ?? "") : null;
}

/** The names that complete `query`: the bot first, then people, in order. */
export function suggestions(query: string, people: readonly string[]): string[] {
  const folded = query.toLocaleLowerCase();
  return [BOT.toLowerCase(), ...people].filter((name) => {
    const candidate = name.toLocaleLowerCase();
    return candidate.startsWith(folded) && candidate !== folded;
  });
}

/** `text` with the mention being typed at its end completed as `name`. */
export function complete(text: string, name: string): string {
  const query = mentionAt(text) ?? "";
  return `${text.slice(0, text.length - query.length)}${name} `;
}
