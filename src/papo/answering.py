"""Producing a bot answer: ask with the room's memory, stream the answer in
coalesced pieces to every member, and end it with one final frame, whatever
happens upstream.

Every answer ends the same way for the room: a `publicMessage` from `Bot`
whose `status` is `complete`, `interrupted` (the text so far, marked) or
`failed` (a sentence saying why); the asker also gets an error frame with a
stable code when it did not complete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from papo import protocol
from papo.coalesce import coalesce
from papo.memory import conversation, estimate_tokens
from papo.ports import AnswerJob, BotError, BotFailure, BotReply, Envelope, LoggedMessage, Turn
from papo.protocol import ErrorCode

if TYPE_CHECKING:
    from papo.chat import Chat

BOT_NAME = "Bot"

FAILURE_CODES = {
    BotFailure.NOT_CONFIGURED: ErrorCode.BOT_NOT_CONFIGURED,
    BotFailure.UNAUTHORIZED: ErrorCode.BOT_UPSTREAM_UNAUTHORIZED,
    BotFailure.RATE_LIMITED: ErrorCode.BOT_UPSTREAM_RATE_LIMITED,
    BotFailure.REFUSED: ErrorCode.BOT_UPSTREAM_REFUSED,
    BotFailure.FAILED: ErrorCode.BOT_UPSTREAM_FAILED,
    BotFailure.TIMEOUT: ErrorCode.BOT_TIMEOUT,
    BotFailure.INTERRUPTED: ErrorCode.BOT_INTERRUPTED,
}


def answer(chat: Chat, job: AnswerJob) -> None:
    """Answers `job`; an unexpected exception is raised again once the room has
    heard the answer end, so that it is logged without leaving a half answer."""
    rules, store = chat.bot_rules, chat.store
    turns = conversation(
        rules.system_prompt,
        store.recent(rules.memory_messages, since=store.bot_memory_start()),
        rules.memory_tokens,
    )
    audience = [m.connection_id for m in store.members()]
    pieces: list[str] = []
    reply: BotReply | None = None
    error: BotError | None = None
    unexpected: Exception | None = None
    try:
        if chat.bot is None:
            raise BotError(BotFailure.NOT_CONFIGURED)
        reply = chat.bot.ask(turns, rules.max_answer_tokens)
        batches = coalesce(
            reply,
            interval_s=rules.flush_interval_ms / 1000,
            min_chars=rules.flush_min_chars,
            max_wait_s=rules.flush_max_wait_ms / 1000,
            max_chars=rules.flush_chars,
        )
        for seq, batch in enumerate(batches, start=1):
            pieces.append(batch)
            frame = protocol.bot_delta_frame(
                batch,
                answer_id=job.answer_id,
                question_id=job.question_id,
                seq=seq,
                sender=BOT_NAME,
                ts=chat.clock(),
            )
            gone = chat.send([Envelope(cid, (frame,)) for cid in audience])
            audience = [cid for cid in audience if cid not in gone]
    except BotError as failure:
        error = failure
    except Exception as exception:  # noqa: BLE001 - raised again below, after the final frame
        error, unexpected = BotError(BotFailure.FAILED), exception
    finally:
        if reply is not None:
            reply.close()
        _settle(chat, job, turns, "".join(pieces), reply)
    text = "".join(pieces)
    if error is None:
        _final(chat, job, text, "complete")
    elif text:
        marked = f"{text}\n\n{chat.texts.bot_interrupted()}"
        _final(chat, job, marked, "interrupted", FAILURE_CODES[error.failure], error)
    else:
        failed(chat, job, FAILURE_CODES[error.failure], error)
    if unexpected is not None:
        raise unexpected


def abandon(chat: Chat, job: AnswerJob, code: ErrorCode) -> None:
    """Ends an answer that could not be started: all it reserved goes back."""
    _settle(chat, job, [], "", None)
    failed(chat, job, code)


def failed(chat: Chat, job: AnswerJob, code: ErrorCode, error: BotError | None = None) -> None:
    """Ends an answer that never began: the room hears why, the asker gets the code."""
    text = chat.texts.bot_failed(job.asker, code, _retry_after(error) or 1)
    _final(chat, job, text, "failed", code, error)


def _retry_after(error: BotError | None) -> int | None:
    if error is None or error.retry_after_s is None:
        return None
    return max(1, round(error.retry_after_s))


def _settle(
    chat: Chat, job: AnswerJob, turns: list[Turn], text: str, reply: BotReply | None
) -> None:
    """What the answer cost: as the server said, else estimated (nothing if it never began)."""
    used = reply.tokens if reply is not None else None
    if used is None:
        used = sum(estimate_tokens(t.content) for t in turns) + estimate_tokens(text) if text else 0
    chat.quota.settle(job, used, chat.clock())


def _final(
    chat: Chat,
    job: AnswerJob,
    text: str,
    status: str,
    code: ErrorCode | None = None,
    error: BotError | None = None,
) -> None:
    now = chat.clock()
    if status != "failed":
        chat.log(LoggedMessage(job.answer_id, now, BOT_NAME, text, by_bot=True))
    final = protocol.public_frame(
        BOT_NAME,
        text,
        msg_id=job.answer_id,
        ts=now,
        answerId=job.answer_id,
        questionId=job.question_id,
        status=status,
    )
    envelopes = [Envelope(m.connection_id, (final,)) for m in chat.store.members()]
    if code is not None:
        retry = _retry_after(error)
        frame = protocol.error_frame(
            code,
            chat.texts.error(code, wait=chat.texts.duration(retry or 1)),
            action="sendBot",
            answerId=job.answer_id,
            questionId=job.question_id,
            retryAfter=retry,
        )
        envelopes.append(Envelope(job.asker_id, (frame,)))
    chat.send(envelopes)
