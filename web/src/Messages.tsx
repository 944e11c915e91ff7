/**
 * The conversation: a log (`role=log`) of lines, each with its time, a
 * separator where the day changes, and a divider below the history a
 * newcomer received. Only the lines near the view are in the page, measured
 * as they render (@tanstack/react-virtual): the view follows the newest while
 * the reader is at the bottom and stays on the line they read otherwise,
 * whatever comes or goes above or below it. Reaching the first or last line
 * the page holds fetches what is beyond (`window.ts`).
 *
 * Lines come into the page as the reader scrolls, so the log itself is no
 * live region: a screen reader would read them again. New lines are said
 * once each by a polite live region of their own (`Announcer`), a streaming
 * answer once it settled; it is also `aria-busy` in the log until then.
 */

import { type Virtualizer, useVirtualizer } from "@tanstack/react-virtual";
import { Fragment, memo, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";

import { type Answers, AnswerControls } from "./BotControls";
import { wantsAttention } from "./attention";
import { type Messages as Words } from "./i18n";
import { type Change, EditForm, LineMenu, MenuButton, Reactions, moveAmongMenus } from "./LineActions";
import { linkify } from "./linkify";
import { Answer } from "./Markdown";
import { BOT, type Line, lineKey } from "./room";
import { type Shown, withDivider } from "./divider";
import { dayLabel, fullTime, timeOfDay, timeline } from "./timeline";
import { type Held, type View, hasEarlier } from "./window";

/** How close to the bottom (px) still counts as reading the latest lines. */
const NEAR_BOTTOM = 64;
/** Lines rendered beyond the view, above and below, for smooth scrolling. */
const OVERSCAN = 8;
/** How long the view stays still before it tells where the reader is. */
const SETTLE_MS = 100;
/** How long after the reader touched the log (wheel, key, pointer) a scroll is theirs. */
const TOUCH_MS = 1000;

export interface Reader {
  /** What the reader sees: the places of the first and last lines in view; null: following the newest. */
  reading: (view: View | null) => void;
  more: (side: "earlier" | "later") => void;
  newest: () => void;
}

export function Messages(props: {
  lines: Line[];
  me: string;
  t: Words;
  locale: string;
  held: Held;
  reader: Reader;
  /** Asks for an edit, a delete or a reaction. */
  change: Change;
  /** Where this person had stopped reading: the "new messages" divider goes below it. */
  marker?: number | null;
  /** What the person may do with the answers to their questions. */
  answers?: Answers;
}) {
  const { lines, me, t, locale, held, reader, change, marker = null, answers } = props;
  const box = useRef<HTMLDivElement | null>(null);
  const list = useRef<HTMLOListElement | null>(null);
  const [margin, setMargin] = useState(0);
  const earlier = hasEarlier(held);
  // Going up for earlier lines, the first line held has no day separator: the
  // view holds still on a line as they come in above it.
  const up = earlier && held.heading === "earlier";
  const items = useMemo(() => withDivider(timeline(lines, !up), marker, me), [lines, up, marker, me]);
  const detached = held.until !== null;

  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => box.current,
    estimateSize: (index) => (items[index]?.kind === "line" ? 36 : 32),
    getItemKey: (index) => items[index]?.key ?? index,
    overscan: OVERSCAN,
    gap: 2,
    scrollMargin: margin,
    // Lines coming or going above the reader leave them on the line they read.
    anchorTo: "end",
    scrollEndThreshold: NEAR_BOTTOM,
  });

  // The list starts below what stands above it in the log (the way to earlier lines).
  useLayoutEffect(() => {
    const top = list.current?.offsetTop ?? 0;
    if (top !== margin) setMargin(top);
  });

  // At the bottom, the view follows what comes (the oldest lines going as the
  // newest come); and it goes there for the person's own line, wherever they were.
  const following = useRef(true);
  const last = lines.at(-1);
  const mine = last !== undefined && isMine(last, me) ? lineKey(last) : null;
  useLayoutEffect(() => {
    if (mine !== null) following.current = true;
  }, [mine]);
  useLayoutEffect(() => {
    const element = box.current;
    if (!element || detached) return;
    // Back among the newest (their lines fetched, or gone to them): at the bottom, it follows again.
    if (element.scrollHeight - element.clientHeight - element.scrollTop < NEAR_BOTTOM) following.current = true;
    if (following.current) virtualizer.scrollToEnd();
  }, [items, detached]);

  /** The reader takes the view: the view stops going to the bottom on its own. */
  const touched = useRef(-Infinity);
  const hold = () => {
    touched.current = performance.now();
    virtualizer.cancelScroll();
  };

  // Where the reader is: at once when they leave the bottom or come to an end
  // of what the page holds (which then fetches what lies beyond), else once
  // the view stays still a moment.
  const told = useRef<View | null>(null);
  const settle = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const tell = () => {
    const element = box.current;
    const view = following.current || !element ? null : viewOf(items, virtualizer, element);
    if (view?.first !== told.current?.first || view?.last !== told.current?.last) {
      told.current = view;
      reader.reading(view);
    }
  };
  const look = () => {
    clearTimeout(settle.current);
    const element = box.current;
    if (!element) return;
    const fromTop = element.scrollTop - margin;
    const fromBottom = element.scrollHeight - element.clientHeight - element.scrollTop;
    const was = following.current;
    // Only the reader leaves the bottom: the view also moves as lines come and go.
    if (fromBottom < NEAR_BOTTOM) following.current = !detached;
    else if (detached || performance.now() - touched.current < TOUCH_MS) following.current = false;
    const atTop = fromTop < element.clientHeight && earlier;
    const atBottom = fromBottom < element.clientHeight && detached;
    if (was !== following.current || ((atTop || atBottom) && held.loading === null)) tell();
    else settle.current = setTimeout(tell, SETTLE_MS);
    if (held.loading === null && (atTop || atBottom)) reader.more(atTop ? "earlier" : "later");
  };
  useEffect(() => () => clearTimeout(settle.current), []);
  // Lines that came may leave the view still at an end of what the page holds,
  // and no scroll then says so: it looks again once a fetch ends.
  const fetching = useRef(held.loading);
  useEffect(() => {
    const was = fetching.current;
    fetching.current = held.loading;
    if (was !== null && held.loading === null) look();
  });

  // Lines heard since the last render show themselves coming in.
  const before = useRef<Tail>({ settled: new Map(), from: -Infinity });
  const arrived = useMemo(() => fresh(lines, before.current), [lines]);
  useEffect(() => {
    before.current = tailOf(lines);
  }, [lines]);

  const now = Date.now();
  const rendered = virtualizer.getVirtualItems();
  return (
    <>
      <div
        className="messages"
        role="log"
        // Lines enter the page as the reader scrolls: the announcer says the new ones.
        aria-live="off"
        aria-label={t.messages}
        // It scrolls, so the keyboard can reach it to scroll it.
        tabIndex={0}
        ref={box}
        onScroll={look}
        onWheel={hold}
        onTouchStart={hold}
        onKeyDown={(event) => {
          if (moveAmongMenus(event)) event.preventDefault();
          else hold();
        }}
        onPointerDown={hold}
        aria-describedby="messages-keys"
      >
        {held.loading === "earlier" ? (
          <p className="more">{t.loadingEarlier}</p>
        ) : (
          earlier && (
            <p className="more">
              <button type="button" className="secondary" onClick={() => reader.more("earlier")}>
                {t.showEarlier}
              </button>
            </p>
          )
        )}
        <ol className="lines" ref={list} style={{ height: virtualizer.getTotalSize() }}>
          {rendered.map((row) => {
            const item = items[row.index];
            const style = { top: row.start - margin };
            const ref = virtualizer.measureElement;
            switch (item.kind) {
              case "day":
                return (
                  <li key={item.key} className="day" data-index={row.index} ref={ref} style={style}>
                    <span>{dayLabel(item.ts, now, locale, t)}</span>
                  </li>
                );
              case "earlier":
                return (
                  <li key={item.key} className="earlier" data-index={row.index} ref={ref} style={style}>
                    <span>{t.earlierMessages}</span>
                  </li>
                );
              case "unread":
                return (
                  <li key={item.key} className="unread" data-index={row.index} ref={ref} style={style}>
                    <span>{t.newMessages}</span>
                  </li>
                );
              case "line":
                return (
                  <LineItem
                    key={item.key}
                    index={row.index}
                    measure={ref}
                    top={style.top}
                    line={item.line}
                    arrived={arrived.has(item.key)}
                    me={me}
                    t={t}
                    locale={locale}
                    change={change}
                    answers={answers}
                  />
                );
            }
          })}
        </ol>
        {detached && (
          <p className="more">
            {held.loading === "later" ? (
              t.loadingNewer
            ) : (
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  // The click is no taking of the view: what moves it next is the lines coming back.
                  following.current = true;
                  touched.current = -Infinity;
                  reader.newest();
                }}
              >
                {t.newestMessages}
              </button>
            )}
          </p>
        )}
      </div>
      <p id="messages-keys" className="sr-only">
        {t.messagesKeys}
      </p>
      <Announcer lines={lines} me={me} t={t} />
    </>
  );
}

