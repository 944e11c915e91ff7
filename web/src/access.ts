/**
 * Access: what lets this page in when papo asks for a token on the
 * WebSocket address (`?token=…`): an invite link's (`?invite=` in the page's
 * address), or the ID token of an OpenID Connect sign-in (`oidc.ts`). Either
 * may name the one name its holder takes. The page reads a token without
 * verifying it, for the name and the expiry to show; the server verifies.
 *
 * A browser does not tell why a WebSocket handshake failed (the 401 stays
 * hidden): a connection that closes before it ever opened, with a token, is
 * taken as papo's authorizer saying no.
 */

import { pageRoom, roomKey } from "./rooms";

export interface Pass {
  kind: "invite" | "signIn";
  token: string;
  /** The one name it lets its holder take, if it names one. */
  name: string | null;
  /** When it expires (epoch ms), if it says. */
  expiresAt: number | null;
}

const INVITE = "papo.invite";

/** A base64url-encoded JSON object, or null. */
export function claims(part: string | undefined): Record<string, unknown> | null {
  try {
    const base64 = (part ?? "").replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

export function pass(kind: Pass["kind"], token: string, payload: string | undefined, nameClaim: string): Pass {
  const said = claims(payload) ?? {};
  const name = said[nameClaim];
  const exp = said.exp;
  return {
    kind,
    token,
    name: typeof name === "string" && name.trim() ? name.trim() : null,
    expiresAt: typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : null,
  };
}

/** An invite: `payload.signature`, the payload `{"id", "exp", "name"?}`. */
export const invitePass = (token: string): Pass => pass("invite", token, token.split(".")[0], "name");

export const expired = (pass: Pass, now: number): boolean =>
  pass.expiresAt !== null && pass.expiresAt <= now;

/** The invite this tab was given for the room the page's address `href`
 * names (rooms.ts): the one in that address, kept (in sessionStorage) for
 * reloads, else the one kept before in that room; an invite lets its holder
 * into its own room only. `address`: the page's address without it, to show
 * instead (null: unchanged). */
export function takeInvite(href: string): { invite: string | null; address: string | null } {
  const url = new URL(href);
  let invite = url.searchParams.get("invite");
  url.searchParams.delete("invite");
  const address = invite === null ? null : url.pathname + url.search + url.hash;
  const key = roomKey(INVITE, pageRoom(href).room ?? "");
  try {
    if (invite) sessionStorage.setItem(key, invite);
    else invite = sessionStorage.getItem(key);
  } catch {
    // storage refused: a reload forgets it
  }
  return { invite: invite || null, address };
}

/** What keeps the page out, to say beside the join form. */
export type Problem = "inviteRefused" | "signInRefused" | "noPass" | "movedAway";

/** A Problem, or a sign-in that failed (what the issuer or the library said). */
export type Trouble = Problem | { failed: string };

/** What a connection's end says: whether to try again, and what to tell the
 * person. `everOpened`: whether any connection with this pass opened. A pass
 * no connection opened with is refused, and so is one that expired since (a
 * drop, then the authorizer saying no, would look like papo being down); without a
 * pass, the page keeps trying (papo may be down), saying it may need one. */
export function afterClose(
  pass: Pass | null,
  everOpened: boolean,
  now: number,
): { retry: boolean; problem: Problem | null } {
  if (!pass) return { retry: true, problem: everOpened ? null : "noPass" };
  if (everOpened && !expired(pass, now)) return { retry: true, problem: null };
  return { retry: false, problem: pass.kind === "invite" ? "inviteRefused" : "signInRefused" };
}
