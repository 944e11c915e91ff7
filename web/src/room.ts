/**
 * The room as the client sees it, built by one pure function from what
 * happens to the page: frames from the server, its socket opening and
 * closing, the person joining, writing or switching language, and time.
 *
 * Frames carry the course's keys (`members`, `systemMessage`, `publicMessage`,
 * `privateMessage`) and structured fields beside them; a bot answer arrives in
 * `botDelta` pieces and ends with a `publicMessage` from `Bot`.
 *
 * Every line has a place: the room's lines by their `offset` (one order for
 * everyone, held back while one before them is missing, see `stream.ts`);
 * private lines after the room line their `after` names; this page's own
 * lines (refusals) after the room's lines so far; an answer still streaming
 * below everything, until its final frame gives it its offset. A line heard
 * twice (live and again in what was missed) shows once.
 *
 * The page keeps a bounded number of lines, near where the reader is, and
 * fetches those it let go of (`lines`) as the reader scrolls (`window.ts`).
 *
 * What the page must send comes out in `outgoing`, after each step: joining
 * (with `resume`, to come back after a drop), `sync` for a gap, `lines` for
 * lines let go of, the person's messages one at a time (`outbox.ts`).
 */

import { type Changes, changed, changesOf, isChange } from "./changes";
import { ECHO_TIMEOUT_MS, type Outgoing, type Say, answers, request } from "./outbox";
import { KEPT_QUESTIONS, type Saved } from "./reconnect";
import { type Stream, arrive, emptyStream, release, syncDue } from "./stream";
import {
  type Held,
  type View,
  adjoins,
  awaited,
  bounded,
  emptyHeld,
  hasEarlier,
  keeps,
  pageOf,
  untilAfter,
} from "./window";

export const BOT = "Bot";

export type AnswerStatus = "streaming" | "complete" | "interrupted" | "stopped" | "flagged" | "failed";

/** The room's own bot, as its `persona` frame says (null fields: the server's). */
export interface Persona {
  persona: string | null;
  model: string | null;
  by: string | null;
}

/** Unread lines of others after a resume or reload from which a summary is offered. */
export const CATCH_UP_FROM = 5;

/** Where a line sits: after room offset [0]; then room lines (0), private
 * ones (1), this page's own (2); then in the order they came ([2]). */
export type Place = readonly [number, number, number];

interface Said extends Changes {
  id: string;
  /** When it was said (epoch ms): the frame's `ts`, else when it arrived. */
  ts?: number;
  /** Part of the history a newcomer received, said before they came. */
  earlier?: true;
  /** Fetched as the reader scrolled to it (`lines`), not heard as it was said. */
  fetched?: true;
  place: Place;
  /** Its place in the room's stream. */
  offset?: number;
}

export type Line = Said &
  (
    | { kind: "system"; text: string }
    | { kind: "public"; from: string; text: string; toBot: boolean }
    | { kind: "private"; from: string; to: string; text: string }
    | { kind: "bot"; text: string; status: AnswerStatus; questionId?: string }
    | { kind: "error"; text: string; code: string }
    /** The session could not be resumed, and the page joined again. */
    | { kind: "notice"; notice: "rejoined" }
  );

/** A resume token, the name it is bound to, and (kept across a reload) how
 * far the page had read. */
export type Session = Pick<Saved, "token" | "name"> & Partial<Saved>;

export type Frame = Record<string, unknown>;

export interface Room {
  members: string[];
  /** The room offset the members list reflects. */
  membersAsOf: number;
  lines: Line[];
  /** The name this connection has in the room, once the server said so. */
  me: string | null;
  /** The name asked for with setName, until the server answers. */
  asked: string | null;
  /** A refusal of that name, to show beside the name field. */
  nameError: string | null;
  /** The page's language, told to the server with every setName. */
  language: string;
  /** Whether the socket is open. */
  open: boolean;
  session: Session | null;
  /** Asked to resume, and not yet given all that was missed. */
  resuming: boolean;
  /** The last resume was refused: the page joins afresh. */
  resumeFailed: boolean;
  /** The room's stream, and this reader's private one. */
  offsets: Stream<Frame>;
  privates: Stream<Frame>;
  /** The highest room offset known to exist. */
  latest: number;
  /** Since when a frame waits for one before it, and when the page last asked for those. */
  gapSince: number | null;
  syncedAt: number | null;
  /** The person's messages, the first perhaps sent and waiting for its answer. */
  outbox: Outgoing[];
  /** Which of the room's lines the page holds, and which it is fetching. */
  held: Held;
  /** What to send now, the result of the last step. */
  outgoing: Frame[];
  /** The ids of this person's questions to the bot: their answers they may stop or ask again. */
  questions: string[];
  /** The room's own bot, once told. */
  persona: Persona | null;
  /** Where the page had read when it asked to resume, until all that was missed came. */
  readBefore: number | null;
  /** A summary of what came since the page had read, offered after a resume with enough unread. */
  catchUp: { after: number; unread: number } | null;
}

