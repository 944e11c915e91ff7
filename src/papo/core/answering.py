"""Producing a bot answer: ask with the room's memory up to the question,
stream the answer in coalesced pieces to every member, and end it with one
final frame, whatever happens upstream or in the store.

Every answer ends the same way for the room: a `publicMessage` from `Bot`
whose `status` is `complete`, `interrupted` (the text so far, marked),
`stopped` (its asker stopped it: the text so far, marked), `flagged` (the
moderation check flagged what came next: the text before it, marked) or
`failed` (a sentence saying why); the asker also gets an error frame with a
stable code when it failed, was interrupted or flagged. Whatever was set
aside for it goes back, less what it used. A summary (`catchUp`) ends the
same way for its asker alone, as a `privateMessage`.

Whoever is in the room as it streams hears it: someone who came in
meanwhile (resumed on a new connection, joined) first gets the text so far
in one piece.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import msgspec.structs

from papo.core import answer_notes, presence, protocol, render
from papo.core.memory import (
    bound_tokens,
    conversation,
    estimate_tokens,
    latest_answers,
    newest_that_fit,
    prompt_bound,
    summary,
)
from papo.core.moderation import checks_questions
from papo.core.ports import (
    AnswerJob,
    Bot,
    BotError,
    BotFailure,
    BotReply,
    Envelope,
    LoggedMessage,
    Turn,
)
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Room
from papo.core.room_bot import room_bot
from papo.core.rules import CATCH_UP_PROMPT, BotRules

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

_MIN_ANSWER_TOKENS = 16
"""An answer that could get fewer tokens than this within the budget is refused."""

BOT_MEMORY = "bot-memory"
"""The room's mark of the offset after which the bot remembers (`/reset` raises it)."""


def _refusal(error: BotError) -> Refusal:
    retry = None if error.retry_after_s is None else max(1, round(error.retry_after_s))
    return Refusal(FAILURE_CODES[error.failure], retry_after_s=retry)