/** The places of the first and last lines in view (null: none). */
function viewOf(
  items: readonly Shown[],
  virtualizer: Virtualizer<HTMLDivElement, Element>,
  element: HTMLElement,
): View | null {
  const top = virtualizer.getVirtualItemForOffset(element.scrollTop)?.index ?? 0;
  const bottom = virtualizer.getVirtualItemForOffset(element.scrollTop + element.clientHeight)?.index;
  const places = items
    .slice(top, (bottom ?? items.length - 1) + 1)
    .flatMap((item) => (item.kind === "line" && Number.isFinite(item.line.place[0]) ? [item.line.place[0]] : []));
  return places.length ? { first: places[0], last: places[places.length - 1] } : null;
}

/** A line where it stands in the list. */
function LineItem(props: {
  index: number;
  measure: (element: HTMLLIElement | null) => void;
  top: number;
  line: Line;
  /** Heard just now: it shows itself coming in. */
  arrived: boolean;
  me: string;
  t: Words;
  locale: string;
  change: Change;
  answers?: Answers;
}) {
  const { line, me } = props;
  const attention = wantsAttention(line, me);
  const streaming = line.kind === "bot" && line.status === "streaming";
  const classes = ["line", attention && "attention", line.earlier && "from-history"];
  return (
    <li
      className={classes.filter(Boolean).join(" ")}
      data-arrived={props.arrived || undefined}
      data-index={props.index}
      ref={props.measure}
      style={{ top: props.top }}
      data-kind={line.kind}
      data-mine={isMine(line, me) || undefined}
      data-status={line.kind === "bot" ? line.status : undefined}
      aria-busy={streaming || undefined}
    >
      <LineContent
        line={line}
        attention={attention}
        me={me}
        t={props.t}
        locale={props.locale}
        change={props.change}
        answers={props.answers}
        own={props.answers?.mine(line) ?? false}
      />
    </li>
  );
}

