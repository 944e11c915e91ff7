/**
 * Who is here, who is typing, and how far this person had read: what the
 * page knows beside the conversation (pure; `Awareness.tsx` wires it to the
 * socket and the page). The server tells each change (`presence`, `typing`,
 * `unread` frames); typing lasts a few seconds unless told again.
 */

import type { Frame } from "./room";

export type Presence = "here" | "away";

/** A room's read marker, its newest offset, and the public messages after the marker. */
export interface Unread {
  read: number;
  newest: number;
  count: number;
}

export interface Awareness {
  /** Each person's presence, by name (one not listed is here). */
  presence: Readonly<Record<string, Presence>>;
  /** How many are here and away, as the server last counted. */
  counts: { here: number; away: number } | null;
  /** Who is typing, until when (epoch ms). */
  typing: Readonly<Record<string, number>>;
  /** Where this person had stopped reading the room when the page joined
   * (null: not known yet): the "new messages" divider goes below it. */
  marker: number | null;
  /** The other rooms this page knows, as the server counted them. */
  unread: Readonly<Record<string, Unread>>;
}

export const noAwareness: Awareness = { presence: {}, counts: null, typing: {}, marker: null, unread: {} };

/** How long "Ana is typing…" shows after the last word of it. */
export const TYPING_SHOWN_MS = 6000;
/** The page tells the room its person is typing at most this often (the server relays no more). */
export const TYPING_EVERY_MS = 3000;
/** The page says how far its person read at most this often. */
export const READ_EVERY_MS = 5000;
/** No input for this long in a visible tab: its person is away. */
export const IDLE_MS = 5 * 60 * 1000;

const count = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;

function isUnread(value: unknown): value is Unread {
  if (typeof value !== "object" || value === null) return false;
  const { read, newest, count: n } = value as Record<string, unknown>;
  return count(read) !== undefined && count(newest) !== undefined && count(n) !== undefined;
}

/** What the page knows after a frame from the server in `room`, at `at` (epoch ms). */
export function aware(state: Awareness, frame: Frame, room: string, at: number): Awareness {
  switch (frame.type) {
    case "presence": {
      const told = frame.presence;
      if (typeof told !== "object" || told === null || Array.isArray(told)) return state;
      const changes: Record<string, Presence> = {};
      for (const [name, value] of Object.entries(told)) {
        if (value === "here" || value === "away") changes[name] = value;
      }
      const here = count(frame.here);
      const away = count(frame.away);
      // A big room is told only its counts: the names known before are no longer sure.
      const countsOnly = frame.complete !== true && Object.keys(told).length === 0;
      return {
        ...state,
        presence: frame.complete === true || countsOnly ? changes : { ...state.presence, ...changes },
        counts: here !== undefined && away !== undefined ? { here, away } : state.counts,
      };
    }
    case "typing":
      return typeof frame.typing === "string"
        ? { ...state, typing: { ...state.typing, [frame.typing]: at + TYPING_SHOWN_MS } }
        : state;
    case "public":
    case "private": {
      // Their message came: they are done typing it.
      const from = frame.from;
      if (typeof from !== "string" || !(from in state.typing)) return state;
      const { [from]: _, ...typing } = state.typing;
      return { ...state, typing };
    }
    case "unread": {
      const rooms = frame.unread;
      if (typeof rooms !== "object" || rooms === null) return state;
      let next = state;
      for (const [name, value] of Object.entries(rooms)) {
        if (!isUnread(value)) continue;
        if (name === room) {
          // The divider stays where the person had stopped, as they read on.
          if (next.marker === null) next = { ...next, marker: value.read };
        } else {
          next = { ...next, unread: { ...next.unread, [name]: value } };
        }
      }
      return next;
    }
    default:
      return state;
  }
}

/** Who is typing at `now`, but `me`, in the order they began. */
export const typists = (state: Awareness, now: number, me: string | null): string[] =>
  Object.entries(state.typing)
    .filter(([name, until]) => until > now && name !== me)
    .map(([name]) => name);

/** When the next typist stops showing (null: none shows). */
export function typingEnds(state: Awareness, now: number): number | null {
  const ends = Object.values(state.typing).filter((until) => until > now);
  return ends.length ? Math.min(...ends) : null;
}

/** Whether a member is shown away. */
export const isAway = (state: Awareness, name: string): boolean => state.presence[name] === "away";

/** The rooms whose sessions this tab kept, but `room`: a resume token for
 * each, read from where `reconnect.ts` keeps them (`papo.session.<room>`; the
 * main room's is `papo.session`). */
export function keptRooms(storage: Storage, room: string): Record<string, string> {
  const rooms: Record<string, string> = {};
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    if (key === null || (key !== "papo.session" && !key.startsWith("papo.session."))) continue;
    const name = key === "papo.session" ? "main" : key.slice("papo.session.".length);
    if (name === room) continue;
    try {
      const saved: unknown = JSON.parse(storage.getItem(key) ?? "null");
      const token = (saved as { token?: unknown } | null)?.token;
      if (typeof token === "string") rooms[name] = token;
    } catch {
      // nothing readable kept there
    }
  }
  return rooms;
}

/** A throttle: `take(now)` says whether something may go now, at most once every `every` ms. */
export class Throttle {
  private last = -Infinity;
  constructor(private readonly every: number) {}
  take(now: number): boolean {
    if (now - this.last < this.every) return false;
    this.last = now;
    return true;
  }
  /** When the next may go. */
  next(): number {
    return this.last + this.every;
  }
}