class Answerer(msgspec.Struct):
    """Answers questions asked in `room`, reading and posting only through it."""

    room: Room

    @property
    def bot(self) -> Bot | None:
        return self.room.bot

    @property
    def rules(self) -> BotRules:
        return self.room.rules.bot

    def answer(self, job: AnswerJob) -> None:
        """Answers `job`; an unexpected exception is raised again once the room has
        heard the answer end, so that it is logged without leaving a half answer."""
        pieces: list[str] = []
        turns: list[Turn] = []
        reply: BotReply | None = None
        reserved = job.reserved_tokens
        refusal: Refusal | None = None
        unexpected: Exception | None = None
        stopper: list[str] = []
        try:
            if self.bot is None:
                raise BotError(BotFailure.NOT_CONFIGURED)
            own = room_bot(self.room.store)
            system_prompt = own.persona or self.rules.system_prompt
            if job.covers is not None:
                turns, reserved, max_tokens, covered = self._summary_prompt(
                    job, job.covers, system_prompt
                )
                job = msgspec.structs.replace(job, covers=covered)
            else:
                turns, reserved, max_tokens = self._prompt(job, system_prompt)
            told = self._hearers(job)
            reply = self.bot.ask(turns, max_tokens, own.model)
            stop = functools.partial(self._stopped, job, stopper)
            moderated = checks_questions(self.rules)
            for seq, batch in enumerate(self._batches(reply, stop), start=1):
                if moderated and self.bot.flagged("".join(pieces) + batch):
                    refusal = Refusal(ErrorCode.ANSWER_FLAGGED)
                    break
                pieces.append(batch)
                told = self._stream(job, seq, batch, pieces, told)
        except BotError as failure:
            refusal = _refusal(failure)
        except Refusal as refused:
            refusal = refused
        except Exception as exception:  # noqa: BLE001 - raised again below, after the final frame
            refusal, unexpected = Refusal(ErrorCode.BOT_UNAVAILABLE), exception
        finally:
            if reply is not None:
                reply.close()
        stopped_by = stopper[0] if stopper and refusal is None else None
        self._end(job, reserved, turns, "".join(pieces), reply, refusal, stopped_by)
        if unexpected is not None:
            raise unexpected

    def _stream(
        self, job: AnswerJob, seq: int, batch: str, pieces: list[str], told: set[str]
    ) -> set[str]:
        """Posts a piece to everyone here: the piece to those told the pieces
        before it, the text so far to anyone who came in since (resumed on a
        new connection, joined). `told`: who was told the pieces before it
        (for the first, who was here as the answer began). Returns who has now
        been told."""
        here = told if seq == 1 else self._hearers(job)
        delta = functools.partial(
            protocol.bot_delta_frame,
            answer_id=job.answer_id,
            question_id=job.question_id,
            seq=seq,
            sender=BOT_NAME,
            ts=self.room.clock(),
        )
        piece = delta(batch)
        envelopes = [Envelope(cid, (piece,)) for cid in here & told]
        newcomers = here - told
        if newcomers:
            so_far = delta("".join(pieces), so_far=True)
            envelopes += [Envelope(cid, (so_far,)) for cid in newcomers]
        gone = self.room.send(envelopes)
        return here - gone

    def _hearers(self, job: AnswerJob) -> set[str]:
        """Who hears the answer now: everyone here; a summary, its asker alone,
        on the connection they are on now."""
        store = self.room.store
        if job.covers is None:
            return {m.connection_id for m in presence.reachable(store.members())}
        found = store.find(job.asker)
        if found is None or found.away:
            return set()
        connection = store.get(found.connection_id)
        if connection is None or answer_notes.person_of(connection) != job.person:
            return set()
        return {connection.connection_id}

    def _stopped(self, job: AnswerJob, stopper: list[str]) -> bool:
        """Whether the asker stopped the answer (noting by whom in `stopper`)."""
        by = answer_notes.stopped_by(self.room.store, job.answer_id)
        if by is not None:
            stopper.append(by)
        return by is not None

    def abandon(self, job: AnswerJob, code: ErrorCode) -> None:
        """Ends an answer that could not be started: all it set aside goes back."""
        self._end(job, job.reserved_tokens, [], "", None, Refusal(code))

    def _prompt(self, job: AnswerJob, system_prompt: str) -> tuple[list[Turn], int, int]:
        """The turns to send, what is now set aside, and the answer's most tokens.

        The memory is the room's conversation before the question, since the
        bot's memory last started; what was said after it is not the question.
        When the prompt may cost more than was set aside, more is set aside; if
        the budget has no more, older memory goes until it fits.
        """
        rules = self.rules
        question = LoggedMessage(job.question_id, job.asked_at, job.asker, job.question)
        log = self.room.store
        earlier = log.recent(
            rules.memory_messages,
            after=log.mark(BOT_MEMORY),
            until=job.question_offset - 1 if job.question_offset else None,
        )
        earlier = latest_answers(earlier)
        turns = conversation(system_prompt, earlier, question, rules.memory_tokens)
        reserved, max_tokens = job.reserved_tokens, rules.max_answer_tokens
        extra = prompt_bound(turns) + max_tokens - reserved
        if extra > 0:
            if self.room.quota.top_up(job, extra, self.room.clock()):
                reserved += extra
            else:
                room = reserved - max_tokens
                turns = conversation(system_prompt, earlier, question, room, bound_tokens)
                max_tokens = min(max_tokens, reserved - prompt_bound(turns))
                if max_tokens < _MIN_ANSWER_TOKENS:
                    raise self.room.quota.exhausted(job, self.room.clock())
        return turns, reserved, max_tokens

    def _summary_prompt(
        self, job: AnswerJob, covers: tuple[int, int], system_prompt: str
    ) -> tuple[list[Turn], int, int, tuple[int, int]]:
        """The turns to summarise the lines `covers` for the asker, what is now
        set aside, the summary's most tokens, and the lines it covers. The
        lines were chosen to fit the memory's tokens; more is set aside if
        they may cost more, and if the budget has no more, older lines go
        until they fit."""
        rules = self.rules
        first, last = covers
        lines = self.room.store.recent(rules.catch_up_messages, after=first - 1, until=last)
        instruction = CATCH_UP_PROMPT.format(name=job.asker)
        turns = summary(system_prompt, instruction, lines)
        reserved, max_tokens = job.reserved_tokens, rules.max_answer_tokens
        extra = prompt_bound(turns) + max_tokens - reserved
        if extra > 0:
            if self.room.quota.top_up(job, extra, self.room.clock()):
                reserved += extra
            else:
                bare = prompt_bound(summary(system_prompt, instruction, []))
                lines = newest_that_fit(lines, reserved - max_tokens - bare, bound_tokens)
                if not lines:
                    raise self.room.quota.exhausted(job, self.room.clock())
                turns = summary(system_prompt, instruction, lines)
        return turns, reserved, max_tokens, (lines[0].offset, lines[-1].offset)

    def _batches(self, reply: BotReply, stop: Callable[[], bool]) -> Iterator[str]:
        from papo.core.coalesce import coalesce  # its thread and queue: the bot's routes only

        s = self.room.rules.streaming
        return coalesce(
            reply,
            interval_s=s.interval_ms / 1000,
            min_chars=s.min_chars,
            max_wait_s=s.max_wait_ms / 1000,
            max_chars=s.max_chars,
            stop=stop,
            check_every_s=self.rules.stop_check_ms / 1000,
        )

    def _end(
        self,
        job: AnswerJob,
        reserved: int,
        turns: list[Turn],
        text: str,
        reply: BotReply | None,
        refusal: Refusal | None,
        stopped_by: str | None = None,
    ) -> None:
        """Settles what the answer cost, then tells the room how it ended."""
        try:
            used = reply.tokens if reply is not None else None
            if used is None:
                used = sum(estimate_tokens(t.content) for t in turns) + estimate_tokens(text)
                used = used if text else 0
            self.room.quota.settle(job, reserved, used, self.room.clock())
        finally:
            if stopped_by is not None:
                mark = self.room.texts.bot_stopped(stopped_by)
                self._final(job, f"{text}\n\n{mark}" if text else mark, "stopped", keep=bool(text))
            elif refusal is None:
                self._final(job, text, "complete")
            elif refusal.code is ErrorCode.ANSWER_FLAGGED:
                mark = self.room.texts.bot_flagged()
                marked = f"{text}\n\n{mark}" if text else mark
                self._final(job, marked, "flagged", refusal, keep=bool(text))
            elif text:
                marked = f"{text}\n\n{self.room.texts.bot_interrupted()}"
                self._final(job, marked, "interrupted", refusal)
            else:
                self._final(job, self.room.texts.bot_failed(job.asker, refusal), "failed", refusal)

    def _final(
        self,
        job: AnswerJob,
        text: str,
        status: str,
        refusal: Refusal | None = None,
        *,
        keep: bool = True,
    ) -> None:
        """Tells the room the answer's end, and keeps it (in the bot's memory
        too) unless it failed or `keep` is False."""
        room = self.room
        now = room.clock()
        if job.covers is not None:
            self._final_summary(job, job.covers, text, status, refusal)
            return
        kept = None
        if status != "failed" and keep:
            kept = LoggedMessage(job.answer_id, now, BOT_NAME, text, by_bot=True)
        _, final = room.publish(
            lambda offset: protocol.public_frame(
                BOT_NAME,
                text,
                msg_id=job.answer_id,
                ts=now,
                offset=offset,
                answerId=job.answer_id,
                questionId=job.question_id,
                status=status,
                replaces=job.replaces,
            ),
            kept,
        )
        answer_notes.end(room.store, job.answer_id, status, now + room.rules.history.ttl_ms)
        members = room.audience()
        envelopes = [Envelope(m.connection_id, (final,)) for m in presence.reachable(members)]
        if refusal is not None:
            asker = next((m for m in members if m.connection_id == job.asker_id), None)
            frame = render.error_frame(
                refusal,
                room.texts_for(asker.language if asker else None),
                action=job.action,
                for_course_clients=False,
                answerId=job.answer_id,
                questionId=job.question_id,
            )
            envelopes.append(Envelope(job.asker_id, (frame,)))
        room.send(envelopes)

    def _final_summary(
        self,
        job: AnswerJob,
        covers: tuple[int, int],
        text: str,
        status: str,
        refusal: Refusal | None,
    ) -> None:
        """Tells the asker alone the summary's end, kept in their own stream
        (when they have a session) to come back to after a drop."""
        room, store = self.room, self.room.store
        now = room.clock()
        expires_at = now + room.rules.history.ttl_ms
        session = job.asker_session
        private_offset = store.next_private_offset(session) if session else None
        final = protocol.summary_frame(
            text,
            recipient=job.asker,
            answer_id=job.answer_id,
            covers=covers,
            status=status,
            ts=now,
            private_offset=private_offset,
        )
        if session is not None and private_offset is not None:
            store.append_private(session, private_offset, final, expires_at)
        answer_notes.end(store, job.answer_id, status, expires_at)
        frames = [final]
        if refusal is not None:
            frames.append(
                render.error_frame(
                    refusal,
                    room.texts_for(room.language_of(job.asker_id)),
                    action=job.action,
                    for_course_clients=False,
                    answerId=job.answer_id,
                )
            )
        room.send([Envelope(cid, tuple(frames)) for cid in self._hearers(job)])
