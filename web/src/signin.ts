/**
 * What a sign-in with OpenID Connect needs beside the library (`oidc.ts`):
 * the issuer `config.json` names, the ID token kept for this tab, and whether
 * the page's address is the issuer's answer. Only the sign-in's chunk loads it.
 */

import { type Pass, pass } from "./access";

/** The OpenID Connect issuer to sign in with, from `config.json`. */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  scope: string;
  /** The claim that gives the person's name (the server's `PAPO_OIDC_NAME_CLAIM`). */
  nameClaim: string;
}

const ID_TOKEN = "papo.idToken";

const text = (value: unknown): string => (typeof value === "string" ? value.trim() : "");

/** `config.json`'s `oidc`, when it names an http(s) issuer and a client id. */
export function oidcConfig(config: { oidc?: unknown }): OidcConfig | null {
  const oidc = config.oidc;
  if (!oidc || typeof oidc !== "object") return null;
  const given = oidc as Record<string, unknown>;
  const issuer = text(given.issuer);
  const clientId = text(given.clientId);
  if (!/^https?:\/\/[^/]/.test(issuer) || !clientId) return null;
  return {
    issuer,
    clientId,
    scope: text(given.scope) || "openid profile",
    nameClaim: text(given.nameClaim) || "name",
  };
}

/** An ID token: a JWT, the person's name in its claim `nameClaim`. */
export const signInPass = (idToken: string, nameClaim = "name"): Pass =>
  pass("signIn", idToken, idToken.split(".")[1], nameClaim);

/** The ID token of this tab's sign-in (in sessionStorage); null forgets it. */
export function keepIdToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(ID_TOKEN, token);
    else sessionStorage.removeItem(ID_TOKEN);
  } catch {
    // storage refused: a reload signs in again
  }
}

export function keptIdToken(): string | null {
  try {
    return sessionStorage.getItem(ID_TOKEN);
  } catch {
    return null;
  }
}

/** Whether the page's query is the issuer sending the person back after a
 * sign-in: with a code and the request's state, or an error. */
export const signInAnswer = (query: URLSearchParams): boolean =>
  (query.has("code") && query.has("state")) || query.has("error");
