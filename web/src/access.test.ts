import { afterEach, describe, expect, it, vi } from "vitest";

import { type Pass, afterClose, claims, expired, invitePass, takeInvite } from "./access";
import { keepIdToken, keptIdToken, oidcConfig, signInAnswer, signInPass } from "./signin";
import { refusedStorage, storage } from "./storage.fake";

/** base64url, unpadded, of the text's UTF-8, as papo's server writes it. */
const b64url = (text: string): string =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

/** A token as `papo invite` makes one: its payload is compact JSON, non-ASCII escaped. */
const invite = (claims: string): string => `${b64url(claims)}.c2lnbmF0dXJl`;

const jwt = (payload: object): string =>
  [b64url('{"alg":"RS256","kid":"k1"}'), b64url(JSON.stringify(payload)), "c2ln"].join(".");

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("a token, read without verifying", () => {
  it("gives an invite's name and expiry", () => {
    const token = invite('{"id":"a1b2c3","exp":1795809600,"name":"Jo\\u00e3o"}');
    expect(invitePass(token)).toEqual({ kind: "invite", token, name: "João", expiresAt: 1795809600_000 });
    const anyone = invite('{"id":"a1b2c3","exp":1795809600}');
    expect(invitePass(anyone).name).toBeNull();
  });

  it("reads base64url, unpadded, and UTF-8", () => {
    // "ÿ?>" gives "/" and "+" in base64; base64url has "_" and "-" there.
    const name = "ÿ?>~ Ana ÿ?>";
    const token = `${b64url(JSON.stringify({ id: "x", exp: 1, name }))}.sig`;
    expect(token).toMatch(/[-_]/);
    expect(token.split(".")[0]).not.toMatch(/=$/);
    expect(invitePass(token).name).toBe(name);
  });

  it("gives nothing from what is no such token", () => {
    for (const token of ["", "garbage", "....", `${b64url("[1,2]")}.sig`, `${b64url('"Ana"')}.sig`]) {
      expect(invitePass(token)).toEqual({ kind: "invite", token, name: null, expiresAt: null });
    }
    expect(claims(undefined)).toBeNull();
    const odd = invite('{"exp":"tomorrow","name":42}');
    expect(invitePass(odd)).toMatchObject({ name: null, expiresAt: null });
    expect(invitePass(invite('{"name":"  "}')).name).toBeNull();
  });

  it("gives an ID token's name from the claim the server reads", () => {
    const token = jwt({ iss: "https://issuer.example", sub: "ana-sub", name: "Ana", nickname: "aninha", exp: 100 });
    expect(signInPass(token)).toEqual({ kind: "signIn", token, name: "Ana", expiresAt: 100_000 });
    expect(signInPass(token, "nickname").name).toBe("aninha");
    expect(signInPass(token, "email").name).toBeNull();
  });

  it("expires at its exp, when it has one", () => {
    const pass: Pass = { kind: "invite", token: "t", name: null, expiresAt: 5000 };
    expect(expired(pass, 4999)).toBe(false);
    expect(expired(pass, 5000)).toBe(true);
    expect(expired({ ...pass, expiresAt: null }, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe("the invite in the page's address", () => {
  it("is taken out of the address, keeping the rest, and kept for a reload", () => {
    const kept = storage();
    const taken = takeInvite("http://127.0.0.1:8080/?ws=ws%3A%2F%2Fh%3A1%2Fdev&invite=abc.def&heartbeat=0#end");
    expect(taken).toEqual({ invite: "abc.def", address: "/?ws=ws%3A%2F%2Fh%3A1%2Fdev&heartbeat=0#end" });
    expect(kept.get("papo.invite")).toBe("abc.def");
    expect(takeInvite("http://127.0.0.1:8080/")).toEqual({ invite: "abc.def", address: null });
  });

  it("leaves no empty query behind", () => {
    storage();
    expect(takeInvite("https://chat.example/papo/?invite=abc.def")).toEqual({
      invite: "abc.def",
      address: "/papo/",
    });
  });

  it("is a new one when the address has another", () => {
    storage();
    takeInvite("https://chat.example/?invite=first.x");
    expect(takeInvite("https://chat.example/?invite=second.y").invite).toBe("second.y");
    expect(takeInvite("https://chat.example/").invite).toBe("second.y");
  });

  it("is none without one, and an empty one is the one kept", () => {
    storage();
    expect(takeInvite("https://chat.example/?heartbeat=0")).toEqual({ invite: null, address: null });
    expect(takeInvite("https://chat.example/?invite=")).toEqual({ invite: null, address: "/" });
  });

  it("is kept for the room the address names, and only there", () => {
    const kept = storage();
    const link = "https://chat.example/?room=Team&invite=team.inv";
    expect(takeInvite(link)).toEqual({ invite: "team.inv", address: "/?room=Team" });
    expect(takeInvite("https://chat.example/?invite=main.inv").invite).toBe("main.inv");
    expect([...kept.entries()].sort()).toEqual([
      ["papo.invite", "main.inv"],
      ["papo.invite.team", "team.inv"],
    ]);
    expect(takeInvite("https://chat.example/?room=team").invite).toBe("team.inv");
    expect(takeInvite("https://chat.example/?heartbeat=0").invite).toBe("main.inv");
    expect(takeInvite("https://chat.example/?room=ops").invite).toBeNull();
  });

  it("still lets the page in where storage is refused", () => {
    refusedStorage();
    expect(takeInvite("https://chat.example/?invite=abc.def").invite).toBe("abc.def");
    expect(takeInvite("https://chat.example/").invite).toBeNull();
  });
});

describe("a connection's end", () => {
  const invited: Pass = { kind: "invite", token: "t", name: "Ana", expiresAt: 10_000 };
  const signedIn: Pass = { ...invited, kind: "signIn" };

  it("closing before it ever opened: papo's authorizer said no to the pass", () => {
    expect(afterClose(invited, false, 0)).toEqual({ retry: false, problem: "inviteRefused" });
    expect(afterClose(signedIn, false, 0)).toEqual({ retry: false, problem: "signInRefused" });
    expect(afterClose({ ...invited, expiresAt: null }, false, 0)).toEqual({
      retry: false,
      problem: "inviteRefused",
    });
  });

  it("without a pass, papo may be down or need one: the page says so and tries again", () => {
    expect(afterClose(null, false, 0)).toEqual({ retry: true, problem: "noPass" });
    expect(afterClose(null, true, 0)).toEqual({ retry: true, problem: null });
  });

  it("after a drop, the page comes back, unless its pass expired meanwhile", () => {
    expect(afterClose(invited, true, 9_999)).toEqual({ retry: true, problem: null });
    expect(afterClose(invited, true, 10_000)).toEqual({ retry: false, problem: "inviteRefused" });
    expect(afterClose(signedIn, true, 10_000)).toEqual({ retry: false, problem: "signInRefused" });
    expect(afterClose({ ...signedIn, expiresAt: null }, true, 10_000)).toEqual({ retry: true, problem: null });
  });
});

describe("the sign-in config.json names", () => {
  it("takes an http(s) issuer and a client id, with the scope and name claim by default", () => {
    expect(oidcConfig({ oidc: { issuer: "https://login.example/realms/papo", clientId: "papo-web" } })).toEqual({
      issuer: "https://login.example/realms/papo",
      clientId: "papo-web",
      scope: "openid profile",
      nameClaim: "name",
    });
    const given = { issuer: "http://localhost:9400", clientId: "c", scope: "openid email", nameClaim: "email" };
    expect(oidcConfig({ oidc: given })).toEqual(given);
  });

  it("is none without both, or with an issuer that is no web address", () => {
    for (const oidc of [
      undefined,
      null,
      "https://login.example",
      { issuer: "https://login.example" },
      { clientId: "papo-web" },
      { issuer: "javascript:alert(1)", clientId: "papo-web" },
      { issuer: "login.example", clientId: "papo-web" },
      { issuer: "https://login.example", clientId: "  " },
      { issuer: 42, clientId: "papo-web" },
    ]) {
      expect(oidcConfig({ oidc })).toBeNull();
    }
  });

  it("knows the issuer's answer in the page's address", () => {
    const answer = (search: string) => signInAnswer(new URLSearchParams(search));
    expect(answer("?code=c0de&state=5a7e")).toBe(true);
    expect(answer("?error=access_denied&state=5a7e")).toBe(true);
    expect(answer("?error=access_denied")).toBe(true);
    expect(answer("?code=c0de")).toBe(false);
    expect(answer("?heartbeat=0&ws=wss%3A%2F%2Fx")).toBe(false);
  });

  it("keeps the ID token for this tab, until signed out", () => {
    const kept = storage();
    expect(keptIdToken()).toBeNull();
    keepIdToken("a.b.c");
    expect(kept.get("papo.idToken")).toBe("a.b.c");
    expect(keptIdToken()).toBe("a.b.c");
    keepIdToken(null);
    expect(keptIdToken()).toBeNull();
  });
});