/** Memoized: lines move as others come and go, and a streaming answer changes
 * one line; what the others say is drawn once. */
const LineContent = memo(function LineContent(props: {
  line: Line;
  attention: boolean;
  me: string;
  t: Words;
  locale: string;
  change: Change;
  answers?: Answers;
  /** An answer to this person's question (drawn again when that changes). */
  own: boolean;
}) {
  const { line, me, t, locale, change } = props;
  const [editing, setEditing] = useState(false);
  const [menu, setMenu] = useState(false);
  return (
    <>
      {line.ts !== undefined && (
        <time dateTime={new Date(line.ts).toISOString()} title={fullTime(line.ts, locale)}>
          {timeOfDay(line.ts, locale)}
        </time>
      )}
      <MenuButton line={line} t={t} open={menu} toggle={() => setMenu(!menu)} />
      <div className={bodyClass(line, me)}>
        {editing && line.kind === "public" && !line.deleted ? (
          <EditForm line={line} t={t} change={change} done={() => setEditing(false)} />
        ) : (
          <LineView line={line} t={t} />
        )}
      </div>
      {menu && (
        <LineMenu
          line={line}
          me={me}
          t={t}
          change={change}
          onEdit={() => setEditing(true)}
          close={() => setMenu(false)}
        />
      )}
      <Reactions line={line} me={me} t={t} change={change} />
      {props.own && props.answers && <AnswerControls line={line} answers={props.answers} t={t} />}
      {props.attention && line.kind !== "private" && <span className="sr-only">({t.mentionsYou})</span>}
    </>
  );
});

/** The last lines, where new ones come in: whether each had settled, by key,
 * and the place of the first. */
interface Tail {
  settled: ReadonlyMap<string, boolean>;
  from: number;
}
const TAIL = 100;

function tailOf(lines: readonly Line[]): Tail {
  const last = lines.slice(-TAIL);
  return { settled: new Map(last.map((l) => [lineKey(l), settled(l)])), from: last[0]?.place[0] ?? -Infinity };
}

/** The keys of lines heard since `before` was the tail (not those fetched
 * again, nor a newcomer's history, nor older ones the tail reaches as the
 * page lets go of newer), and with `settling`, of answers that settled since. */
