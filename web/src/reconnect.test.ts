import { afterEach, describe, expect, it, vi } from "vitest";

import { Backoff, RETRY_MAX_MS, restore, retryDelay, save, sessionKey } from "./reconnect";
import { refusedStorage, storage } from "./storage.fake";

describe("backoff", () => {
  it("tries again within a second first", () => {
    expect(retryDelay(0, () => 0)).toBe(0);
    expect(retryDelay(0, () => 0.999999)).toBeLessThan(1000);
    for (let i = 0; i < 100; i++) expect(retryDelay(0)).toBeLessThan(1000);
  });

  it("doubles the longest wait at each try, up to 30 seconds", () => {
    const almostOne = () => 0.999999;
    const longest = [0, 1, 2, 3, 4, 5, 6, 10, 50].map((attempt) => Math.round(retryDelay(attempt, almostOne)));
    expect(longest).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
    expect(RETRY_MAX_MS).toBe(30_000);
  });

  it("draws every wait evenly from zero to that longest (full jitter)", () => {
    for (const attempt of [0, 3, 8]) {
      const bound = Math.min(30_000, 1000 * 2 ** attempt);
      const waits = Array.from({ length: 2000 }, () => retryDelay(attempt));
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...waits)).toBeLessThan(bound);
      // Spread over the whole range, not bunched near its top as with "equal jitter".
      expect(waits.filter((w) => w < bound / 4).length).toBeGreaterThan(300);
      expect(waits.filter((w) => w >= (bound * 3) / 4).length).toBeGreaterThan(300);
    }
    expect(retryDelay(4, () => 0.5)).toBe(8000);
  });

  it("grows over one outage and starts over once the page is back", () => {
    const backoff = new Backoff(() => 0.999999);
    const waits = [1, 2, 3, 4, 5, 6, 7].map(() => Math.round(backoff.next()));
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    backoff.reset();
    expect(backoff.next()).toBeLessThan(1000);
  });
});

describe("the session kept across a reload", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("is read back once, and only when whole", () => {
    const items = storage();
    save({ token: "t.s", name: "Ana", offset: 41, privateOffset: 3 }, "main");
    expect(restore("main")).toEqual({ token: "t.s", name: "Ana", offset: 41, privateOffset: 3 });
    expect(restore("main")).toBeNull();
    save(null, "main");
    expect(restore("main")).toBeNull();
    items.set("papo.session", '{"token": "t.s", "name": "Ana"}');
    expect(restore("main")).toBeNull();
    items.set("papo.session", "{");
    expect(restore("main")).toBeNull();
  });

  it("is kept for each room apart: a room's token never comes back in another", () => {
    const items = storage();
    const inTeam = { token: "team.token", name: "Ana", offset: 7, privateOffset: 1 };
    const inMain = { token: "main.token", name: "Ana", offset: 90, privateOffset: 4 };
    save(inTeam, "team");
    save(inMain, "main");
    expect([...items.keys()].sort()).toEqual(["papo.session", "papo.session.team"]);
    expect(restore("ops")).toBeNull();
    expect(restore("team-2")).toBeNull();
    expect(restore("team")).toEqual(inTeam);
    expect(restore("main")).toEqual(inMain);
    expect(items.size).toBe(0);
  });

  it("keeps main's where it was before there were rooms", () => {
    expect(sessionKey("main")).toBe("papo.session");
    expect(sessionKey("team")).toBe("papo.session.team");
  });

  it("is nothing where storage is refused", () => {
    refusedStorage();
    expect(() => save({ token: "t", name: "Ana", offset: 1, privateOffset: 0 }, "team")).not.toThrow();
    expect(restore("team")).toBeNull();
  });
});
