"""`sendBot`: a question to the bot, told to the room as a public message,
and its answer produced here or handed to `Answers` to produce elsewhere
(`papo.core.answering`); `/reset` starts the bot's memory afresh. A public
message that mentions the bot (`papo.core.mentioning`) and asking again
(`papo.core.asking_again`) start answers the same way.
"""

from __future__ import annotations

import msgspec.structs

from papo.core import answer_notes, moderation, protocol
from papo.core.answering import BOT_MEMORY, Answerer
from papo.core.ports import (
    AnswerJob,
    AnswerNotStarted,
    BotError,
    Connection,
    Envelope,
    LoggedMessage,
)
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room
from papo.core.rules import check_question

RESET_COMMANDS = frozenset({"/reset", "/new"})
"""`sendBot` messages that start a fresh conversation with the bot."""


def send_bot(room: Room, actor: Actor, payload: Payload) -> None:
    text = protocol.text_field(payload, "sendBot", "message")
    asker = room.joined(actor.connection_id)
    if text.strip().casefold() in RESET_COMMANDS:
        _reset(room, asker.name or "")
        return
    moderation.check_question(room.bot, room.rules.bot, check_question(text, room.rules.bot))
    start(room, reserve(room, asker, text, action="sendBot"), ask=True)


def reserve(
    room: Room,
    asker: Connection,
    text: str,
    *,
    action: str,
    question_id: str | None = None,
) -> AnswerJob:
    """An answer to `text` by `asker`, with its tokens and its asker's turn set
    aside; or a Refusal (too long, no bot, a limit), having taken nothing."""
    question = check_question(text, room.rules.bot)
    try:
        if room.bot is None:
            raise Refusal(ErrorCode.BOT_NOT_CONFIGURED)
        room.bot.check()
    except BotError:
        raise Refusal(ErrorCode.BOT_NOT_CONFIGURED) from None
    asked_at = room.clock()
    person = answer_notes.person_of(asker)
    reservation = room.quota.reserve(asker.connection_id, asked_at, person)
    question_id = question_id or room.new_id()
    return AnswerJob(
        answer_id=answer_notes.answer_id_for(question_id, room.new_id),
        question_id=question_id,
        asker_id=asker.connection_id,
        asker=asker.name or "",
        question=question,
        asked_at=asked_at,
        reserved_tokens=reservation.tokens,
        budget_key=reservation.budget_key,
        budget_expires_at=reservation.budget_expires_at,
        room=room.name,
        person=person,
        action=action,
    )


def start(room: Room, job: AnswerJob, *, ask: bool) -> None:
    """Has the answer produced: the room first hears the question if `ask`;
    the answer's note is kept for its asker to stop it or ask again."""
    answerer = Answerer(room)
    try:
        if ask:
            job = _ask(room, job)
        answer_notes.keep_asked(room.store, job, room.clock() + room.rules.history.ttl_ms)
        if room.answers is not None:
            room.answers.start(job)
    except AnswerNotStarted:
        answerer.abandon(job, ErrorCode.BOT_UNAVAILABLE)
        return
    except BaseException:
        answerer.abandon(job, ErrorCode.BOT_UNAVAILABLE)
        raise
    if room.answers is None:
        answerer.answer(job)


def _ask(room: Room, job: AnswerJob) -> AnswerJob:
    """Tells the room the question, and keeps it; the job learns its offset."""
    message = LoggedMessage(job.question_id, job.asked_at, job.asker, job.question)
    offset, frame = room.publish(
        lambda at: protocol.public_frame(
            job.asker,
            job.question,
            msg_id=job.question_id,
            ts=job.asked_at,
            offset=at,
            answerId=job.answer_id,
        ),
        message,
    )
    room.broadcast(room.audience(), frame)
    return msgspec.structs.replace(job, question_offset=offset)


def _reset(room: Room, sender: str) -> None:
    now = room.clock()
    said = room.system("botReset", sender, now, lambda t: t.bot_reset(sender))
    offset, frame = room.publish_localized(said)
    room.store.raise_mark(BOT_MEMORY, offset)
    room.send(
        [Envelope(m.connection_id, (frame(m.language),)) for m in room.audience() if not m.away]
    )