export const emptyRoom: Room = {
  members: [],
  membersAsOf: -1,
  lines: [],
  me: null,
  asked: null,
  nameError: null,
  language: "en",
  open: false,
  session: null,
  resuming: false,
  resumeFailed: false,
  offsets: emptyStream,
  privates: emptyStream,
  latest: 0,
  gapSince: null,
  syncedAt: null,
  outbox: [],
  held: emptyHeld,
  outgoing: [],
  questions: [],
  persona: null,
  readBefore: null,
  catchUp: null,
};

/** After a reload, a page resumes this many frames back, for some context. */
export const LOOKBACK = 50;

/** What changes the room (`at`: when, in epoch ms). */
export type RoomAction =
  | { type: "frame"; frame: Frame; at: number }
  | { type: "open"; language: string; at: number }
  | { type: "closed"; at: number }
  | { type: "join"; name: string; language: string }
  | { type: "say"; say: Say; at: number }
  | { type: "language"; language: string }
  | { type: "tick"; at: number }
  /** The session this tab kept in the room (a reload), once the page knows its room. */
  | { type: "kept"; session: Saved | null }
  /** How many lines the page keeps at most. */
  | { type: "keep"; lines: number }
  /** What the reader sees: the places of the first and last lines in view; null: following the newest. */
  | { type: "reading"; view: View | null }
  /** The reader came to the first or last line the page holds: fetch what is beyond. */
  | { type: "more"; side: "earlier" | "later" }
  /** Back to the newest lines, from wherever the reader was. */
  | { type: "newest" }
  /** An edit, a delete or a reaction to ask the server for (`changes.ts`). */
  | { type: "change"; frame: Frame }
  /** This person stops their answer as it streams, or asks for another. */
  | { type: "stop"; answerId: string }
  | { type: "again"; answerId: string }
  /** This person takes the summary offered (`catchUp`), or lets it go. */
  | { type: "catchUp" }
  | { type: "noCatchUp" }
  | { type: "reset" };

export function roomReducer(room: Room, action: RoomAction): Room {
  const start = room.outgoing.length ? { ...room, outgoing: [] } : room;
  const next = bound(step(start, action));
  return "at" in action ? pump(timed(next, action.at), action.at) : next;
}

/** The room within the lines it keeps (`window.ts`). */
function bound(room: Room): Room {
  const [lines, held] = bounded(room.lines, room.held);
  return lines === room.lines && held === room.held ? room : { ...room, lines, held };
}

