/**
 * The room as the client sees it, built from server frames by a pure function.
 *
 * Frames carry the course's keys (`members`, `systemMessage`, `publicMessage`,
 * `privateMessage`) and structured fields beside them; a bot answer arrives in
 * `botDelta` pieces and ends with a `publicMessage` from `Bot`.
 */

export const BOT = "Bot";

export type AnswerStatus = "streaming" | "complete" | "interrupted" | "failed";

export type Line =
  | { kind: "system"; id: string; text: string }
  | { kind: "public"; id: string; from: string; text: string; toBot: boolean }
  | { kind: "private"; id: string; from: string; to: string; text: string }
  | { kind: "bot"; id: string; text: string; status: AnswerStatus }
  | { kind: "error"; id: string; text: string; code: string };

export interface Room {
  members: string[];
  lines: Line[];
  /** The name this connection has in the room, once the server said so. */
  me: string | null;
  /** The name asked for with setName, until the server answers. */
  asked: string | null;
  /** A refusal of that name, to show beside the name field. */
  nameError: string | null;
}

export const emptyRoom: Room = { members: [], lines: [], me: null, asked: null, nameError: null };

type Frame = Record<string, unknown>;

const text = (value: unknown): string => (typeof value === "string" ? value : "");

let counter = 0;
const localId = (): string => `local-${++counter}`;

function withBotText(room: Room, id: string, update: (line: Line | undefined) => Line): Room {
  const index = room.lines.findIndex((line) => line.kind === "bot" && line.id === id);
  if (index < 0) return { ...room, lines: [...room.lines, update(undefined)] };
  const lines = room.lines.slice();
  lines[index] = update(lines[index]);
  return { ...room, lines };
}

function historyLine(message: Frame): Line {
  const from = text(message.from);
  const id = text(message.id) || localId();
  if (from === BOT) return { kind: "bot", id, text: text(message.text), status: "complete" };
  return { kind: "public", id, from, text: text(message.text), toBot: false };
}

/** The room after one frame from the server. */
export function receive(room: Room, frame: Frame): Room {
  if (Array.isArray(frame.members)) {
    return { ...room, members: frame.members.map(text) };
  }
  if (Array.isArray(frame.history)) {
    const known = new Set(room.lines.map((line) => line.id));
    const earlier = (frame.history as Frame[]).map(historyLine).filter((l) => !known.has(l.id));
    return { ...room, lines: [...earlier, ...room.lines] };
  }
  if (typeof frame.botDelta === "string") {
    const piece = frame.botDelta;
    return withBotText(room, text(frame.answerId), (line) => ({
      kind: "bot",
      id: text(frame.answerId),
      text: (line?.kind === "bot" ? line.text : "") + piece,
      status: "streaming",
    }));
  }
  if (typeof frame.systemMessage === "string") {
    let next = room;
    const event = text(frame.event);
    if (room.asked !== null && (event === "joined" || event === "renamed") && frame.name === room.asked) {
      next = { ...room, me: room.asked, asked: null, nameError: null };
    }
    const line: Line = { kind: "system", id: text(frame.id) || localId(), text: frame.systemMessage };
    return { ...next, lines: [...next.lines, line] };
  }
  if (typeof frame.publicMessage === "string") {
    const from = text(frame.from);
    if (from === BOT && typeof frame.answerId === "string") {
      const status = (text(frame.status) || "complete") as AnswerStatus;
      return withBotText(room, frame.answerId, () => ({
        kind: "bot",
        id: text(frame.answerId),
        text: text(frame.text),
        status,
      }));
    }
    const line: Line = from
      ? {
          kind: "public",
          id: text(frame.id) || localId(),
          from,
          text: text(frame.text),
          toBot: typeof frame.answerId === "string",
        }
      : { kind: "system", id: localId(), text: frame.publicMessage };
    return { ...room, lines: [...room.lines, line] };
  }
  if (typeof frame.privateMessage === "string") {
    const line: Line = {
      kind: "private",
      id: text(frame.id) || localId(),
      from: text(frame.from),
      to: text(frame.to),
      text: text(frame.text) || frame.privateMessage,
    };
    return { ...room, lines: [...room.lines, line] };
  }
  if (typeof frame.error === "string") {
    if (frame.action === "setName" && room.me === null) {
      return { ...room, asked: null, nameError: frame.error };
    }
    const line: Line = { kind: "error", id: localId(), text: frame.error, code: text(frame.code) };
    return { ...room, lines: [...room.lines, line] };
  }
  return room;
}
