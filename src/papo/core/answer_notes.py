"""What the bot's actions find again about an answer, from whichever
invocation serves them: the question it answers and whose it is (`asked`),
whether its asker stopped it (`stopped_by`), and whether it has ended.

On AWS an answer streams in an invocation of its own, and a stop or an
"ask again" arrives in another: they meet through these notes in the store.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from papo.core.ports import AnswerJob, Connection, Notes
from papo.core.refusals import ErrorCode, Refusal

_decode_job = msgspec.json.Decoder(AnswerJob).decode

MAX_ANSWER_ID = 64
"""Longer than any answer id papo gives (a question's 32 characters, a dot
and 12 more): a longer one names no answer, and is never looked up."""


def person_of(connection: Connection) -> str:
    """Who a connection is, beyond the connection: its identity when papo's
    authorizer let it in, else its resumable session, else only itself. An
    answer is its person's on any connection they resume on."""
    if connection.principal is not None:
        return f"principal:{connection.principal}"
    if connection.session is not None:
        return f"session:{connection.session}"
    return f"connection:{connection.connection_id}"


def answer_id_for(question_id: str, new_id: Callable[[], str]) -> str:
    """A new answer's id, which names the question it answers: the bot's memory
    keeps the latest answer of each question (see `papo.core.memory`)."""
    return f"{question_id}.{new_id()[:12]}"


def question_of(answer_id: str) -> str | None:
    """The question an answer id names (None: an id of before answers named it)."""
    question, dot, _ = answer_id.rpartition(".")
    return question if dot else None


def keep_asked(notes: Notes, job: AnswerJob, expires_at: int) -> None:
    notes.put_note(f"asked:{job.answer_id}", msgspec.json.encode(job), expires_at)


def asked(notes: Notes, answer_id: str) -> AnswerJob | None:
    """The job of an answer asked in this room, while its note lasts."""
    kept = notes.note(f"asked:{answer_id}")
    return None if kept is None else _decode_job(kept)


def stop(notes: Notes, answer_id: str, by: str, expires_at: int) -> None:
    notes.put_note(f"stop:{answer_id}", by.encode(), expires_at)


def stopped_by(notes: Notes, answer_id: str) -> str | None:
    """The name of whoever stopped the answer, if someone did."""
    kept = notes.note(f"stop:{answer_id}")
    return None if kept is None else kept.decode()


def end(notes: Notes, answer_id: str, status: str, expires_at: int) -> None:
    notes.put_note(f"ended:{answer_id}", status.encode(), expires_at)


def has_ended(notes: Notes, answer_id: str) -> bool:
    return notes.note(f"ended:{answer_id}") is not None


def own_answer(notes: Notes, asker: Connection, answer_id: str) -> AnswerJob:
    """The job of an answer `asker` asked for, or a Refusal: no such answer
    in this room, or someone else's."""
    job = asked(notes, answer_id) if 0 < len(answer_id) <= MAX_ANSWER_ID else None
    if job is None:
        raise Refusal(ErrorCode.UNKNOWN_ANSWER)
    if job.person != person_of(asker):
        raise Refusal(ErrorCode.NOT_YOUR_ANSWER, name=job.asker)
    return job