function step(room: Room, action: RoomAction): Room {
  switch (action.type) {
    case "frame":
      return receive(
        room,
        typeof action.frame.ts === "number" ? action.frame : { ...action.frame, ts: action.at },
      );
    case "open":
      return rejoin({ ...room, open: true, language: action.language, held: { ...room.held, loading: null } });
    case "closed": {
      // The message in flight goes again after the resume, unless its copy is among what was missed.
      const [head, ...rest] = room.outbox;
      return {
        ...room,
        open: false,
        resuming: false,
        asked: null,
        held: { ...room.held, loading: null }, // an answer on its way is lost
        outbox:
          head?.sentAt !== undefined ? [{ ...head, sentAt: undefined, again: true }, ...rest] : room.outbox,
      };
    }
    case "join": {
      const next = {
        ...room,
        asked: action.name,
        nameError: null,
        resumeFailed: false,
        language: action.language,
      };
      const session = room.session;
      return session && session.name.toLowerCase() === action.name.toLowerCase()
        ? resume(next, session)
        : send(next, join(action.name, action.language));
    }
    case "say":
      // Who writes wants to see what they wrote, among the newest lines.
      return { ...(room.held.until === null ? room : newest(room)), outbox: [...room.outbox, action.say] };
    case "language":
      // The server says its sentences in the language of the last setName.
      return room.me !== null && room.open
        ? send(
            { ...room, language: action.language },
            { action: "setName", name: room.me, language: action.language },
          )
        : { ...room, language: action.language };
    case "tick": {
      let next = room;
      const sentAt = room.outbox[0]?.sentAt;
      if (sentAt !== undefined && action.at >= sentAt + ECHO_TIMEOUT_MS) {
        next = { ...next, outbox: room.outbox.slice(1) };
      }
      const due = syncDue(room.gapSince, room.syncedAt);
      if (due !== null && action.at >= due && maySync(room)) next = send(next, sync(room));
      return next;
    }
    case "kept":
      // The answers to the questions asked before the reload stay this person's to stop or ask again.
      return room.me === null && room.asked === null
        ? { ...room, session: action.session, questions: action.session?.questions ?? room.questions }
        : room;
    case "keep":
      return { ...room, held: { ...room.held, keep: action.lines } };
    case "reading":
      // Following the newest, the page lets go of the oldest first.
      return {
        ...room,
        held: { ...room.held, reading: action.view, ...(action.view === null ? { heading: "later" } : {}) },
      };
    case "more":
      return more(room, action.side);
    case "newest":
      return room.held.until === null ? room : newest(room);
    case "change":
      return room.open && room.me !== null ? send(room, action.frame) : room;
    case "stop":
      return send(room, { action: "stopAnswer", answerId: action.answerId });
    case "again":
      return send(room, { action: "askAgain", answerId: action.answerId });
    case "catchUp":
      return room.catchUp === null
        ? room
        : send({ ...room, catchUp: null }, { action: "catchUp", after: room.catchUp.after });
    case "noCatchUp":
      return { ...room, catchUp: null };
    case "reset":
      // How many lines to keep is the page's setting, not the room's.
      return room.held.keep === emptyHeld.keep
        ? emptyRoom
        : { ...emptyRoom, held: { ...emptyHeld, keep: room.held.keep } };
  }
}

/** Asks for the lines before or after those the page holds, unless it is
 * asking already, or there are none. */
function more(room: Room, side: "earlier" | "later"): Room {
  const { held } = room;
  if (held.loading !== null || !maySync(room)) return room;
  if (side === "earlier" && hasEarlier(held) && held.from !== null) {
    return send(
      { ...room, held: { ...held, loading: "earlier", asked: held.from, heading: "earlier" } },
      { action: "lines", before: held.from, limit: pageOf(held) },
    );
  }
  if (side === "later" && held.until !== null) {
    return send(
      { ...room, held: { ...held, loading: "later", asked: held.until - 1, heading: "later", cut: null } },
      { action: "lines", after: held.until - 1, limit: pageOf(held) },
    );
  }
  return room;
}

/** The newest lines again: those the page holds are let go of, the ones
 * before the newest fetched, and what comes next kept as it comes. */
function newest(room: Room): Room {
  const from = (room.offsets.last ?? 0) + 1;
  const held: Held = {
    ...room.held,
    ...{ from, start: false, until: null, loading: null, reading: null, heading: "later" },
  };
  const lines = room.lines.filter((line) => !Number.isFinite(line.place[0]) || line.place[1] === 2);
  return more({ ...room, lines, held }, "earlier");
}

/** When the page should next look at the time (a `tick`): to ask for what a
 * gap misses, or to stop waiting for a message's answer; null: no need. */
export function wakeAt(room: Room): number | null {
  const sentAt = room.outbox[0]?.sentAt;
  const due = maySync(room) ? syncDue(room.gapSince, room.syncedAt) : null;
  const times = [due, sentAt === undefined ? null : sentAt + ECHO_TIMEOUT_MS].filter(
    (t) => t !== null,
  );
  return times.length ? Math.min(...times) : null;
}

const maySync = (room: Room): boolean => room.open && room.me !== null && !room.resuming;

const send = (room: Room, frame: Frame): Room => ({ ...room, outgoing: [...room.outgoing, frame] });

