/**
 * Coming back after a drop: when to try again, and the tab's session kept
 * across a reload of the page.
 */

import { roomKey } from "./rooms";

/** The longest wait before the first try, and the longest wait of all (ms). */
export const RETRY_FIRST_MS = 1000;
export const RETRY_MAX_MS = 30_000;

/** Exponential backoff with full jitter: a wait drawn evenly from
 * [0, min(RETRY_MAX_MS, RETRY_FIRST_MS · 2^attempt)), attempt counting from 0. */
export const retryDelay = (attempt: number, random: () => number = Math.random): number =>
  random() * Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);

/** The waits between tries of one outage; `reset` once the page is back. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly random: () => number = Math.random) {}

  next(): number {
    return retryDelay(this.attempt++, this.random);
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** What a tab needs to take its place in the room back: the resume token, the
 * name it is bound to, and how far the page had read. */
export interface Saved {
  token: string;
  name: string;
  offset: number;
  privateOffset: number;
  /** The ids of this person's latest questions to the bot: their answers keep Stop and Ask again. */
  questions?: string[];
}

/** How many of a person's questions a reload keeps. */
export const KEPT_QUESTIONS = 50;

/** Where a tab keeps its session in `room`: a resume token works only in the
 * room it was given in. */
export const sessionKey = (room: string): string => roomKey("papo.session", room);

/** Keeps the session for this tab in `room` while the page goes away (a
 * reload, or off to another room), and only then: a tab duplicated while open
 * copies nothing, so two tabs never take one name from each other. */
export function save(saved: Saved | null, room: string): void {
  try {
    if (saved) sessionStorage.setItem(sessionKey(room), JSON.stringify(saved));
  } catch {
    // storage refused: a reload joins afresh
  }
}

/** The session this tab kept in `room` when its page went away, once. */
export function restore(room: string): Saved | null {
  try {
    const raw = sessionStorage.getItem(sessionKey(room));
    sessionStorage.removeItem(sessionKey(room));
    const saved = raw ? (JSON.parse(raw) as Partial<Saved>) : null;
    if (
      typeof saved?.token === "string" &&
      typeof saved.name === "string" &&
      typeof saved.offset === "number" &&
      typeof saved.privateOffset === "number"
    ) {
      const { questions, ...session } = saved as Saved;
      const kept = Array.isArray(questions)
        ? questions.filter((id): id is string => typeof id === "string").slice(-KEPT_QUESTIONS)
        : [];
      return kept.length ? { ...session, questions: kept } : session;
    }
  } catch {
    // nothing kept, or nothing readable
  }
  return null;
}
