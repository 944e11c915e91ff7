import { type FormEvent, useCallback, useEffect, useMemo, useRef, useState } from "react";

import { pageTitle, seenLines, unreadCount } from "./attention";
import { useAwareness } from "./Awareness";
import { type Answers, CatchUpOffer, PersonaLine } from "./BotControls";
import { Composer, EVERYONE } from "./Composer";
import { type Pass, type Problem, type Trouble, afterClose, invitePass, takeInvite } from "./access";
import {
  LANGUAGES,
  LANGUAGE_NAMES,
  type Language,
  MESSAGES,
  type Messages as Words,
  browserLanguages,
  formatLocale,
  initialLanguage,
  rememberLanguage,
} from "./i18n";
import { Messages, type Reader } from "./Messages";
import type { SignIn as SigningIn } from "./oidc";
import { Backoff, type Saved, restore, save } from "./reconnect";
import { isAway, typists } from "./presence";
import { BOT, type Frame, type RoomAction, askedByMe, emptyRoom, roomReducer, saved, wakeAt } from "./room";
import { type PageRoom, pageRoom, quoted, roomAddress, roomName, roomTitle } from "./rooms";
import { type Settings, loadConfig, settings, withLanguage } from "./socket";
import { keepFrom } from "./window";

const TITLE = "papo";
const PING = JSON.stringify({ action: "ping" });

/** The lines on the page when it was hidden, or null while it is seen. */
const hiddenSince = (lines: Parameters<typeof seenLines>[0]) =>
  document.visibilityState === "hidden" ? seenLines(lines) : null;

/** How the page gets in: its settings, the room its address names, the token
 * papo's authorizer lets it in with (none: anyone may connect, or the page
 * signs in first), and the sign-in, when config.json names an issuer. */
interface Access {
  settings: Settings;
  room: PageRoom;
  pass: Pass | null;
  signIn: SigningIn | null;
}

/** What the page finds once: how it gets in, what keeps it out, if anything, and
 * the session this tab kept in the room, if the page was reloaded. */
interface Found {
  access: Access;
  trouble: Trouble | null;
  kept: Saved | null;
}

/** How the page gets in, as it finds it once: an invite in its address (taken out
 * of it) or kept, else this tab's sign-in, when config.json names an issuer;
 * and the room, from the address as it is then (back from signing in, the
 * address it left with). */
let found: Promise<Found> | undefined;
const findAccess = () => (found ??= lookForAccess());

async function lookForAccess(): Promise<Found> {
  const config = await loadConfig();
  const { invite, address } = takeInvite(window.location.href);
  if (address !== null) window.history.replaceState(window.history.state, "", address);
  const signIn = !invite && config.oidc ? await (await import("./oidc")).start(config) : null;
  const room = pageRoom(window.location.href);
  if (room.room !== null && room.address !== null) {
    window.history.replaceState(window.history.state, "", room.address);
  }
  const here = settings(config, window.location.search, window.location.hostname);
  const pass = invite ? invitePass(invite) : (signIn?.pass ?? null);
  return {
    access: { settings: here, room, pass, signIn },
    trouble: signIn?.trouble ?? null,
    kept: room.room === null ? null : restore(room.room),
  };
}

function parse(data: unknown): Frame | null {
  try {
    const frame: unknown = JSON.parse(String(data));
    return frame && typeof frame === "object" && !Array.isArray(frame) ? (frame as Frame) : null;
  } catch {
    return null; // a frame that is not JSON carries nothing for this client
  }
}

