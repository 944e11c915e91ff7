import { describe, expect, it } from "vitest";

import { MESSAGES } from "./i18n";
import { DEFAULT_ROOM, inRoom, pageRoom, quoted, roomAddress, roomKey, roomName, roomTitle } from "./rooms";
import { withLanguage } from "./socket";

describe("a room's name", () => {
  it("is 1 to 32 of a-z, 0-9 and '-', neither first nor last", () => {
    for (const name of ["main", "team", "a", "7", "a-b", "team-2", "x--y", "2024", "a".repeat(32)]) {
      expect(roomName(name), name).toBe(name);
    }
    for (const name of ["", "-", "-team", "team-", "a".repeat(33), "team chat", "team_2", "équipe", "sala!", "a.b"]) {
      expect(roomName(name), name).toBeNull();
    }
  });

  it("counts upper case as lower case, as the server does", () => {
    expect(roomName("Team")).toBe("team");
    expect(roomName("TEAM-2")).toBe("team-2");
    expect(roomName("MAIN")).toBe("main");
    expect(roomName("A".repeat(32))).toBe("a".repeat(32));
    expect(roomName("A".repeat(33))).toBeNull();
  });

  it("ignores spaces around it, not inside it", () => {
    expect(roomName("  team ")).toBe("team");
    expect(roomName(" ")).toBeNull();
    expect(roomName("te am")).toBeNull();
    expect(roomName("team\n")).toBe("team");
  });

  it("takes no letter beyond a-z, whatever its case", () => {
    expect(roomName("\u212Aelvin")).toBeNull(); // the Kelvin sign, whose lower case is "k"
    expect(roomName("\u017Fun")).toBeNull(); // the long s, whose upper case is "S"
    expect(roomName("\u0130stanbul")).toBeNull(); // "İ", whose lower case is "i" and a dot above
    expect(roomName("ｔｅａｍ")).toBeNull(); // fullwidth
    expect(roomName("ÉQUIPE")).toBeNull();
  });
});

describe("the room in the page's address", () => {
  it("is main when the address names none, and the address stays as it is", () => {
    expect(pageRoom("http://127.0.0.1:8080/")).toEqual({ room: DEFAULT_ROOM, address: null });
    expect(pageRoom("http://127.0.0.1:8080/?heartbeat=0#x")).toEqual({ room: "main", address: null });
  });

  it("is the one in ?room=, beside the address's other settings", () => {
    expect(pageRoom("http://127.0.0.1:8080/?room=team")).toEqual({ room: "team", address: null });
    expect(pageRoom("https://chat.example/papo/?heartbeat=1000&room=ops-2")).toEqual({
      room: "ops-2",
      address: null,
    });
  });

  it("is named in the address as it is known: lower case, and no room= for main", () => {
    expect(pageRoom("http://h/?room=Team&heartbeat=0#end")).toEqual({
      room: "team",
      address: "/?heartbeat=0&room=team",
    });
    expect(pageRoom("http://h/?room=main&heartbeat=0")).toEqual({ room: "main", address: "/?heartbeat=0" });
    expect(pageRoom("http://h/p/?room=MAIN")).toEqual({ room: "main", address: "/p/" });
    expect(pageRoom("http://h/?room=")).toEqual({ room: "main", address: "/" });
    expect(pageRoom("http://h/?room=%20team%20")).toEqual({ room: "team", address: "/?room=team" });
  });

  it("is none when ?room= is no room's name, saying what it was", () => {
    expect(pageRoom("http://h/?room=team%20chat")).toEqual({ room: null, invalid: "team chat" });
    expect(pageRoom("http://h/?room=-team")).toEqual({ room: null, invalid: "-team" });
    expect(pageRoom(`http://h/?room=${"a".repeat(33)}`)).toEqual({ room: null, invalid: "a".repeat(33) });
    expect(pageRoom("http://h/?room=%C3%A9quipe")).toEqual({ room: null, invalid: "équipe" });
  });
});

