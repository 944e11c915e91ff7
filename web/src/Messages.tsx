/**
 * The conversation: a polite live region (`role=log`) of lines, each with its
 * time, a separator where the day changes, and a divider below the history a
 * newcomer received. A streaming answer is `aria-busy` until it settles, so
 * screen readers read it once, whole.
 */

import { Fragment, memo, useLayoutEffect, useMemo, useRef } from "react";

import { wantsAttention } from "./attention";
import { type Messages as Words } from "./i18n";
import { linkify } from "./linkify";
import { Answer } from "./Markdown";
import { BOT, type Line } from "./room";
import { dayLabel, fullTime, timeOfDay, timeline } from "./timeline";

/** How close to the bottom (px) still counts as reading the latest lines. */
const NEAR_BOTTOM = 64;

export function Messages(props: { lines: Line[]; me: string; t: Words; locale: string }) {
  const { lines, me, t, locale } = props;
  const box = useRef<HTMLDivElement | null>(null);
  const following = useRef(true);
  const items = useMemo(() => timeline(lines), [lines]);

  useLayoutEffect(() => {
    const element = box.current;
    const last = lines.at(-1);
    if (element && (following.current || (last !== undefined && isMine(last, me))))
      element.scrollTop = element.scrollHeight;
  }, [lines, me]);

  const onScroll = () => {
    const element = box.current;
    if (element) {
      following.current = element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM;
    }
  };

  const now = Date.now();
  return (
    <div
      className="messages"
      role="log"
      aria-live="polite"
      aria-label={t.messages}
      // It scrolls, so the keyboard can reach it to scroll it.
      tabIndex={0}
      ref={box}
      onScroll={onScroll}
    >
      <ol>
        {items.map((item) => {
          switch (item.kind) {
            case "day":
              return (
                <li key={item.key} className="day">
                  <span>{dayLabel(item.ts, now, locale, t)}</span>
                </li>
              );
            case "earlier":
              return (
                <li key={item.key} className="earlier">
                  <span>{t.earlierMessages}</span>
                </li>
              );
            case "line":
              return <LineItem key={item.key} line={item.line} me={me} t={t} locale={locale} />;
          }
        })}
      </ol>
    </div>
  );
}

/** Memoized: a streaming answer changes one line, and the others stay as they were. */
const LineItem = memo(function LineItem(props: { line: Line; me: string; t: Words; locale: string }) {
  const { line, me, t, locale } = props;
  const attention = wantsAttention(line, me);
  const streaming = line.kind === "bot" && line.status === "streaming";
  const classes = ["line", attention && "attention", line.earlier && "from-history"].filter(Boolean);
  return (
    <li
      className={classes.join(" ")}
      data-kind={line.kind}
      data-mine={isMine(line, me) || undefined}
      data-status={line.kind === "bot" ? line.status : undefined}
      aria-busy={streaming || undefined}
    >
      {line.ts !== undefined && (
        <time dateTime={new Date(line.ts).toISOString()} title={fullTime(line.ts, locale)}>
          {timeOfDay(line.ts, locale)}
        </time>
      )}
      <div className={bodyClass(line, me)}>
        <LineView line={line} t={t} />
      </div>
      {attention && line.kind !== "private" && <span className="sr-only">({t.mentionsYou})</span>}
    </li>
  );
});

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
          {line.toBot && <span className="tag">{t.toBot}</span>}: <Linked text={line.text} />
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