export function App() {
  // How many lines to keep: `?keep=` in the page's address, beside its other settings.
  const [room, setRoom] = useState(() =>
    roomReducer(emptyRoom, { type: "keep", lines: keepFrom(window.location.search) }),
  );
  const [waiting, setWaiting] = useState(false);
  const [language, setLanguage] = useState<Language>(initialLanguage);
  const [access, setAccess] = useState<Access | null>(null);
  const [trouble, setTrouble] = useState<Trouble | null>(null);
  const [peopleOpen, setPeopleOpen] = useState(false);
  const [roomsOpen, setRoomsOpen] = useState(false);
  const [seen, setSeen] = useState(() => hiddenSince([]));
  const state = useRef(room);
  const socket = useRef<WebSocket | null>(null);
  const retryNow = useRef(() => {});
  /** The room the page is in, once its address is read (null: none yet, or no room's name). */
  const here = useRef<string | null>(null);
  const current = useRef({ language, lines: room.lines });
  current.current = { language, lines: room.lines };
  const t = MESSAGES[language];
  const locale = formatLocale(language, browserLanguages());
  const aware = useAwareness({ socket, room, inside: access?.room.room ?? null, t });
  const awareOf = aware.frame;

  /** One step of the room (room.ts); what it says to send goes out at once. */
  const act = useCallback((action: RoomAction) => {
    const next = roomReducer(state.current, action);
    state.current = next;
    const ws = socket.current;
    if (ws?.readyState === WebSocket.OPEN) {
      for (const frame of next.outgoing) ws.send(JSON.stringify(frame));
    }
    setRoom(next);
  }, []);

  /** What the reader does in the conversation: where they are, and going for more lines. */
  const reader = useMemo<Reader>(
    () => ({
      reading: (view) => act({ type: "reading", view }),
      more: (side) => act({ type: "more", side }),
      newest: () => act({ type: "newest" }),
    }),
    [act],
  );

  /** An edit, a delete or a reaction the person asks for. */
  const change = useCallback((frame: Frame) => act({ type: "change", frame }), [act]);
  /** The answers to this person's questions: they may stop one, or ask again. */
  const questions = room.questions;
  const answers = useMemo<Answers>(
    () => ({
      mine: (line) => askedByMe({ questions }, line),
      stop: (answerId) => act({ type: "stop", answerId }),
      again: (answerId) => act({ type: "again", answerId }),
    }),
    [act, questions],
  );

  useEffect(() => {
    findAccess().then(
      ({ access, trouble: why, kept }) => {
        here.current = access.room.room;
        act({ type: "kept", session: kept });
        setAccess(access);
        setTrouble(why);
      },
      (error: unknown) => setTrouble({ failed: String(error) }),
    );
  }, [act]);

  // The connection, once the page has what papo's authorizer asks for: opened
  // again whenever it closes, after a backoff (reconnect.ts), unless the
  // authorizer said no; kept open by a heartbeat.
  useEffect(() => {
    if (access === null || access.room.room === null || (access.signIn && !access.pass)) return;
    const { settings: place, pass, signIn } = access;
    const inside = access.room.room;
    let stopped = false;
    let ws: WebSocket | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let beat: ReturnType<typeof setInterval> | undefined;
    let everOpened = false;
    const backoff = new Backoff();

    /** papo's authorizer keeps the page out: no more tries; a sign-in is asked for again,
     * keeping the place in the room to take back once signed in. */
    const keptOut = (problem: Problem | null) => {
      stopped = true;
      setTrouble(problem);
      if (signIn) {
        save(saved(state.current), inside);
        signIn.forget();
        setAccess({ ...access, pass: null });
      }
      act({ type: "reset" });
    };

    const connect = () => {
      clearTimeout(retry);
      retry = undefined;
      setWaiting(false);
      if (stopped) return;
      const s = new WebSocket(withLanguage(place.url, current.current.language, pass?.token, inside));
      ws = socket.current = s;
      let heard = true;
      const lost = () => {
        if (ws !== s) return;
        clearInterval(beat);
        ws = socket.current = null;
        act({ type: "closed", at: Date.now() });
        if (stopped) return;
        const verdict = afterClose(pass, everOpened, Date.now());
        if (!verdict.retry) return keptOut(verdict.problem);
        setTrouble(verdict.problem);
        retry = setTimeout(connect, backoff.next());
        setWaiting(true);
      };
      s.onopen = () => {
        everOpened = true;
        setTrouble(null);
        if (state.current.me === null) backoff.reset();
        act({ type: "open", language: current.current.language, at: Date.now() });
        if (place.heartbeatMs > 0) {
          beat = setInterval(() => {
            // Nothing heard since the last ping: the connection died without a word.
            if (!heard) {
              s.close();
              lost();
            } else {
              heard = false;
              s.send(PING);
            }
          }, place.heartbeatMs);
        }
      };
      s.onmessage = (event) => {
        heard = true;
        const frame = parse(event.data);
        if (frame === null) return;
        if (frame.type === "session") backoff.reset();
        // The name went to another device of this person: coming back would take it again.
        if (frame.code === "taken_over") {
          stopped = true;
          setTrouble("movedAway");
        }
        act({ type: "frame", frame, at: Date.now() });
        awareOf(frame);
      };
      s.onclose = lost;
    };

    const now = () => {
      if (retry !== undefined && document.visibilityState === "visible") connect();
    };
    retryNow.current = now;
    connect();
    // Back online, or a phone woken: no need to wait out the backoff.
    window.addEventListener("online", now);
    document.addEventListener("visibilitychange", now);
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearInterval(beat);
      window.removeEventListener("online", now);
      document.removeEventListener("visibilitychange", now);
      ws?.close();
    };
  }, [act, access, awareOf]);

  // Time passing: a gap held too long is asked for, a message unanswered is let go.
  useEffect(() => {
    const wake = wakeAt(room);
    if (wake === null) return;
    const timer = setTimeout(
      () => act({ type: "tick", at: Math.max(Date.now(), wake) }),
      wake - Date.now(),
    );
    return () => clearTimeout(timer);
  }, [room, act]);

  // A reload keeps this tab's place in the room, to take it back on joining with the same name.
  useEffect(() => {
    const keep = () => {
      if (here.current !== null) save(saved(state.current), here.current);
    };
    const shown = (event: PageTransitionEvent) => {
      if (event.persisted && here.current !== null) restore(here.current);
    };
    window.addEventListener("pagehide", keep);
    window.addEventListener("pageshow", shown);
    return () => {
      window.removeEventListener("pagehide", keep);
      window.removeEventListener("pageshow", shown);
    };
  }, []);

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  useEffect(() => {
    const onVisibility = () => setSeen(hiddenSince(current.current.lines));
    document.addEventListener("visibilitychange", onVisibility);
    return () => document.removeEventListener("visibilitychange", onVisibility);
  }, []);

  const unread = seen === null ? 0 : unreadCount(room.lines, seen, room.me);
  const inside = access?.room.room ?? null;
  useEffect(() => {
    document.title = pageTitle(roomTitle(TITLE, inside), unread);
  }, [unread, inside]);

  // The people list, when it folds out over the conversation, and the form
  // that opens another room fold back on Escape or a tap elsewhere.
  useFoldBack(peopleOpen, setPeopleOpen, "#people", ".people-toggle");
  useFoldBack(roomsOpen, setRoomsOpen, "#rooms", ".rooms-toggle");

  /** The form that opens another room, folded back, the focus back on its button. */
  const closeRooms = () => {
    setRoomsOpen(false);
    document.querySelector<HTMLElement>(".rooms-toggle")?.focus();
  };

  const switchLanguage = (next: Language) => {
    setLanguage(next);
    rememberLanguage(next);
    act({ type: "language", language: next });
  };

  const movedAway = trouble === "movedAway";
  const back = room.me !== null && (!room.open || room.resuming) && !movedAway;
  const signingIn = access?.signIn != null && !access.pass;
  const noRoom = access !== null && access.room.room === null ? access.room.invalid : null;
  const out = signingIn || noRoom !== null || (trouble !== null && trouble !== "noPass");
  const status = back ? "reconnecting" : room.open ? "open" : out ? "notConnected" : "connecting";
  const troubleText =
    trouble === null ? null : typeof trouble === "string" ? t[trouble] : t.signInFailed(trouble.failed);

  const signIn = () => {
    setTrouble(null);
    access?.signIn?.signIn().catch((error: unknown) => setTrouble({ failed: String(error) }));
  };

  const signOut = () => {
    access?.signIn?.forget();
    if (inside !== null) restore(inside); // this tab's place in the room, forgotten
    act({ type: "reset" });
    setTrouble(null);
    if (access) setAccess({ ...access, pass: null });
  };

  return (
    <div className="app">
      <header>
        <h1>{TITLE}</h1>
        {inside !== null && (
          <button
            type="button"
            className="rooms-toggle secondary"
            aria-expanded={roomsOpen}
            aria-controls="rooms"
            onClick={() => setRoomsOpen((open) => !open)}
          >
            <span className="room-label">{t.room}</span> <span className="room-name">{inside}</span>
          </button>
        )}
        <div className={`connection ${status}`}>
          <span className={`status ${status}`} role="status">
            {status === "open" ? (room.me ? t.youAre(room.me) : t.connected) : movedAway ? t.movedAway : t[status]}
          </span>
          {waiting && (
            <button type="button" className="secondary" onClick={() => retryNow.current()}>
              {t.reconnectNow}
            </button>
          )}
        </div>
        {roomsOpen && inside !== null && (
          <RoomForm id="rooms" t={t} current={inside} autoFocus onClose={closeRooms} />
        )}
        <div className="tools">
          {room.me !== null && (
            <button
              type="button"
              className="people-toggle secondary"
              aria-expanded={peopleOpen}
              aria-controls="people"
              onClick={() => setPeopleOpen((open) => !open)}
            >
              {t.peopleButton(room.members.length)}
            </button>
          )}
          {room.me !== null && aware.notifications.supported && (
            <button
              type="button"
              className="notifications-toggle secondary"
              aria-pressed={aware.notifications.on}
              title={aware.notifications.blocked ? t.notificationsBlocked : undefined}
              onClick={aware.notifications.toggle}
            >
              {t.notifications}
            </button>
          )}
          {access?.signIn && access.pass && (
            <button type="button" className="secondary" onClick={signOut}>
              {t.signOut}
            </button>
          )}
          <select
            className="language"
            aria-label={t.language}
            value={language}
            onChange={(event) => switchLanguage(event.target.value as Language)}
          >
            {LANGUAGES.map((code) => (
              <option key={code} value={code} lang={code}>
                {LANGUAGE_NAMES[code]}
              </option>
            ))}
          </select>
        </div>
      </header>
      {noRoom !== null ? (
        <main className="lobby">
          <RoomForm id="rooms" t={t} current={null} name={noRoom} />
        </main>
      ) : room.me === null ? (
        <main className="lobby">
          {access && (
            <JoinForm
              key={access.pass?.token ?? ""}
              t={t}
              name={access.pass?.name ?? room.session?.name ?? ""}
              hint={access.pass?.name ? t.nameGiven : null}
              disabled={!room.open || room.asked !== null || room.resuming}
              error={
                troubleText ??
                (room.resumeFailed ? `${t.resumeFailed} ${room.nameError ?? ""}`.trim() : room.nameError)
              }
              onJoin={(name) => act({ type: "join", name, language })}
              onSignIn={signingIn ? signIn : null}
            />
          )}
        </main>
      ) : (
        <div className="room">
          <aside id="people" className={peopleOpen ? "open" : undefined}>
            <h2>{t.people}</h2>
            {aware.state.counts !== null && aware.state.counts.away > 0 && (
              <p className="presence-counts">{t.hereAndAway(aware.state.counts.here, aware.state.counts.away)}</p>
            )}
            <ul aria-label={t.people}>
              {room.members.map((name) => {
                const away = isAway(aware.state, name);
                const classes = [name === room.me && "me", away && "away"].filter(Boolean).join(" ");
                return (
                  <li key={name} className={classes || undefined}>
                    {name}
                    {away && <span className="presence"> ({t.away})</span>}
                  </li>
                );
              })}
            </ul>
            {Object.keys(aware.state.unread).length > 0 && (
              <nav aria-label={t.otherRooms} className="other-rooms">
                <h2>{t.otherRooms}</h2>
                <ul>
                  {Object.entries(aware.state.unread).map(([name, counted]) => (
                    <li key={name}>
                      <a href={roomAddress(window.location.href, name)}>{name}</a>
                      {counted.count > 0 && <span className="unread-count"> {t.unreadIn(counted.count)}</span>}
                    </li>
                  ))}
                </ul>
              </nav>
            )}
          </aside>
          <main className="chat">
            <PersonaLine persona={room.persona} t={t} />
            <CatchUpOffer
              offer={room.catchUp}
              t={t}
              onTake={() => act({ type: "catchUp" })}
              onLeave={() => act({ type: "noCatchUp" })}
            />
            <Messages
              lines={room.lines}
              me={room.me}
              t={t}
              locale={locale}
              held={room.held}
              reader={reader}
              change={change}
              marker={aware.state.marker}
              answers={answers}
            />
            <TypingNow names={typists(aware.state, aware.now, room.me)} t={t} />
            <Composer
              t={t}
              people={room.members.filter((name) => name !== room.me)}
              disabled={status !== "open" || room.asked !== null}
              onTyping={aware.typed}
              onSend={(to, message) =>
                act({
                  type: "say",
                  say:
                    to === BOT
                      ? { action: "sendBot", message }
                      : to === EVERYONE
                        ? { action: "sendPublic", message }
                        : { action: "sendPrivate", to, message },
                  at: Date.now(),
                })
              }
            />
          </main>
        </div>
      )}
    </div>
  );
}

