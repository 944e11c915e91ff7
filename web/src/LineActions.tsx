/**
 * What a person does to a line: react with an emoji (any message), edit it
 * in place or delete it (their own). The menu opens from a small button on
 * the line, so that phones, which have no hover, reach it as desktops do; the
 * reactions show under the line as chips, each with its count and, in its
 * title, who reacted. What is asked goes to the server (`changes.ts`), and
 * the line changes when the room hears it.
 */

import { type FormEvent, type KeyboardEvent, useRef, useState } from "react";

import { QUICK_REACTIONS, deleteFrame, editFrame, editable, reactFrame, reactable } from "./changes";
import { type Messages as Words } from "./i18n";
import { type Frame, type Line } from "./room";

export type Change = (frame: Frame) => void;

/** The line's reactions, each a chip that adds or takes back the reader's own. */
export function Reactions({ line, me, t, change }: { line: Line; me: string; t: Words; change: Change }) {
  if (!line.reactions?.length || line.offset === undefined || line.deleted) return null;
  const offset = line.offset;
  return (
    <ul className="reactions" aria-label={t.reactions}>
      {line.reactions.map(({ emoji, by }) => {
        const mine = by.includes(me);
        return (
          <li key={emoji}>
            <button
              type="button"
              className="reaction"
              aria-pressed={mine}
              // Its name is what it shows (the emoji, the count); who reacted, its description.
              title={t.reactedBy(by)}
              onClick={() => change(reactFrame(offset, emoji, !mine))}
            >
              {emoji} <span className="count">{by.length}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** The button that opens a line's menu, on lines that have one. */
export function MenuButton(props: { line: Line; t: Words; open: boolean; toggle: () => void }) {
  if (!reactable(props.line)) return null;
  return (
    <button
      type="button"
      className="line-menu-button"
      aria-expanded={props.open}
      aria-label={props.t.lineActions}
      // One stop for the whole conversation: the arrows go among these (`moveAmongMenus`).
      tabIndex={-1}
      onClick={props.toggle}
    >
      ⋯
    </button>
  );
}

/** A line's menu, open: react, and for one's own, edit or delete. */
export function LineMenu(props: {
  line: Line;
  me: string;
  t: Words;
  change: Change;
  onEdit: () => void;
  close: () => void;
}) {
  const { line, me, t, change } = props;
  const [confirming, setConfirming] = useState(false);
  const group = useRef<HTMLDivElement | null>(null);
  /** Closes the menu, the focus back on the button that opened it (the arrows go on from there). */
  const close = () => {
    group.current?.parentElement?.querySelector<HTMLElement>(".line-menu-button")?.focus();
    props.close();
  };
  if (!reactable(line) || line.offset === undefined) return null;
  const offset = line.offset;
  return (
    <div
      className="line-actions"
      role="group"
      aria-label={t.lineActions}
      ref={group}
      onKeyDown={(event) => {
        if (event.key !== "Escape") return;
        event.stopPropagation();
        close();
      }}
    >
      {QUICK_REACTIONS.map((emoji) => (
        <button
          key={emoji}
          type="button"
          className="secondary emoji"
          aria-label={t.reactWith(emoji)}
          onClick={() => {
            const had = line.reactions?.some((r) => r.emoji === emoji && r.by.includes(me)) ?? false;
            change(reactFrame(offset, emoji, !had));
            close();
          }}
        >
          {emoji}
        </button>
      ))}
      {editable(line, me) && (
        <>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              props.onEdit();
              close();
            }}
          >
            {t.edit}
          </button>
          {/* Asked once more: the same button, now saying what it will do. */}
          <button
            type="button"
            className={confirming ? "danger" : "secondary"}
            onClick={() => (confirming ? (change(deleteFrame(offset)), close()) : setConfirming(true))}
          >
            {confirming ? t.deleteConfirm : t.delete}
          </button>
        </>
      )}
    </div>
  );
}

/** One's own line, edited in place: Enter saves, Escape leaves it as it was. */
export function EditForm(props: { line: Line & { text: string }; t: Words; change: Change; done: () => void }) {
  const { line, t, change, done } = props;
  const [text, setText] = useState(line.text);
  const save = (event?: FormEvent) => {
    event?.preventDefault();
    if (line.offset !== undefined && text.trim() && text !== line.text) change(editFrame(line.offset, text));
    done();
  };
  const keys = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Escape") done();
    else if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) save(event);
  };
  return (
    <form className="edit" onSubmit={save}>
      <textarea
        aria-label={t.editMessage}
        value={text}
        // The person asked to edit this line: the field is where they type.
        autoFocus
        onChange={(event) => setText(event.target.value)}
        onKeyDown={keys}
      />
      <div className="edit-buttons">
        <button type="submit">{t.save}</button>
        <button type="button" className="secondary" onClick={done}>
          {t.cancel}
        </button>
      </div>
    </form>
  );
}

/**
 * The keyboard among the lines' menus. The conversation is one stop of the
 * page's Tab order, however many lines it holds: its menus' buttons are not
 * (`tabIndex` -1). From the conversation, Enter goes to the menu of the newest
 * line in view; ArrowUp and ArrowDown go from one line's menu to the next;
 * Escape goes back to the conversation. Returns whether it took the key.
 */
export function moveAmongMenus(event: KeyboardEvent<HTMLElement>): boolean {
  const log = event.currentTarget;
  const buttons = [...log.querySelectorAll<HTMLElement>(".line-menu-button")];
  const index = buttons.indexOf(event.target as HTMLElement);
  let to: HTMLElement | undefined;
  if (event.target === log && event.key === "Enter") {
    const bottom = log.getBoundingClientRect().bottom;
    to = buttons.filter((button) => button.getBoundingClientRect().top < bottom).at(-1);
  } else if (index >= 0) {
    to = event.key === "Escape" ? log : buttons[index + ({ ArrowUp: -1, ArrowDown: 1 }[event.key] ?? NaN)];
  }
  to?.focus();
  return to !== undefined;
}
