/**
 * Signing in with OpenID Connect: the authorization code flow with PKCE, by
 * `oidc-client-ts`, the issuer sending the person back to this page. A chunk
 * of its own, loaded only when `config.json` names an issuer.
 */

import { OidcClient, WebStorageStateStore } from "oidc-client-ts";

import { type Pass, type Trouble } from "./access";
import { type OidcConfig, keepIdToken, keptIdToken, oidcConfig, signInAnswer, signInPass } from "./signin";

/** What the issuer adds to the page's address when it sends the person back. */
const ANSWER = ["code", "state", "session_state", "iss", "error", "error_description", "error_uri"];

/** This tab's sign-in. */
export interface SignIn {
  /** The ID token's pass: the server tells whether it still lets the page in. */
  pass: Pass | null;
  /** Why there is none: the sign-in failed. */
  trouble: Trouble | null;
  /** Off to the issuer, to come back to this page with its query as it is now. */
  signIn(): Promise<void>;
  /** Forgets the ID token: signed out. */
  forget(): void;
}

function client(config: OidcConfig): OidcClient {
  return new OidcClient({
    authority: config.issuer,
    client_id: config.clientId,
    redirect_uri: window.location.origin + window.location.pathname,
    response_type: "code",
    scope: config.scope,
    loadUserInfo: false,
    stateStore: new WebStorageStateStore({ store: window.sessionStorage }),
  });
}

/** The sign-in `config` asks for (null: it names no issuer): the issuer's
 * answer, if the page's address is one (the address then put back as it was
 * before signing in), and the ID token this tab kept. */
export async function start(config: { oidc?: unknown }): Promise<SignIn | null> {
  const oidc = oidcConfig(config);
  if (!oidc) return null;
  let trouble: Trouble | null = null;
  const answer = new URLSearchParams(window.location.search);
  if (signInAnswer(answer)) {
    let search: unknown = null;
    try {
      // A refusal says why, with the state of the request or (some issuers) without.
      const refused = answer.get("error");
      if (refused) throw new Error(answer.get("error_description") || refused);
      const response = await client(oidc).processSigninResponse(window.location.href);
      search = response.userState;
      if (!response.id_token) throw new Error("no ID token");
      keepIdToken(response.id_token);
    } catch (error) {
      trouble = { failed: error instanceof Error ? error.message : String(error) };
    }
    const url = new URL(window.location.href);
    if (typeof search === "string") url.search = search;
    else for (const name of ANSWER) url.searchParams.delete(name);
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }
  const token = keptIdToken();
  return {
    pass: token ? signInPass(token, oidc.nameClaim) : null,
    trouble,
    signIn: async () => {
      const request = await client(oidc).createSigninRequest({ state: window.location.search });
      window.location.assign(request.url);
    },
    forget: () => keepIdToken(null),
  };
}