const join = (name: string, language: string): Frame => ({
  action: "setName",
  name,
  language,
  resume: true,
});

const sync = (room: Room): Frame => ({
  action: "sync",
  offset: room.offsets.last ?? 0,
  privateOffset: room.privates.last ?? 0,
});

/** On a new connection: back in the room under the same name. */
function rejoin(room: Room): Room {
  if (room.me === null) return room;
  if (room.session) return resume(room, room.session);
  return send({ ...room, asked: room.me }, join(room.me, room.language));
}

/** Asks to resume `session`, from where this page has read (after a reload,
 * from a little before where it had). */
function resume(room: Room, session: Session): Room {
  const offset = room.offsets.last ?? Math.max(0, (session.offset ?? 0) - LOOKBACK);
  const privateOffset = room.privates.last ?? Math.max(0, (session.privateOffset ?? 0) - LOOKBACK);
  return send(
    reading(
      {
        ...room,
        resuming: true,
        readBefore: room.offsets.last ?? session.offset ?? null,
        offsets: { ...room.offsets, last: offset },
        privates: { ...room.privates, last: privateOffset },
      },
      offset,
    ),
    {
      action: "setName",
      name: session.name,
      language: room.language,
      resume: { token: session.token, offset, privateOffset },
    },
  );
}

/** The room read from after `offset` on, unless the page began already. */
const reading = (room: Room, offset: number): Room =>
  room.held.from === null ? { ...room, held: { ...room.held, from: offset + 1 } } : room;

/** Notes when a gap opened, and when the page asked for what it misses. */
function timed(room: Room, at: number): Room {
  const gap = room.offsets.held.length + room.privates.held.length > 0;
  const gapSince = gap ? (room.gapSince ?? at) : null;
  const asked = room.outgoing.some((f) => f.action === "sync" || typeof f.resume === "object");
  const syncedAt = asked ? at : gap ? room.syncedAt : null;
  return gapSince === room.gapSince && syncedAt === room.syncedAt
    ? room
    : { ...room, gapSince, syncedAt };
}

/** Sends the next message, once the one before was answered and the page is in the room. */
function pump(room: Room, at: number): Room {
  const [head, ...rest] = room.outbox;
  if (!head || head.sentAt !== undefined || !maySync(room) || room.asked !== null) return room;
  return send({ ...room, outbox: [{ ...head, sentAt: at }, ...rest] }, request(head));
}

/** A stable key for a line: ids are unique within a kind. */
export const lineKey = (line: Line): string => `${line.kind}-${line.id}`;

const text = (value: unknown): string => (typeof value === "string" ? value : "");

const count = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isSafeInteger(value) ? value : undefined;

const when = (frame: Frame): { ts?: number } =>
  typeof frame.ts === "number" && Number.isFinite(frame.ts) ? { ts: frame.ts } : {};

let counter = 0;
const localId = (): string => `local-${++counter}`;

/** A line of this page's own, or one with no offset: after the room's lines so far. */
const here = (room: Room): Place => [room.offsets.last ?? 0, 2, ++counter];

const byPlace = (a: Place, b: Place): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The room with `line` in its place, unless it has it already, or it stands
 * among lines the page let go of. */
function add(room: Room, line: Line): Room {
  if (!keeps(room.held, line)) return room;
  const has = (l: Line) =>
    (l.id === line.id && l.kind === line.kind) || (line.offset !== undefined && l.offset === line.offset);
  if (room.lines.some(has)) return room;
  return { ...room, lines: placed(room.lines, line) };
}

function placed(lines: readonly Line[], line: Line): Line[] {
  let i = lines.length;
  while (i > 0 && byPlace(lines[i - 1].place, line.place) > 0) i--;
  return [...lines.slice(0, i), line, ...lines.slice(i)];
}

/** The room with the bot's answer `id` updated (and placed anew), or added. */
function withAnswer(room: Room, id: string, update: (line: Line | undefined) => Line | null): Room {
  const index = room.lines.findIndex((line) => line.kind === "bot" && line.id === id);
  const line = update(room.lines[index]);
  if (line === null) return room;
  if (index < 0) return add(room, line);
  return { ...room, lines: placed(room.lines.filter((_, i) => i !== index), line) };
}

