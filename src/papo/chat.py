"""The chat core: who receives what, from who said what and the room's state.

It reads and writes the room through a `Store` (connections, the public
message log, the limits' counters), posts frames through a `Delivery`, asks
the `Bot` and hands answers to `Answers`, and imports nothing of AWS, HTTP or
WebSockets, so a test of a chat rule needs only a store and a recording
delivery.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from papo import protocol
from papo.answering import abandon, answer
from papo.clock import now_ms
from papo.ports import (
    AnswerJob,
    AnswerNotStarted,
    Answers,
    Bot,
    BotError,
    ClaimStatus,
    Delivery,
    Envelope,
    LoggedMessage,
    Member,
    Store,
)
from papo.protocol import ACTIONS, BadFrame, ErrorCode
from papo.quota import Quota
from papo.rules import BotRules, Limits, check_message, check_name, check_question
from papo.texts import Texts

Body = str | bytes | None


def _new_id() -> str:
    return uuid.uuid4().hex


RESET_COMMANDS = frozenset({"/reset", "/new"})
"""`sendBot` messages that start a fresh conversation with the bot."""


@dataclass
class Chat:
    """The room's rules. `bot` None means no bot is configured; `answers` None
    means answers are produced at once, in the invocation that got the question."""

    store: Store
    delivery: Delivery
    texts: Texts = field(default_factory=Texts)
    limits: Limits = field(default_factory=Limits)
    bot: Bot | None = None
    answers: Answers | None = None
    bot_rules: BotRules = field(default_factory=BotRules)
    clock: Callable[[], int] = now_ms
    new_id: Callable[[], str] = _new_id

    def connect(self, connection_id: str) -> None:
        self.store.add(connection_id, self.clock())

    def disconnect(self, connection_id: str) -> None:
        self._drop({connection_id})

    def set_name(self, connection_id: str, body: Body) -> None:
        self._act("setName", connection_id, body)

    def send_public(self, connection_id: str, body: Body) -> None:
        self._act("sendPublic", connection_id, body)

    def send_private(self, connection_id: str, body: Body) -> None:
        self._act("sendPrivate", connection_id, body)

    def send_bot(self, connection_id: str, body: Body) -> None:
        self._act("sendBot", connection_id, body)

    def answer(self, job: AnswerJob) -> None:
        """Produces the answer to a question `send_bot` accepted, streaming it to the room."""
        answer(self, job)

    def default(self, connection_id: str, body: Body) -> None:
        """A frame no route took: a known action is served all the same (for
        deployments that send everything to `$default`), anything else is told
        what the actions are."""
        self._act(None, connection_id, body)

    def _act(self, action: str | None, connection_id: str, body: Body) -> None:
        try:
            payload = protocol.parse(body)
            if action is None:
                raw = payload.get("action")
                if raw not in ACTIONS:
                    raise BadFrame(
                        ErrorCode.UNKNOWN_ACTION,
                        action=raw if isinstance(raw, str) else "(none)",
                        actions=", ".join(ACTIONS),
                    )
                action = str(raw)
            _ACTIONS[action](self, connection_id, payload)
        except BadFrame as bad:
            message = self.texts.error(bad.code, **bad.details)
            frame = protocol.error_frame(bad.code, message, action=action, **bad.fields)
            self._tell(connection_id, frame)

    def _set_name(self, connection_id: str, payload: dict[str, object]) -> None:
        name = check_name(protocol.text_field(payload, "setName", "name"), self.limits)
        now = self.clock()
        claim = self.store.claim_name(connection_id, name, now)
        if claim.status is ClaimStatus.TAKEN:
            raise BadFrame(ErrorCode.NAME_TAKEN, name=name)
        if claim.status is ClaimStatus.NO_CONNECTION:
            raise BadFrame(ErrorCode.NOT_CONNECTED)
        members = self.store.members()
        if claim.previous == name:
            self.send([Envelope(connection_id, (self._members(members, now),))])
            return
        if claim.previous is None:
            text, event = self.texts.joined(name), "joined"
        else:
            text, event = self.texts.renamed(claim.previous, name), "renamed"
        announcement = protocol.system_frame(
            text, event=event, name=name, previous=claim.previous, msg_id=self.new_id(), ts=now
        )
        frames = (self._members(members, now), announcement)
        history = self._history(now) if claim.previous is None else None
        self.send(
            [
                Envelope(m.connection_id, (history, *frames) if history else frames)
                if m.connection_id == connection_id
                else Envelope(m.connection_id, frames)
                for m in members
            ]
        )

    def _history(self, now: int) -> bytes | None:
        recent = self.store.recent(self.bot_rules.history_messages)
        if not recent:
            return None
        messages: list[dict[str, Any]] = [
            {"type": "public", "id": m.msg_id, "ts": m.ts, "from": m.sender, "text": m.text}
            for m in recent
        ]
        return protocol.history_frame(messages, now)

    def _send_public(self, connection_id: str, payload: dict[str, object]) -> None:
        text = check_message(protocol.text_field(payload, "sendPublic", "message"), self.limits)
        sender = self._sender(connection_id)
        message = LoggedMessage(self.new_id(), self.clock(), sender, text)
        self.log(message)
        frame = protocol.public_frame(sender, text, msg_id=message.msg_id, ts=message.ts)
        self._broadcast(self.store.members(), frame)

    def log(self, message: LoggedMessage) -> None:
        """Keeps a public message for late joiners and the bot's memory."""
        self.store.log(message, message.ts + self.bot_rules.history_ttl_ms)

    def _send_private(self, connection_id: str, payload: dict[str, object]) -> None:
        to = protocol.text_field(payload, "sendPrivate", "to")
        text = check_message(protocol.text_field(payload, "sendPrivate", "message"), self.limits)
        sender = self._sender(connection_id)
        recipient = self.store.find(to.strip())
        if recipient is None:
            raise BadFrame(ErrorCode.UNKNOWN_RECIPIENT, name=to)
        frame = protocol.private_frame(
            sender, recipient.name, text, msg_id=self.new_id(), ts=self.clock()
        )
        receivers = dict.fromkeys((recipient.connection_id, connection_id))
        self.send([Envelope(cid, (frame,)) for cid in receivers])

    def _send_bot(self, connection_id: str, payload: dict[str, object]) -> None:
        text = protocol.text_field(payload, "sendBot", "message")
        sender = self._sender(connection_id)
        if text.strip().casefold() in RESET_COMMANDS:
            self._reset_bot(sender)
            return
        question = check_question(text, self.bot_rules)
        try:
            if self.bot is None:
                raise BadFrame(ErrorCode.BOT_NOT_CONFIGURED)
            self.bot.check()
        except BotError:
            raise BadFrame(ErrorCode.BOT_NOT_CONFIGURED) from None
        reservation = self.quota.reserve(connection_id, self.clock())
        job = AnswerJob(
            answer_id=self.new_id(),
            question_id=self.new_id(),
            asker_id=connection_id,
            asker=sender,
            reserved_tokens=reservation.tokens,
            budget_key=reservation.budget_key,
            budget_expires_at=reservation.budget_expires_at,
        )
        message = LoggedMessage(job.question_id, self.clock(), sender, question)
        self.log(message)
        frame = protocol.public_frame(
            sender, question, msg_id=message.msg_id, ts=message.ts, answerId=job.answer_id
        )
        self._broadcast(self.store.members(), frame)
        if self.answers is None:
            self.answer(job)
            return
        try:
            self.answers.start(job)
        except AnswerNotStarted:
            abandon(self, job, ErrorCode.BOT_UNAVAILABLE)

    @property
    def quota(self) -> Quota:
        return Quota(self.store, self.bot_rules, self.texts)

    def _reset_bot(self, sender: str) -> None:
        now = self.clock()
        self.store.forget_bot_memory(now)
        frame = protocol.system_frame(
            self.texts.bot_reset(sender),
            event="botReset",
            name=sender,
            msg_id=self.new_id(),
            ts=now,
        )
        self._broadcast(self.store.members(), frame)

    def _sender(self, connection_id: str) -> str:
        connection = self.store.get(connection_id)
        if connection is None or connection.name is None:
            raise BadFrame(ErrorCode.NOT_JOINED)
        return connection.name

    def _members(self, members: Iterable[Member], now: int) -> bytes:
        return protocol.members_frame([m.name for m in members], now)

    def _broadcast(self, members: Iterable[Member], *frames: bytes) -> None:
        self.send([Envelope(m.connection_id, frames) for m in members])

    def _tell(self, connection_id: str, frame: bytes) -> None:
        self.send([Envelope(connection_id, (frame,))])

    def send(self, envelopes: list[Envelope]) -> set[str]:
        """Posts the envelopes; forgets (and announces) the connections found gone,
        and returns their ids."""
        if not envelopes:
            return set()
        gone = self.delivery.send(envelopes)
        self._drop(set(gone))
        return gone

    def _drop(self, gone: set[str]) -> None:
        """Forgets connections that are gone and tells the room who left.

        Only the invocation whose removal succeeds announces, so a departure
        is announced once even when several invocations find it gone.
        """
        while gone:
            removed = [c.name for c in map(self.store.remove, sorted(gone)) if c and c.name]
            if not removed:
                return
            now, members = self.clock(), self.store.members()
            left = (
                protocol.system_frame(
                    self.texts.left(name), event="left", name=name, msg_id=self.new_id(), ts=now
                )
                for name in removed
            )
            frames = (self._members(members, now), *left)
            gone = self.delivery.send([Envelope(m.connection_id, frames) for m in members])


_ACTIONS: dict[str, Callable[[Chat, str, dict[str, object]], None]] = {
    "setName": Chat._set_name,
    "sendPublic": Chat._send_public,
    "sendPrivate": Chat._send_private,
    "sendBot": Chat._send_bot,
}
