import { describe, expect, it } from "vitest";

import { remaining } from "./Composer";
import { HEARTBEAT_MS, heartbeat, settings, withLanguage } from "./socket";

describe("heartbeat", () => {
  it("pings every 5 minutes, well within API Gateway's 10 idle minutes", () => {
    expect(heartbeat(null, undefined)).toBe(HEARTBEAT_MS);
    expect(HEARTBEAT_MS).toBe(300_000);
  });

  it("takes the page address's interval first, then config.json's; 0 turns it off", () => {
    expect(heartbeat("1000", 60_000)).toBe(1000);
    expect(heartbeat("0", 60_000)).toBe(0);
    expect(heartbeat(null, 60_000)).toBe(60_000);
    expect(heartbeat(null, 0)).toBe(0);
  });

  it("ignores what is no whole number of milliseconds", () => {
    expect(heartbeat("soon", "1000")).toBe(HEARTBEAT_MS);
    expect(heartbeat("-5", -1)).toBe(HEARTBEAT_MS);
    expect(heartbeat("1.5", null)).toBe(HEARTBEAT_MS);
    expect(heartbeat("", 2000)).toBe(2000);
  });
});

describe("withLanguage", () => {
  it("tells the server the page's language in the address", () => {
    expect(withLanguage("ws://127.0.0.1:8000/dev", "pt-BR")).toBe("ws://127.0.0.1:8000/dev?lang=pt-BR");
    expect(withLanguage("wss://x.execute-api.eu-west-1.amazonaws.com/prod?token=a", "en")).toBe(
      "wss://x.execute-api.eu-west-1.amazonaws.com/prod?token=a&lang=en",
    );
    expect(withLanguage("wss://x/dev?lang=en", "pt-BR")).toBe("wss://x/dev?lang=pt-BR");
  });

  it("carries the token papo's authorizer lets the page in with, encoded", () => {
    expect(withLanguage("ws://127.0.0.1:8000/dev", "en", "eyJp.c2ln+/=")).toBe(
      "ws://127.0.0.1:8000/dev?token=eyJp.c2ln%2B%2F%3D&lang=en",
    );
    expect(withLanguage("wss://x/dev?token=old", "pt-BR", "new")).toBe("wss://x/dev?token=new&lang=pt-BR");
    expect(withLanguage("ws://127.0.0.1:8000/dev", "en", undefined)).toBe("ws://127.0.0.1:8000/dev?lang=en");
  });
});

describe("settings", () => {
  it("connects where the address says, else config.json, else port 8000 here", () => {
    const config = { websocketUrl: "wss://a1b2.execute-api.eu-west-1.amazonaws.com/prod", heartbeatMs: 60_000 };
    expect(settings(config, "?ws=ws%3A%2F%2F127.0.0.1%3A9000%2Fdev&heartbeat=0", "chat.example")).toEqual({
      url: "ws://127.0.0.1:9000/dev",
      heartbeatMs: 0,
    });
    expect(settings(config, "", "chat.example")).toEqual({ url: config.websocketUrl, heartbeatMs: 60_000 });
    expect(settings({ websocketUrl: 42 }, "", "chat.example")).toEqual({
      url: "ws://chat.example:8000/dev",
      heartbeatMs: HEARTBEAT_MS,
    });
    expect(settings({}, "", "").url).toBe("ws://127.0.0.1:8000/dev");
  });
});

describe("remaining", () => {
  it("counts characters as the server does, and speaks up in the last fifth", () => {
    expect(remaining("", 4000)).toEqual({ left: 4000, show: false });
    expect(remaining("a".repeat(3199), 4000)).toEqual({ left: 801, show: false });
    expect(remaining("a".repeat(3200), 4000)).toEqual({ left: 800, show: true });
    expect(remaining("😀".repeat(1000), 1000)).toEqual({ left: 0, show: true });
    expect(remaining("é".repeat(1001), 1000)).toEqual({ left: -1, show: true });
  });
});