/** A line of the history sent on joining; `earlier` for a newcomer's page, one
 * that has shown nothing of the room yet. */
function historyLine(message: Frame, earlier: boolean): Line {
  const from = text(message.from);
  const offset = count(message.offset);
  const said = {
    id: text(message.id) || localId(),
    ...when(message),
    ...changesOf(message),
    ...(earlier ? { earlier: true as const } : {}),
    place: [offset ?? -1, 0, ++counter] as const,
    ...(offset === undefined ? {} : { offset }),
  };
  if (from === BOT) return { kind: "bot", ...said, text: text(message.text), status: "complete" };
  return { kind: "public", ...said, from, text: text(message.text), toBot: false };
}

const STATUSES: readonly AnswerStatus[] = ["complete", "interrupted", "stopped", "flagged", "failed"];

/** The question an answer's frame names. */
const questionOf = (frame: Frame): { questionId?: string } =>
  typeof frame.questionId === "string" ? { questionId: frame.questionId } : {};

/** Whether `line` is an answer to this person's question: theirs to stop or ask again. */
export const askedByMe = (room: Pick<Room, "questions">, line: Line): boolean =>
  line.kind === "bot" && line.questionId !== undefined && room.questions.includes(line.questionId);

const isFrame = (value: unknown): value is Frame =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The room after one frame from the server. */
export function receive(room: Room, frame: Frame): Room {
  // Errors first: they also carry a systemMessage, for the course's clients to show.
  if (typeof frame.error === "string") return refused(answered(room, frame), frame, frame.error);
  if (Array.isArray(frame.members)) {
    const asOf = count(frame.asOf);
    if (asOf !== undefined && asOf < room.membersAsOf) return room;
    return {
      ...room,
      members: frame.members.map(text),
      // Without asOf: the list now, for this connection alone.
      membersAsOf: asOf ?? Math.max(room.membersAsOf, room.latest),
      latest: Math.max(room.latest, asOf ?? 0),
    };
  }
  if (Array.isArray(frame.history)) {
    const newcomer = room.lines.every((line) => line.earlier);
    return frame.history
      .filter(isFrame)
      .map((message) => historyLine(message, newcomer))
      .reduce(add, room);
  }
  if (Array.isArray(frame.lines)) return fetched(room, frame, frame.lines);
  if (Array.isArray(frame.missed)) {
    const next = frame.missed.filter(isFrame).reduce(receive, room);
    return frame.complete === true ? caughtUp(next) : next;
  }
  if (typeof frame.resumeToken === "string") return started(room, frame, frame.resumeToken);
  if (frame.type === "persona") {
    const or = (value: unknown) => (typeof value === "string" ? value : null);
    return { ...room, persona: { persona: or(frame.persona), model: or(frame.model), by: or(frame.by) } };
  }
  if (typeof frame.botDelta === "string") {
    const piece = frame.botDelta;
    const id = text(frame.answerId);
    return withAnswer(room, id, (line) => {
      if (line?.kind === "bot" && line.status !== "streaming") return null; // it ended already
      return {
        kind: "bot",
        id,
        ...(line?.ts !== undefined ? { ts: line.ts } : when(frame)),
        place: line?.place ?? [Infinity, 0, ++counter],
        // A reader who came in as it streamed gets the text so far at once.
        text: (frame.soFar === true || line?.kind !== "bot" ? "" : line.text) + piece,
        status: "streaming",
        ...questionOf(frame),
      };
    });
  }
  const next = answered(room, frame);
  const offset = count(frame.offset);
  const conversation =
    typeof frame.systemMessage === "string" || typeof frame.publicMessage === "string" || isChange(frame);
  if (offset !== undefined && conversation) {
    const [offsets, ready] = arrive(next.offsets, offset, frame);
    return ready.reduce(apply, { ...next, offsets, latest: Math.max(next.latest, offset) });
  }
  const privateOffset = count(frame.privateOffset);
  if (privateOffset !== undefined && typeof frame.privateMessage === "string") {
    const [privates, ready] = arrive(next.privates, privateOffset, frame);
    return ready.reduce(apply, { ...next, privates });
  }
  return apply(next, frame);
}

