/**
 * Which room the page is in: the one its address names (`?room=team`), else
 * the room `main`. A room's name is 1 to 32 of `a`–`z`, `0`–`9` and `-`, not
 * starting or ending with `-`; upper case counts as lower case (`Team` is
 * `team`), as the server has it. The page opens its WebSocket with the same
 * `room=` (socket.ts); the server refuses the handshake for a name that is no
 * room's, and a browser does not say why, so the page checks the name first.
 */

export const DEFAULT_ROOM = "main";

/** The room `name` names, in lower case (spaces around it ignored), or null
 * when it names none. ASCII before folding, as the server has it: no letter of
 * another script counts, whatever its lower case (the Kelvin sign's is `k`). */
export function roomName(name: string): string | null {
  const given = name.trim();
  return /^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(given) ? given.toLowerCase() : null;
}

/** Where a tab keeps `what` (`papo.session`, `papo.invite`) for `room`: one
 * place for each room, as what lets a page into one room lets it into no
 * other; main's where it was before there were rooms. No room's name has a
 * dot, so no room's place is another's. */
export const roomKey = (what: string, room: string): string =>
  room === DEFAULT_ROOM ? what : `${what}.${room}`;

/** `url` naming `room`: with `room=`, but for `main`, which needs none (the
 * course's clients join it without); without a fragment. */
export function inRoom(url: URL, room: string): URL {
  url.searchParams.delete("room");
  if (room !== DEFAULT_ROOM) url.searchParams.set("room", room);
  url.hash = "";
  return url;
}

/** The page's address in `room`, its other settings (`?heartbeat=`, …) kept. */
export function roomAddress(href: string, room: string): string {
  const url = inRoom(new URL(href), room);
  return url.pathname + url.search;
}

/** The room the page's address names, or what it says instead of a room's
 * name. `address`: the page's address naming the room as it is known (lower
 * case; no `room=` at all for `main`), to show instead (null: unchanged). */
export type PageRoom = { room: string; address: string | null } | { room: null; invalid: string };

/** The room in the page's address `href`: `?room=`, or `main` where it names
 * none (or an empty one). */
export function pageRoom(href: string): PageRoom {
  const given = new URL(href).searchParams.get("room");
  if (given === null) return { room: DEFAULT_ROOM, address: null };
  const room = given.trim() ? roomName(given) : DEFAULT_ROOM;
  if (room === null) return { room, invalid: given };
  return { room, address: room === given && room !== DEFAULT_ROOM ? null : roomAddress(href, room) };
}

/** The page's title in `room`: `team · papo`; plain `papo` in `main`. */
export const roomTitle = (base: string, room: string | null): string =>
  room && room !== DEFAULT_ROOM ? `${room} · ${base}` : base;

/** What the page says a name was, shortened to fit a sentence. */
export const quoted = (name: string): string => (name.length > 40 ? `${name.slice(0, 39)}…` : name);
