/** Where papo's WebSocket API is, and how often to tell it the page is there. */

import { DEFAULT_ROOM, inRoom } from "./rooms";

/** API Gateway closes a connection after 10 quiet minutes; a ping every 5 keeps it. */
export const HEARTBEAT_MS = 5 * 60_000;

export interface Settings {
  url: string;
  /** Milliseconds between pings; 0: none. */
  heartbeatMs: number;
}

/** `config.json` beside the page, which `papo serve` and the deploy write; its
 * `oidc` names the issuer to sign in with (oidc.ts). */
export type Config = { websocketUrl?: unknown; heartbeatMs?: unknown; oidc?: unknown };

export async function loadConfig(): Promise<Config> {
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    const config: unknown = response.ok ? await response.json() : null;
    if (config && typeof config === "object") return config as Config;
  } catch {
    // no config.json: static hosting without one
  }
  return {};
}

/** `?ws=` in the page's query, else the configuration's, else port 8000 of
 * this host; the heartbeat from `?heartbeat=` (ms; 0 turns it off), else
 * `heartbeatMs` in `config.json`. */
export function settings(config: Config, search: string, hostname: string): Settings {
  const query = new URLSearchParams(search);
  const url =
    query.get("ws") ||
    (typeof config.websocketUrl === "string" ? config.websocketUrl : "") ||
    `ws://${hostname || "127.0.0.1"}:8000/dev`;
  return { url, heartbeatMs: heartbeat(query.get("heartbeat"), config.heartbeatMs) };
}

/** The heartbeat's interval: the address's, else the configuration's, else 5
 * minutes; anything that is no whole number of ms at least 0 counts as unset. */
export function heartbeat(fromQuery: string | null, configured: unknown): number {
  for (const value of [fromQuery ? Number(fromQuery) : null, configured]) {
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  }
  return HEARTBEAT_MS;
}

/** The WebSocket API's address telling the server the page's language
 * (`?lang=pt-BR`), so that what the server says comes in it, naming the page's
 * room (rooms.ts), and carrying the token papo's authorizer lets the page in
 * with (`?token=`, access.ts), if any. */
export function withLanguage(url: string, language: string, token?: string, room = DEFAULT_ROOM): string {
  try {
    const parsed = new URL(url);
    if (token) parsed.searchParams.set("token", token);
    parsed.searchParams.set("lang", language);
    return inRoom(parsed, room).href;
  } catch {
    return url;
  }
}