/** The outbox, its first message answered by `frame` or not. */
function answered(room: Room, frame: Frame): Room {
  const head = room.outbox[0];
  const waiting = head?.sentAt !== undefined || head?.again === true;
  return waiting && room.me !== null && answers(head, frame, room.me)
    ? { ...room, outbox: room.outbox.slice(1) }
    : room;
}

function refused(room: Room, frame: Frame, error: string): Room {
  // Lines fetched as the reader scrolls: asked for again as they scroll on.
  if (frame.action === "lines") return { ...room, held: { ...room.held, loading: null } };
  if (frame.action === "setName") {
    if (frame.code === "resume_invalid" && room.resuming) {
      // Join afresh under the same name; the room hears of it.
      const name = room.asked ?? room.me ?? room.session?.name ?? "";
      return send(
        { ...room, resuming: false, resumeFailed: true, session: null, asked: name },
        join(name, room.language),
      );
    }
    if (room.asked !== null || room.resuming) {
      return {
        ...room,
        me: null,
        asked: null,
        nameError: error,
        resuming: false,
        resumeFailed: room.resumeFailed || room.resuming,
      };
    }
  }
  return add(room, {
    kind: "error",
    id: localId(),
    ...when(frame),
    place: here(room),
    text: error,
    code: text(frame.code),
  });
}

/** A session frame: back in the room, or in with a new session. */
function started(room: Room, frame: Frame, token: string): Room {
  const name = text(frame.name);
  const offset = count(frame.offset) ?? 0;
  const privateOffset = count(frame.privateOffset) ?? 0;
  let next: Room = {
    ...room,
    session: { token, name },
    me: name,
    asked: null,
    nameError: null,
    latest: Math.max(room.latest, offset),
  };
  // Back: what was missed follows, from where this page had read.
  if (room.resuming) return next;
  // A new session: its private stream starts here; the room's lines after what
  // this page has read are asked for.
  next = { ...next, privates: { last: privateOffset, held: [] } };
  if (room.offsets.last === null) next = reading({ ...next, offsets: { last: offset, held: [] } }, offset);
  // Until that answer, a message that may have arrived before the drop waits.
  else if (offset > room.offsets.last)
    next = send({ ...next, resuming: true }, { ...sync(room), privateOffset });
  if (!room.resumeFailed) return next;
  return add(
    { ...next, resumeFailed: false },
    // After the line announcing the join, which takes the next offset.
    {
      kind: "notice",
      id: localId(),
      ...when(frame),
      place: [offset + 1, 1, ++counter],
      notice: "rejoined",
    },
  );
}

/** All that was missed came: gaps still open will never fill. */
function caughtUp(room: Room): Room {
  const [offsets, late] = release(room.offsets);
  const [privates, latePrivate] = release(room.privates);
  const next = [...late, ...latePrivate].reduce(apply, {
    ...room,
    offsets,
    privates,
    resuming: false,
    gapSince: null,
    syncedAt: null,
  });
  return offered(next);
}

/** After all that was missed came: a summary offered when enough of others'
 * lines came since the page had read. */
function offered(room: Room): Room {
  const after = room.readBefore;
  if (after === null) return room;
  const unread = room.lines.filter(
    (line) =>
      line.offset !== undefined &&
      line.offset > after &&
      (line.kind === "bot" || (line.kind === "public" && line.from !== room.me)),
  ).length;
  return { ...room, readBefore: null, catchUp: unread >= CATCH_UP_FROM ? { after, unread } : null };
}

/** The room after a post of the `lines` answer it waits for: its lines, if
 * its span adjoins what the page holds (it may have let go of lines since
 * it asked); the last post ends the wait. An answer it no longer waits for
 * changes nothing: the lines said since it was read may be gone. */
function fetched(room: Room, frame: Frame, items: unknown[]): Room {
  if (!awaited(room.held, frame.before, frame.after)) return room;
  const from = count(frame.from);
  const to = typeof frame.to === "number" && Number.isSafeInteger(frame.to) ? frame.to : undefined;
  const side = from === undefined || to === undefined ? null : adjoins(room.held, from, to);
  let next = room;
  if (side !== null && from !== undefined && to !== undefined) {
    const had = new Set(room.lines.map(lineKey));
    const held: Held =
      side === "earlier"
        ? { ...room.held, from, start: frame.start === true }
        : { ...room.held, until: untilAfter(room.held, to, frame.end === true) };
    // Added as if the answer had come: the lines are within what the page holds.
    const added = items.filter(isFrame).reduce(apply, { ...room, held: { ...room.held, until: null } });
    next = {
      ...added,
      held,
      lines: added.lines.map((line) => (had.has(lineKey(line)) ? line : { ...line, fetched: true as const })),
    };
  }
  return frame.complete === true ? { ...next, held: { ...next.held, loading: null } } : next;
}

