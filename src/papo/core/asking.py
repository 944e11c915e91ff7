"""`sendBot`: a question to the bot, told to the room as a public message,
and its answer produced here or handed to `Answers` to produce elsewhere
(`papo.core.answering`); `/reset` starts the bot's memory afresh.
"""

from __future__ import annotations

import msgspec.structs

from papo.core import protocol
from papo.core.answering import BOT_MEMORY, Answerer
from papo.core.messages import named
from papo.core.ports import AnswerJob, AnswerNotStarted, BotError, Envelope, LoggedMessage
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room
from papo.core.rules import check_question

RESET_COMMANDS = frozenset({"/reset", "/new"})
"""`sendBot` messages that start a fresh conversation with the bot."""


def send_bot(room: Room, actor: Actor, payload: Payload) -> None:
    text = protocol.text_field(payload, "sendBot", "message")
    connection_id = actor.connection_id
    sender = named(room, connection_id)
    if text.strip().casefold() in RESET_COMMANDS:
        _reset(room, sender)
        return
    question = check_question(text, room.rules.bot)
    try:
        if room.bot is None:
            raise Refusal(ErrorCode.BOT_NOT_CONFIGURED)
        room.bot.check()
    except BotError:
        raise Refusal(ErrorCode.BOT_NOT_CONFIGURED) from None
    asked_at = room.clock()
    reservation = room.quota.reserve(connection_id, asked_at)
    job = AnswerJob(
        answer_id=room.new_id(),
        question_id=room.new_id(),
        asker_id=connection_id,
        asker=sender,
        question=question,
        asked_at=asked_at,
        reserved_tokens=reservation.tokens,
        budget_key=reservation.budget_key,
        budget_expires_at=reservation.budget_expires_at,
        room=room.name,
    )
    answerer = Answerer(room)
    try:
        job = _ask(room, job)
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