/** "Ana is typing…", said politely to screen readers; an empty line while nobody types. */
function TypingNow(props: { names: readonly string[]; t: Words }) {
  return (
    <p className="typing" aria-live="polite">
      {props.names.length > 0 ? props.t.typing(props.names) : ""}
    </p>
  );
}

/** While `open`, what `popover` selects folds back (`setOpen(false)`) on
 * Escape, focus going back to its `toggle` if it was inside, or on a tap
 * outside both. */
function useFoldBack(
  open: boolean,
  setOpen: (open: boolean) => void,
  popover: string,
  toggle: string,
) {
  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      if (document.activeElement?.closest(popover)) document.querySelector<HTMLElement>(toggle)?.focus();
      setOpen(false);
    };
    const onPointer = (event: PointerEvent) => {
      const target = event.target as Element | null;
      if (!target?.closest(`${popover}, ${toggle}`)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open, setOpen, popover, toggle]);
}

function JoinForm(props: {
  t: Words;
  /** The name to offer: the one the page's pass gives, or the one this tab had before a reload. */
  name: string;
  /** Why the name cannot be changed: the page's pass gives it. */
  hint: string | null;
  disabled: boolean;
  error: string | null;
  onJoin: (name: string) => void;
  /** papo asks for a sign-in first: a button in place of the name. */
  onSignIn: (() => void) | null;
}) {
  const { t } = props;
  const [name, setName] = useState(props.name);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (props.onSignIn) props.onSignIn();
    else if (name.trim() && !props.disabled) props.onJoin(name.trim());
  };
  const described = [props.hint && "name-hint", props.error && "name-error"].filter(Boolean).join(" ");
  return (
    <form className="join" onSubmit={submit}>
      {props.onSignIn ? (
        <button type="submit" autoFocus>
          {t.signIn}
        </button>
      ) : (
        <>
          <label htmlFor="name">{t.yourName}</label>
          <input
            id="name"
            value={name}
            maxLength={32}
            autoFocus
            autoComplete="nickname"
            readOnly={props.hint !== null}
            aria-invalid={props.error ? true : undefined}
            aria-describedby={described || undefined}
            onChange={(event) => setName(event.target.value)}
          />
          <button type="submit" disabled={props.disabled || !name.trim()}>
            {t.join}
          </button>
        </>
      )}
      {props.hint && (
        <p className="hint" id="name-hint">
          {props.hint}
        </p>
      )}
      {props.error && (
        <p className="error" id="name-error" role="alert">
          {props.error}
        </p>
      )}
    </form>
  );
}

