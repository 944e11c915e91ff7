/**
 * Where messages are written: to everyone, to the bot or to one person.
 * Enter sends and Shift+Enter starts a new line; the box grows with its text
 * and, near the server's limit, says how many characters are left.
 */

import { type FormEvent, type KeyboardEvent, useLayoutEffect, useRef, useState } from "react";

import { type Messages } from "./i18n";
import { complete, mentionAt, suggestions } from "./mentions";
import { BOT } from "./room";

export const EVERYONE = "";

/** The server's limits, in characters (code points, as the server counts). */
export const MESSAGE_LIMIT = 4000;
export const QUESTION_LIMIT = 1000;

/** Characters left, and whether to say so: in the last fifth of the limit. */
export function remaining(text: string, limit: number): { left: number; show: boolean } {
  const left = limit - [...text].length;
  return { left, show: left <= limit / 5 };
}

export function Composer(props: {
  people: string[];
  disabled: boolean;
  onSend: (to: string, message: string) => void;
  /** The person types (the page tells the room, at most every few seconds). */
  onTyping?: () => void;
  t: Messages;
}) {
  const { t } = props;
  const [to, setTo] = useState(EVERYONE);
  const [message, setMessage] = useState("");
  const box = useRef<HTMLTextAreaElement | null>(null);
  const target = to === EVERYONE || to === BOT || props.people.includes(to) ? to : EVERYONE;
  const { left, show } = remaining(message, target === BOT ? QUESTION_LIMIT : MESSAGE_LIMIT);
  const ready = !props.disabled && message.trim() !== "" && left >= 0;
  const query = mentionAt(message);
  const offered = query === null ? [] : suggestions(query, props.people);
  const [chosen, setChosen] = useState(0);
  const pick = offered[Math.min(chosen, offered.length - 1)];
  const mention = (name: string) => {
    setMessage(complete(message, name));
    setChosen(0);
    box.current?.focus();
  };

  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    element.style.height = "auto";
    const borders = element.offsetHeight - element.clientHeight;
    element.style.height = `${element.scrollHeight + borders}px`;
  }, [message]);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (!ready) return;
    props.onSend(target, message);
    setMessage("");
    box.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (pick !== undefined && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : offered.length - 1;
      setChosen((Math.min(chosen, offered.length - 1) + step) % offered.length);
      return;
    }
    if (pick !== undefined && (event.key === "Tab" || (event.key === "Enter" && !event.shiftKey))) {
      event.preventDefault();
      mention(pick);
      return;
    }
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <form className="composer" onSubmit={submit}>
      <div className="composer-top">
        <select aria-label={t.to} value={target} onChange={(event) => setTo(event.target.value)}>
          <option value={EVERYONE}>{t.everyone}</option>
          <option value={BOT}>{t.askTheBot}</option>
          {props.people.map((name) => (
            <option key={name} value={name}>
              {t.privately(name)}
            </option>
          ))}
        </select>
        <span id="composer-count" className={left < 0 ? "count over" : "count"} hidden={!show}>
          {left >= 0 ? t.charactersLeft(left) : t.charactersOver(-left)}
        </span>
      </div>
      {offered.length > 0 && (
        <ul className="mentions" role="listbox" aria-label={t.mentionSuggestions}>
          {offered.map((name) => (
            <li key={name} role="option" aria-selected={name === pick}>
              <button type="button" tabIndex={-1} onClick={() => mention(name)}>
                @{name}
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="composer-row">
        <textarea
          ref={box}
          aria-label={t.message}
          aria-describedby="composer-hint composer-count"
          aria-invalid={left < 0 || undefined}
          rows={1}
          autoFocus
          enterKeyHint="send"
          value={message}
          placeholder={target === BOT ? t.askPlaceholder : t.saySomething}
          onChange={(event) => {
            setMessage(event.target.value);
            if (event.target.value.trim() && target !== BOT) props.onTyping?.();
          }}
          onKeyDown={onKeyDown}
        />
        <button type="submit" disabled={!ready}>
          {t.send}
        </button>
      </div>
      <p id="composer-hint" className="sr-only">
        {t.composerHint}
      </p>
    </form>
  );
}