describe("the address of another room", () => {
  it("keeps the page's settings, and names the room last", () => {
    expect(roomAddress("http://127.0.0.1:8080/?heartbeat=1000", "team")).toBe("/?heartbeat=1000&room=team");
    expect(roomAddress("http://127.0.0.1:8080/?room=team&heartbeat=0", "ops")).toBe("/?heartbeat=0&room=ops");
    expect(roomAddress("https://chat.example/papo/index.html", "team")).toBe("/papo/index.html?room=team");
    const ws = "?ws=ws%3A%2F%2F127.0.0.1%3A9000%2Fdev";
    expect(roomAddress(`http://h/${ws}`, "team")).toBe(`/${ws}&room=team`);
  });

  it("is the plain address for main, without room=", () => {
    expect(roomAddress("http://127.0.0.1:8080/?room=team", "main")).toBe("/");
    expect(roomAddress("http://127.0.0.1:8080/?room=team&heartbeat=0", DEFAULT_ROOM)).toBe("/?heartbeat=0");
    expect(roomAddress("http://127.0.0.1:8080/", "main")).toBe("/");
  });

  it("leaves the page's fragment behind", () => {
    expect(roomAddress("http://h/?room=a#line-3", "b")).toBe("/?room=b");
  });
});

describe("the WebSocket address in a room", () => {
  it("carries room= for any room but main", () => {
    const url = (href: string, room: string) => inRoom(new URL(href), room).href;
    expect(url("ws://127.0.0.1:8000/dev?lang=en", "team")).toBe("ws://127.0.0.1:8000/dev?lang=en&room=team");
    expect(url("ws://127.0.0.1:8000/dev?lang=en", "main")).toBe("ws://127.0.0.1:8000/dev?lang=en");
    expect(url("wss://x/prod?room=old&lang=pt-BR", "team")).toBe("wss://x/prod?lang=pt-BR&room=team");
    expect(url("wss://x/prod?room=old", "main")).toBe("wss://x/prod");
  });

  it("goes beside the language and the token", () => {
    const url = withLanguage("wss://x.example/prod", "pt-BR", "tok.en", "team-2");
    expect(url).toBe("wss://x.example/prod?token=tok.en&lang=pt-BR&room=team-2");
    expect(new URL(url).searchParams.get("room")).toBe("team-2");
    expect(withLanguage("ws://127.0.0.1:8000/dev", "en", undefined, "main")).toBe("ws://127.0.0.1:8000/dev?lang=en");
    expect(withLanguage("ws://127.0.0.1:8000/dev", "en")).toBe("ws://127.0.0.1:8000/dev?lang=en");
  });

  it("is left alone when it is no address", () => {
    expect(withLanguage("not a url", "en", undefined, "team")).toBe("not a url");
  });
});

describe("what a tab keeps for a room", () => {
  it("is kept apart for each room, main's where it was before there were rooms", () => {
    expect(roomKey("papo.invite", "main")).toBe("papo.invite");
    expect(roomKey("papo.invite", "team")).toBe("papo.invite.team");
    expect(roomKey("papo.session", "ops-2")).toBe("papo.session.ops-2");
  });
});

describe("what the page says of its room", () => {
  it("names a room in the title, but main", () => {
    expect(roomTitle("papo", "team")).toBe("team · papo");
    expect(roomTitle("papo", "main")).toBe("papo");
    expect(roomTitle("papo", null)).toBe("papo");
  });

  it("shortens a long name it quotes", () => {
    expect(quoted("team chat")).toBe("team chat");
    expect(quoted("x".repeat(40))).toBe("x".repeat(40));
    expect(quoted("x".repeat(41))).toBe(`${"x".repeat(39)}…`);
  });

  it("says why a name is none in both languages", () => {
    expect(MESSAGES.en.notARoom("team chat")).toBe("“team chat” is not a room name.");
    expect(MESSAGES["pt-BR"].notARoom("team chat")).toBe("“team chat” não é um nome de sala.");
  });
});
