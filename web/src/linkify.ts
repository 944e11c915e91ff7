/**
 * People's messages are plain text; web addresses in them (http and https
 * only) become links.
 */

export type Piece = { text: string } | { text: string; href: string };

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/giu;
const TRAILING = /[.,;:!?'"*_~]+$/u;

/** An address without the punctuation that ends the sentence around it. */
function trim(candidate: string): string {
  let url = candidate.replace(TRAILING, "");
  // A closing bracket belongs to the address only when it opened one.
  for (const [open, close] of [
    ["(", ")"],
    ["[", "]"],
  ] as const) {
    while (url.endsWith(close) && url.split(open).length < url.split(close).length) {
      url = url.slice(0, -1).replace(TRAILING, "");
    }
  }
  return url;
}

function safeHref(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** `text` cut into plain pieces and links, which joined give `text` back. */
export function linkify(text: string): Piece[] {
  const pieces: Piece[] = [];
  let rest = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const url = trim(match[0]);
    const href = safeHref(url);
    if (href === null) continue;
    if (match.index > rest) pieces.push({ text: text.slice(rest, match.index) });
    pieces.push({ text: url, href });
    rest = match.index + url.length;
  }
  if (rest < text.length) pieces.push({ text: text.slice(rest) });
  return pieces;
}
