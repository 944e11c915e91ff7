/**
 * The page's side of presence, typing, read markers and notifications: what
 * it tells the server (whether its person is looking, that they type, how far
 * they read, which other rooms it knows) and what it makes of the server's
 * frames (`presence.ts`), and the browser notifications while the tab is hidden.
 */

import { type RefObject, useCallback, useEffect, useRef, useState } from "react";

import type { Messages as Words } from "./i18n";
import { type Choice, notice, remember, remembered } from "./notify";
import {
  type Awareness,
  IDLE_MS,
  READ_EVERY_MS,
  TYPING_EVERY_MS,
  Throttle,
  aware,
  keptRooms,
  noAwareness,
  typingEnds,
} from "./presence";
import type { Frame, Room } from "./room";

/** Telling the server its person is here or away goes at most this often (it counts in their pace). */
const PRESENCE_EVERY_MS = 2000;

export interface Notifications {
  /** Whether the browser can show them at all. */
  supported: boolean;
  on: boolean;
  /** The browser refused them when asked. */
  blocked: boolean;
  toggle: () => void;
}

const canNotify = () => typeof Notification !== "undefined";

export function useAwareness(props: {
  socket: RefObject<WebSocket | null>;
  room: Room;
  inside: string | null;
  t: Words;
}): { state: Awareness; now: number; frame: (frame: Frame) => void; typed: () => void; notifications: Notifications } {
  const { socket, room, inside, t } = props;
  const [state, setState] = useState(noAwareness);
  const [now, setNow] = useState(() => Date.now());
  const [choice, setChoice] = useState<Choice | null>(() => remembered(localStorage));
  const [blocked, setBlocked] = useState(false);
  const current = useRef({ me: room.me, inside, t, choice, state });
  current.current = { me: room.me, inside, t, choice, state };
  const typing = useRef(new Throttle(TYPING_EVERY_MS));
  const reading = useRef({ throttle: new Throttle(READ_EVERY_MS), sent: 0 });
  const looking = useRef({ state: "here" as "here" | "away", sent: null as string | null, at: -Infinity });

  /** The connection the page's person joined on: none of these goes on another, which would be refused. */
  const joinedOn = useRef<WebSocket | null>(null);
  const send = useCallback(
    (frame: Frame) => {
      const ws = socket.current;
      if (ws !== null && ws === joinedOn.current && ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify(frame));
      }
    },
    [socket],
  );

  /** Tells the server whether its person is looking, unless it was just told. */
  const tellLooking = useCallback(() => {
    const seen = looking.current;
    if (seen.sent === seen.state) return;
    const wait = seen.at + PRESENCE_EVERY_MS - Date.now();
    if (wait > 0) {
      setTimeout(tellLooking, wait);
      return;
    }
    seen.sent = seen.state;
    seen.at = Date.now();
    send({ action: "presence", state: seen.state });
  }, [send]);

  const frame = useCallback(
    (frame: Frame) => {
      const { me, inside: here, t: words, choice: chosen } = current.current;
      if (here === null) return;
      setState((state) => aware(state, frame, here, Date.now()));
      if (frame.type === "session") {
        // Joined, or back: who is here, and where this person stopped reading here and elsewhere.
        joinedOn.current = socket.current;
        send({ action: "presence" });
        looking.current.sent = "here";
        tellLooking();
        send({ action: "unread", rooms: keptRooms(sessionStorage, here) });
      }
      const wanted = notice(frame, me);
      if (wanted && chosen === "on" && document.visibilityState === "hidden" && canNotify()) {
        if (Notification.permission !== "granted") return;
        const title = frame.type === "private" ? words.wroteToYou(wanted.from) : words.mentionedYou(wanted.from);
        const shown = new Notification(title, {
          body: wanted.text.slice(0, 200),
          tag: typeof frame.id === "string" ? frame.id : undefined,
        });
        shown.onclick = () => window.focus();
      }
    },
    [send, tellLooking, socket],
  );

  const typed = useCallback(() => {
    if (typing.current.take(Date.now())) send({ action: "typing" });
  }, [send]);

  // "Ana is typing…" goes once nothing more was heard of it.
  useEffect(() => {
    const ends = typingEnds(state, now);
    if (ends === null) return;
    const timer = setTimeout(() => setNow(Date.now()), ends - Date.now());
    return () => clearTimeout(timer);
  }, [state, now]);

  // Here while the tab shows and its person uses it; away when it is hidden or left idle.
  useEffect(() => {
    let idle: ReturnType<typeof setTimeout> | undefined;
    const update = (state: "here" | "away") => {
      if (looking.current.state === state) return;
      looking.current.state = state;
      tellLooking();
    };
    const used = () => {
      clearTimeout(idle);
      if (document.visibilityState !== "visible") return update("away");
      update("here");
      idle = setTimeout(() => update("away"), IDLE_MS);
    };
    const shown = () => {
      used();
      const here = current.current.inside;
      if (document.visibilityState === "visible" && here !== null && current.current.me !== null) {
        send({ action: "unread", rooms: keptRooms(sessionStorage, here) });
      }
    };
    used();
    document.addEventListener("visibilitychange", shown);
    for (const event of ["pointerdown", "keydown"]) document.addEventListener(event, used);
    return () => {
      clearTimeout(idle);
      document.removeEventListener("visibilitychange", shown);
      for (const event of ["pointerdown", "keydown"]) document.removeEventListener(event, used);
    };
  }, [send, tellLooking]);

  // How far the person read: the newest line the page holds, while the tab shows,
  // once the divider's place is known, at most once every few seconds.
  const last = room.offsets.last ?? 0;
  const [visible, setVisible] = useState(() => document.visibilityState === "visible");
  useEffect(() => {
    const onVisibility = () => setVisible(document.visibilityState === "visible");
    document.addEventListener("visibilitychange", onVisibility);
    return () => document.removeEventListener("visibilitychange", onVisibility);
  }, []);
  const ready = room.me !== null && room.open && state.marker !== null && visible;
  useEffect(() => {
    const read = reading.current;
    if (!ready || last <= read.sent) return;
    const go = () => {
      if (!read.throttle.take(Date.now())) return;
      read.sent = last;
      send({ action: "read", offset: last });
    };
    const wait = read.throttle.next() - Date.now();
    if (wait <= 0) return go();
    const timer = setTimeout(go, wait);
    return () => clearTimeout(timer);
  }, [ready, last, send]);

  const toggle = useCallback(() => {
    if (current.current.choice === "on") {
      remember(localStorage, "off");
      setChoice("off");
      return;
    }
    if (!canNotify()) return;
    const decided = (permission: NotificationPermission) => {
      const next: Choice = permission === "granted" ? "on" : "off";
      setBlocked(permission === "denied");
      remember(localStorage, next);
      setChoice(next);
    };
    if (Notification.permission === "granted") decided("granted");
    else void Notification.requestPermission().then(decided);
  }, []);

  return {
    state,
    now,
    frame,
    typed,
    notifications: { supported: canNotify(), on: choice === "on", blocked, toggle },
  };
}
