/**
 * What the bot's own parts of the page offer: Stop and Ask again on an answer
 * to this person's question, the room's own bot (its persona), and a summary
 * of what came while they were away.
 */

import { type Messages as Words } from "./i18n";
import { type Line, type Persona } from "./room";

/** What the person may do with the answers to their questions. */
export interface Answers {
  /** Whether the line is an answer to this person's question. */
  mine: (line: Line) => boolean;
  stop: (answerId: string) => void;
  again: (answerId: string) => void;
}

export function AnswerControls(props: { line: Line; answers: Answers; t: Words }) {
  const { line, answers, t } = props;
  if (line.kind !== "bot" || !answers.mine(line)) return null;
  if (line.status === "streaming") {
    return (
      <button type="button" className="answer-control secondary" onClick={() => answers.stop(line.id)}>
        {t.stop}
      </button>
    );
  }
  if (line.status === "failed") return null;
  return (
    <button type="button" className="answer-control secondary" onClick={() => answers.again(line.id)}>
      {t.askAgain}
    </button>
  );
}

export function PersonaLine(props: { persona: Persona | null; t: Words }) {
  const { persona, t } = props;
  if (persona === null || (persona.persona === null && persona.model === null)) return null;
  return <p className="persona">{t.persona(persona.persona, persona.model)}</p>;
}

export function CatchUpOffer(props: {
  offer: { unread: number } | null;
  t: Words;
  onTake: () => void;
  onLeave: () => void;
}) {
  const { offer, t } = props;
  if (offer === null) return null;
  return (
    <div className="catch-up" role="region" aria-label={t.catchUp}>
      <span>{t.catchUpOffer(offer.unread)}</span>{" "}
      <button type="button" onClick={props.onTake}>
        {t.catchUp}
      </button>{" "}
      <button type="button" className="secondary" onClick={props.onLeave}>
        {t.noThanks}
      </button>
    </div>
  );
}