/** The room with a line of the conversation, in its place. */
function apply(room: Room, frame: Frame): Room {
  if (isChange(frame)) {
    const lines = changed(room.lines, frame);
    return lines === room.lines ? room : { ...room, lines };
  }
  const offset = count(frame.offset);
  const at = offset === undefined ? {} : { offset };
  if (typeof frame.systemMessage === "string") {
    let next = room;
    const event = text(frame.event);
    if (room.asked !== null && (event === "joined" || event === "renamed") && frame.name === room.asked) {
      next = { ...room, me: room.asked, asked: null, nameError: null };
    }
    return add(next, {
      kind: "system",
      id: text(frame.id) || localId(),
      ...when(frame),
      place: offset === undefined ? here(room) : [offset, 0, 0],
      ...at,
      text: frame.systemMessage,
    });
  }
  if (typeof frame.publicMessage === "string") {
    const from = text(frame.from);
    if (from === BOT && typeof frame.answerId === "string") {
      if (offset !== undefined && room.lines.some((line) => line.offset === offset)) return room;
      const id = frame.answerId;
      const status = STATUSES.find((s) => s === frame.status) ?? "complete";
      return withAnswer(room, id, (line) => ({
        kind: "bot",
        id,
        ...changesOf(frame),
        ...(line?.ts !== undefined ? { ts: line.ts } : when(frame)),
        // Without an offset, where it was, or (if it streamed) here.
        place:
          offset !== undefined
            ? [offset, 0, 0]
            : line && line.place[0] !== Infinity
              ? line.place
              : here(room),
        ...at,
        text: text(frame.text),
        status,
        ...(line?.kind === "bot" && line.questionId !== undefined ? { questionId: line.questionId } : {}),
        ...questionOf(frame),
      }));
    }
    const said = {
      id: text(frame.id) || localId(),
      ...when(frame),
      ...changesOf(frame),
      place: offset === undefined ? here(room) : ([offset, 0, 0] as const),
      ...at,
    };
    const line: Line = from
      ? { kind: "public", ...said, from, text: text(frame.text), toBot: typeof frame.answerId === "string" }
      : { kind: "system", ...said, text: frame.publicMessage };
    const asked = typeof frame.answerId === "string" && from === room.me && !room.questions.includes(said.id);
    return add(asked ? { ...room, questions: [...room.questions, said.id] } : room, line);
  }
  if (typeof frame.privateMessage === "string" && typeof frame.answerId === "string") {
    // A summary of what the room said (`catchUp`): the bot's answer, for this person alone.
    const after = count(frame.after);
    const id = frame.answerId;
    const status = STATUSES.find((s) => s === frame.status) ?? "complete";
    return withAnswer(room, id, (line) => ({
      kind: "bot",
      id,
      ...(line?.ts !== undefined ? { ts: line.ts } : when(frame)),
      place: after === undefined ? here(room) : [after, 1, count(frame.privateOffset) ?? ++counter],
      text: text(frame.text),
      status,
    }));
  }
  if (typeof frame.privateMessage === "string") {
    const after = count(frame.after);
    return add(room, {
      kind: "private",
      id: text(frame.id) || localId(),
      ...when(frame),
      place: after === undefined ? here(room) : [after, 1, count(frame.privateOffset) ?? ++counter],
      from: text(frame.from),
      to: text(frame.to),
      text: text(frame.text) || frame.privateMessage,
    });
  }
  return room;
}

/** What a reload of the page keeps: the session, and how far the page read. */
export const saved = (room: Room): Saved | null =>
  room.session && room.me !== null
    ? {
        token: room.session.token,
        name: room.me,
        offset: room.offsets.last ?? 0,
        privateOffset: room.privates.last ?? 0,
        ...(room.questions.length ? { questions: room.questions.slice(-KEPT_QUESTIONS) } : {}),
      }
    : null;