function fresh(lines: readonly Line[], before: Tail, settling = false): Set<string> {
  const keys = new Set<string>();
  for (const line of lines.slice(-TAIL)) {
    const key = lineKey(line);
    const was = before.settled.get(key);
    const news = (was === undefined && line.place[0] >= before.from) || (settling && was === false && settled(line));
    if (news && !line.fetched && !line.earlier) keys.add(key);
  }
  return keys;
}

/** How many lines the announcer keeps said: a screen reader reads what is added. */
const SPOKEN = 20;

/** Says each new line once, as it comes (an answer once it settled), in a
 * polite live region no one sees. */
function Announcer({ lines, me, t }: { lines: Line[]; me: string; t: Words }) {
  const [said, setSaid] = useState<{ key: string; text: string }[]>([]);
  // From nothing: the conversation shows once the person joined, and the line
  // that says so may come with the frame that shows it. What came before
  // (the history, lines fetched again) is no news, whenever it came.
  const heard = useRef<Tail>({ settled: new Map(), from: -Infinity });
  useEffect(() => {
    const before = heard.current;
    heard.current = tailOf(lines);
    const keys = fresh(lines, before, true);
    const news = lines.slice(-TAIL).filter((line) => keys.has(lineKey(line)) && settled(line));
    if (news.length) {
      const at = Date.now();
      setSaid((kept) =>
        [...kept, ...news.map((line) => ({ key: `${lineKey(line)}-${at}`, text: spoken(line, me, t) }))]
          .filter((entry) => entry.text)
          .slice(-SPOKEN),
      );
    }
  }, [lines, me, t]);
  return (
    <div className="sr-only" aria-live="polite" aria-relevant="additions">
      {said.map((entry) => (
        <p key={entry.key}>{entry.text}</p>
      ))}
    </div>
  );
}

/** A line that will not change: anything but an answer still streaming. */
const settled = (line: Line): boolean => !(line.kind === "bot" && line.status === "streaming");

/** A line as the announcer says it ("" for a refusal: it is an alert of its own). */
function spoken(line: Line, me: string, t: Words): string {
  const mention = wantsAttention(line, me) && line.kind !== "private" ? ` (${t.mentionsYou})` : "";
  switch (line.kind) {
    case "system":
      return line.text;
    case "notice":
      return t.rejoined;
    case "error":
      return "";
    case "public":
      return `${line.from}${line.toBot ? t.toBot : ""}: ${line.deleted ? t.messageDeleted : line.text}${mention}`;
    case "private":
      return `${line.from}${t.toPrivately(line.to)}: ${line.text}`;
    case "bot":
      return `${BOT}: ${line.text}${mention}`;
  }
}

const isMine = (line: Line, me: string): boolean =>
  (line.kind === "public" || line.kind === "private") && line.from === me;

function bodyClass(line: Line, me: string): string {
  const status = line.kind === "bot" ? ` ${line.status}` : "";
  return `body ${line.kind}${isMine(line, me) ? " mine" : ""}${status}`;
}

/** A person's words: plain text, with its web addresses as links. */
function Linked({ text }: { text: string }) {
  return (
    <span className="text">
      {linkify(text).map((piece, index) =>
        "href" in piece ? (
          <a key={index} href={piece.href} target="_blank" rel="noopener noreferrer">
            {piece.text}
          </a>
        ) : (
          <Fragment key={index}>{piece.text}</Fragment>
        ),
      )}
    </span>
  );
}

function LineView({ line, t }: { line: Line; t: Words }) {
  switch (line.kind) {
    case "system":
      return <em>{line.text}</em>;
    case "error":
      return <span role="alert">{line.text}</span>;
    case "notice":
      return <em>{t.rejoined}</em>;
    case "public":
      return (
        <>
          <b>{line.from}</b>
          {line.toBot && <span className="tag">{t.toBot}</span>}:{" "}
          {line.deleted ? (
            <em className="deleted">{t.messageDeleted}</em>
          ) : (
            <>
              <Linked text={line.text} />
              {line.editedAt !== undefined && <span className="tag edited"> ({t.edited})</span>}
            </>
          )}
        </>
      );
    case "private":
      return (
        <>
          <b>{line.from}</b>
          <span className="tag">{t.toPrivately(line.to)}</span>: <Linked text={line.text} />
        </>
      );
    case "bot": {
      const streaming = line.status === "streaming";
      return (
        <>
          <b>{BOT}</b>:{" "}
          <div className="answer">
            <Answer text={line.text} streaming={streaming} t={t} />
          </div>
          {streaming && (
            <>
              <span className="typing" aria-hidden="true" />
              <span className="sr-only">{t.answering}</span>
            </>
          )}
        </>
      );
    }
  }
}