/** Opens another room: its name, checked as the server checks it, then the
 * page in that room (a navigation: the session here stays kept for this room,
 * and Back comes back to it). */
function RoomForm(props: {
  id: string;
  t: Words;
  /** The room the page is in (null: none). */
  current: string | null;
  /** A name that is no room's, the page's address gave (the form says so). */
  name?: string;
  autoFocus?: boolean;
  onClose?: () => void;
}) {
  const { t } = props;
  const [name, setName] = useState(props.name ?? "");
  const [wrong, setWrong] = useState(props.name ?? null);
  const error = wrong === null ? null : t.notARoom(quoted(wrong.trim()));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return;
    const room = roomName(name);
    if (room === null) {
      setWrong(name);
    } else if (room === props.current) {
      props.onClose?.();
    } else {
      window.location.assign(roomAddress(window.location.href, room));
    }
  };
  return (
    <form id={props.id} className="room-form" onSubmit={submit}>
      <label htmlFor="room-field">{t.goToRoom}</label>
      <input
        id="room-field"
        value={name}
        autoFocus={props.autoFocus}
        autoCorrect="off"
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? "room-rules room-error" : "room-rules"}
        onChange={(event) => {
          setName(event.target.value);
          setWrong(null);
        }}
      />
      <button type="submit" disabled={!name.trim()}>
        {t.go}
      </button>
      <p className="hint" id="room-rules">
        {t.roomRules}
      </p>
      {error && (
        <p className="error" id="room-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
