"""The chat core: who receives what, from who said what and the room's state.

It reads and writes the room through a `Store` (connections, the room's
stream, sessions, the limits' counters), posts frames through a `Delivery`,
asks the `Bot` through an `Answerer` and hands answers to `Answers`, and
imports nothing of AWS, HTTP or WebSockets, so a test of a chat rule needs
only a store and a recording delivery.

Every frame of the room's conversation takes the room's next offset before
it is posted, and is kept in the room's stream under it: clients order by
offset, see gaps, and get what they missed (`sync`, or resuming with
`setName`). Private messages go to the streams of the two people's sessions.

`ACTIONS` is the one table of what clients may ask for; the Lambda
handler's routes and the emulator's are derived from it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from papo.core import protocol, render, sessions
from papo.core.answering import BOT_MEMORY, Answerer
from papo.core.clock import now_ms
from papo.core.ports import (
    AnswerJob,
    AnswerNotStarted,
    Answers,
    Bot,
    BotError,
    ClaimStatus,
    Delivery,
    Envelope,
    Identity,
    LoggedMessage,
    Member,
    Session,
    Store,
)
from papo.core.quota import Pace, Quota
from papo.core.refusals import ErrorCode, Refusal
from papo.core.rooms import ROOM_DEFAULT, room_name
from papo.core.rules import (
    BotRules,
    HistoryRules,
    JoinRules,
    Limits,
    RateRules,
    ResumeRules,
    StreamingRules,
    check_message,
    check_name,
    check_question,
    fit_name,
    name_key,
    same_name,
)
from papo.core.texts import LANGUAGES, Texts

Body = str | bytes | None
Payload = dict[str, Any]
Build = Callable[[int], bytes]
"""Makes a frame for the offset it is given."""
Said = Callable[[Texts, int], bytes]
"""Makes a frame for a reader's language and the offset it is given."""


def _new_id() -> str:
    return uuid.uuid4().hex


RESET_COMMANDS = frozenset({"/reset", "/new"})
"""`sendBot` messages that start a fresh conversation with the bot."""


@dataclass
class Chat:
    """The room's rules. `bot` None means no bot is configured; `answers` None
    means answers are produced at once, in the invocation that got the question.

    `room` None is a container's chat, which serves each connection in the
    room it joined (`in_room`): everything below `act` sees one room only."""

    store: Store
    delivery: Delivery
    texts: Texts = field(default_factory=Texts)
    limits: Limits = field(default_factory=Limits)
    bot: Bot | None = None
    answers: Answers | None = None
    bot_rules: BotRules = field(default_factory=BotRules)
    history: HistoryRules = field(default_factory=HistoryRules)
    streaming: StreamingRules = field(default_factory=StreamingRules)
    resume: ResumeRules = field(default_factory=ResumeRules)
    rate: RateRules = field(default_factory=RateRules)
    joins: JoinRules = field(default_factory=JoinRules)
    clock: Callable[[], int] = now_ms
    sleep: Callable[[float], None] = time.sleep
    new_id: Callable[[], str] = _new_id
    room: str | None = None

    def __post_init__(self) -> None:
        self._identity: Identity | None = None
        self.quota = Quota(self.store, self.bot_rules)
        self.pace = Pace(self.store, self.rate)
        self.answerer = Answerer(
            log=self.store,
            audience=self.audience,
            publish=self.publish,
            post=self.send,
            bot=self.bot,
            quota=self.quota,
            rules=self.bot_rules,
            streaming=self.streaming,
            texts=self.texts,
            texts_for=self._texts,
            clock=self.clock,
        )

    def in_room(self, room: str) -> Chat:
        """This chat, serving `room` only."""
        if room == self.room:
            return self
        return replace(self, store=self.store.in_room(room), room=room)

    def _room_of(self, connection_id: str) -> Chat:
        if self.room is not None:
            return self
        return self.in_room(self.store.room_of(connection_id) or ROOM_DEFAULT)

    # Connections

    def connect(
        self,
        connection_id: str,
        language: str | None = None,
        identity: Identity | None = None,
        room: str | None = None,
    ) -> None:
        """A new connection in `room` (its `?room=`; InvalidRoom if it names
        none); `language` is the one its client asked for (`?lang=`), kept if
        papo speaks it; `identity` is who the door let in, if it is on."""
        self.in_room(room_name(room)).store.add(
            connection_id,
            self.clock(),
            language if language in LANGUAGES else None,
            identity.principal if identity else None,
        )

    def disconnect(self, connection_id: str) -> None:
        self._drop({connection_id})

    def act(
        self,
        action: str | None,
        connection_id: str,
        body: Body,
        identity: Identity | None = None,
    ) -> None:
        """Serves one client frame. `action` is the route it came by; None (the
        `$default` route) serves a known action all the same, for deployments
        that send everything there, and tells the sender the actions otherwise.
        `identity` is who the door let in, as every event of the connection says."""
        if self.room is None:
            self._room_of(connection_id).act(action, connection_id, body, identity)
            return
        self._identity = identity
        payload: Payload = {}
        try:
            if action not in _UNPACED:
                self.pace.take(connection_id, self.clock())
            payload = protocol.parse(body)
            if action is None:
                raw = payload.get("action")
                if not isinstance(raw, str) or raw not in ACTIONS:
                    raise Refusal(
                        ErrorCode.UNKNOWN_ACTION,
                        action=raw if isinstance(raw, str) else "(none)",
                        actions=", ".join(ACTIONS),
                    )
                action = raw
            ACTIONS[action](self, connection_id, payload)
        except Refusal as refusal:
            texts = self._texts(_language(payload) or self._language_of(connection_id))
            frame = render.error_frame(refusal, texts, action=action)
            self.send([Envelope(connection_id, (frame,))])

    def _texts(self, language: str | None) -> Texts:
        """The sentences of a reader's language (the server's, if it asked for none)."""
        if language is None or language == self.texts.language:
            return self.texts
        return Texts(language)

    def _language_of(self, connection_id: str) -> str | None:
        connection = self.store.get(connection_id)
        return connection.language if connection else None

    def answer(self, job: AnswerJob) -> None:
        """Produces the answer to a question `sendBot` accepted, streaming it to its room."""
        self.in_room(job.room).answerer.answer(job)

    # The room's stream

    def publish(self, build: Build, message: LoggedMessage | None = None) -> tuple[int, bytes]:
        """Gives a frame of the conversation the room's next offset and keeps it
        (with the public message it carries, for history and the bot's memory)."""
        offset, frame = self._publish_said(lambda _, at: build(at), message)
        return offset, frame(None)

    def _publish_said(
        self, said: Said, message: LoggedMessage | None = None
    ) -> tuple[int, Callable[[str | None], bytes]]:
        """Publishes a frame whose sentence is in its reader's language: the
        server's is kept in the stream; `frame(language)` is a reader's own."""
        offset, kept = self.store.append_next(
            lambda at: said(self.texts, at), self.clock() + self.history.ttl_ms, message
        )
        variants = {self.texts.language: kept}

        def frame(language: str | None) -> bytes:
            texts = self._texts(language)
            if texts.language not in variants:
                variants[texts.language] = said(texts, offset)
            return variants[texts.language]

        return offset, frame

    def _system(
        self,
        event: str,
        name: str,
        now: int,
        sentence: Callable[[Texts], str],
        previous: str | None = None,
    ) -> Said:
        msg_id = self.new_id()
        return lambda texts, offset: protocol.system_frame(
            sentence(texts),
            event=event,
            name=name,
            previous=previous,
            msg_id=msg_id,
            ts=now,
            offset=offset,
        )

    def audience(self) -> list[Member]:
        """Who is in the room now; announces (once) the departure of anyone away
        for longer than the grace period."""
        members = self.store.members()
        expired_before = self.clock() - self.resume.grace_ms
        expired = [m for m in members if m.away and (m.away_since or 0) < expired_before]
        if not expired:
            return members
        self._leave({m.connection_id for m in expired})
        return self.store.members()

    def _broadcast(self, members: Iterable[Member], *frames: bytes) -> None:
        self.send([Envelope(m.connection_id, frames) for m in members if not m.away])

    # Actions

    def set_name(self, connection_id: str, payload: Payload) -> None:
        name = self._as_bound(protocol.text_field(payload, "setName", "name"))
        resume = payload.get("resume", False)
        if isinstance(resume, dict):
            self._resume(connection_id, name, resume)
            return
        if not isinstance(resume, bool):
            raise Refusal(
                ErrorCode.INVALID_FIELD, action="setName", field="resume", expected="resume"
            )
        now = self.clock()
        current = self.store.get(connection_id)
        session = current.session if current else None
        fresh = resume and session is None
        if fresh:
            session = self.new_id()
        language = payload.get("language")
        if language is not None and language not in LANGUAGES:
            raise Refusal(
                ErrorCode.INVALID_FIELD, action="setName", field="language", expected="language"
            )
        self._check_owner(name, now)
        claim = self.store.claim_name(connection_id, name, now, session, language)
        if claim.status is ClaimStatus.TAKEN:
            if self._owners_other_device(connection_id, name, now):
                return
            raise self._taken(name)
        if claim.status is ClaimStatus.NO_CONNECTION:
            raise Refusal(ErrorCode.NOT_CONNECTED)
        welcome: tuple[bytes, ...] = ()
        if session is not None and fresh:
            welcome = self._open_session(session, name, connection_id, now)
        elif session is not None and claim.previous != name:
            self._rename_session(session, name)
        if claim.previous == name:
            members = self.audience()
            frames = (self._members(members, now), *welcome)
            self.send([Envelope(connection_id, frames)])
            return
        if claim.previous is None:
            said = self._system("joined", name, now, lambda t: t.joined(name))
        else:
            previous = claim.previous
            said = self._system(
                "renamed", name, now, lambda t: t.renamed(previous, name), previous=previous
            )
        history = self._history(now) if claim.previous is None else None
        self._announce(
            connection_id, said, first=(*welcome, *((history,) if history else ())), now=now
        )

    def _announce(self, connection_id: str, said: Said, first: tuple[bytes, ...], now: int) -> None:
        """Publishes a change of who is here, and tells everyone: the members,
        and the announcement, `first` before them for its person. When the room
        is big and was told less than a join window ago, everyone else is told
        once that window ends, and only by the latest change (its list has them
        all): see `JoinRules`. An announcement left untold is in the room's
        stream, at its offset, for whoever keeps count (`sync`)."""
        offset, announcement = self._publish_said(said)
        members = self.audience()
        window = self.joins.window_ms
        if self._coalesces(len(members)):
            self.store.raise_mark(_MEMBERSHIP, offset)
            if not self.store.raise_mark(_TOLD, now, by_at_least=window):
                told = self.store.mark(_TOLD) + window
                self._tell_later(connection_id, offset, announcement, first, told, members)
                return
        update = self._members(members, now, offset)
        self._tell(members, update, announcement, connection_id, first)

    def _coalesces(self, people: int) -> bool:
        """Whether changes of who is here in a room of so many are told together."""
        return self.joins.window_ms > 0 and people >= self.joins.from_members

    def _tell_later(
        self,
        connection_id: str,
        offset: int,
        announcement: Callable[[str | None], bytes],
        first: tuple[bytes, ...],
        window_ends: int,
        members: list[Member],
    ) -> None:
        """Tells its person at once, and everyone else when the window ends,
        unless a later change is to tell them then."""
        own = next((m for m in members if m.connection_id == connection_id), None)
        update = self._members(members, self.clock(), offset)
        language = own.language if own else None
        self.send([Envelope(connection_id, (*first, update, announcement(language)))])
        self.sleep(max(0, window_ends - self.clock()) / 1000)
        latest = self.store.mark(_MEMBERSHIP)
        if latest > offset:
            return
        now = self.clock()
        self.store.raise_mark(_TOLD, now)
        members = self.audience()
        others = [m for m in members if m.connection_id != connection_id]
        self._tell(others, self._members(members, now, latest), announcement)

    def _tell(
        self,
        members: list[Member],
        update: bytes,
        announcement: Callable[[str | None], bytes],
        first_to: str | None = None,
        first: tuple[bytes, ...] = (),
    ) -> None:
        """Sends the members and an announcement to everyone here, `first` before
        them to `first_to`."""
        self.send(
            [
                Envelope(
                    m.connection_id,
                    (
                        *(first if m.connection_id == first_to else ()),
                        update,
                        announcement(m.language),
                    ),
                )
                for m in members
                if not m.away
            ]
        )

    def _open_session(
        self, session_id: str, name: str, connection_id: str, now: int
    ) -> tuple[bytes, ...]:
        """Gives the joiner a fresh resume token for its session; the store keeps
        only the token's hash."""
        token, token_hash = sessions.new_token(session_id)
        expires_at = now + self.resume.token_ttl_ms
        self.store.save_session(Session(session_id, token_hash, name, connection_id, expires_at))
        frame = protocol.session_frame(
            token,
            name=name,
            offset=self.store.last_offset(),
            private_offset=0,
            ts=now,
        )
        return (frame,)

    def _as_bound(self, raw: str) -> str:
        """The name asked for, as papo shows it. The name an identity's claim
        gives may break papo's rules (too long, a colon): asked for as the
        claim says it, it is the name papo made of it (`fit_name`)."""
        try:
            return check_name(raw, self.limits)
        except Refusal:
            bound = self._bound_name()
            if bound is not None:
                fitted = fit_name(raw, self.limits)
                if fitted is not None and same_name(fitted, bound):
                    return bound
            raise

    def _bound_name(self) -> str | None:
        """The name the connection's identity is bound to, made to fit papo's
        rules (None: no name, or none could be made of it). Only naming needs
        it, so it is not made for every frame."""
        identity = self._identity
        if identity is None or identity.name is None:
            return None
        return fit_name(identity.name, self.limits)

    def _check_owner(self, name: str, now: int) -> None:
        """A name bound to an identity is that identity's: an invite for one name
        takes that name only, and nobody else takes a name someone owns. When
        another identity owns it already (two people with one display name),
        or no name could be made of the claim, its holder picks another, which
        is then theirs."""
        identity = self._identity
        if identity is None:
            if self.store.owner(name) is not None:
                raise Refusal(ErrorCode.NAME_OWNED, name=name)
            return
        bound = self._bound_name()
        if (
            bound is not None
            and not same_name(bound, name)
            and self.store.owner(bound) in (None, identity.principal)
        ):
            raise Refusal(ErrorCode.NAME_BOUND, name=bound, door=identity.door or "invite")
        owner = self.store.own_name(name, identity.principal, now + self.resume.ownership_ms)
        if owner != identity.principal:
            raise Refusal(ErrorCode.NAME_OWNED, name=name)

    def _owners_other_device(self, connection_id: str, name: str, now: int) -> bool:
        """The owner of a name takes it back from their other device: that
        connection is closed, and the room sees nobody leave or join."""
        identity = self._identity
        holder = self.store.find(name)
        if identity is None or holder is None or holder.connection_id == connection_id:
            return False
        held_by = self.store.get(holder.connection_id)
        if held_by is None or held_by.principal != identity.principal:
            return False
        session = held_by.session or self.new_id()
        claim = self.store.take_over(connection_id, holder.connection_id, holder.name, session, now)
        if claim.status is not ClaimStatus.CLAIMED:
            return False
        if not holder.away:
            self.delivery.close(holder.connection_id)
        members = self._members(self.audience(), now)
        history = self._history(now)
        self.send([Envelope(connection_id, (members, *((history,) if history else ())))])
        return True

    def _taken(self, name: str) -> Refusal:
        """Why a name cannot be had: someone holds it, or one that looks like it."""
        holder = self.store.find(name)
        if holder is None or same_name(holder.name, name):
            return Refusal(ErrorCode.NAME_TAKEN, name=name)
        return Refusal(ErrorCode.NAME_CONFUSABLE, name=name, holder=holder.name)

    def _rename_session(self, session_id: str, name: str) -> None:
        """A renamed person's token now resumes the new name."""
        session = self.store.session(session_id)
        if session is not None:
            self.store.save_session(replace(session, name=name))

    def _resume(self, connection_id: str, name: str, resume: Payload) -> None:
        token = resume.get("token")
        offset = protocol.optional_int(resume, "setName", "offset")
        private_offset = protocol.optional_int(resume, "setName", "privateOffset")
        if not isinstance(token, str):
            raise Refusal(
                ErrorCode.INVALID_FIELD, action="setName", field="resume.token", expected="text"
            )
        session_id = sessions.session_id_of(token)
        session = self.store.session(session_id) if session_id else None
        if (
            session is None
            or not sessions.token_matches(token, session)
            or name_key(session.name) != name_key(name)
        ):
            raise Refusal(ErrorCode.RESUME_INVALID, name=name)
        now = self.clock()
        previous = self.store.get(session.connection_id)
        claim = self.store.take_over(
            connection_id, session.connection_id, session.name, session_id, now
        )
        if claim.status is ClaimStatus.TAKEN:
            raise self._taken(session.name)
        if claim.status is ClaimStatus.NO_CONNECTION:
            raise Refusal(ErrorCode.NOT_CONNECTED)
        if (
            previous is not None
            and previous.connection_id != connection_id
            and previous.away_since is None
        ):
            self.delivery.close(previous.connection_id)
        self.store.save_session(
            replace(session, connection_id=connection_id, expires_at=now + self.resume.token_ttl_ms)
        )
        missed = sessions.missed(self.store, offset, session_id, private_offset, now)
        welcome = protocol.session_frame(
            token,
            name=session.name,
            offset=self.store.last_offset(),
            private_offset=private_offset,
            ts=now,
        )
        if previous is not None and previous.name is not None:
            # Back within the grace period: the room saw nobody leave, and sees nobody join.
            members = self._members(self.audience(), now)
            self.send([Envelope(connection_id, (welcome, members, *missed))])
            return
        name = session.name
        said = self._system("joined", name, now, lambda t: t.joined(name))
        self._announce(connection_id, said, first=(welcome, *missed), now=now)

    def sync(self, connection_id: str, payload: Payload) -> None:
        """Sends the sender what it missed after the offsets it names."""
        offset = protocol.optional_int(payload, "sync", "offset")
        private_offset = protocol.optional_int(payload, "sync", "privateOffset")
        connection = self.store.get(connection_id)
        session = connection.session if connection else None
        frames = sessions.missed(self.store, offset, session, private_offset, self.clock())
        self.send([Envelope(connection_id, tuple(frames))])

    def ping(self, connection_id: str, _: Payload) -> None:
        """The heartbeat, where no `MOCK` integration answers it first (it costs
        an invocation here; on AWS the template answers it without one)."""
        self.send([Envelope(connection_id, (protocol.pong_frame(),))])

    def _history(self, now: int) -> bytes | None:
        recent = self.store.recent(self.history.messages)
        if not recent:
            return None
        messages: list[dict[str, Any]] = [
            {
                "type": "public",
                "id": m.msg_id,
                "ts": m.ts,
                "from": m.sender,
                "text": m.text,
                "offset": m.offset,
            }
            for m in recent
        ]
        return protocol.history_frame(messages, now)

    def send_public(self, connection_id: str, payload: Payload) -> None:
        text = check_message(protocol.text_field(payload, "sendPublic", "message"), self.limits)
        sender = self._sender(connection_id)
        message = LoggedMessage(self.new_id(), self.clock(), sender, text)
        _, frame = self.publish(
            lambda offset: protocol.public_frame(
                sender, text, msg_id=message.msg_id, ts=message.ts, offset=offset
            ),
            message,
        )
        self._broadcast(self.audience(), frame)

    def send_private(self, connection_id: str, payload: Payload) -> None:
        to = protocol.text_field(payload, "sendPrivate", "to")
        text = check_message(protocol.text_field(payload, "sendPrivate", "message"), self.limits)
        sender = self.store.get(connection_id)
        if sender is None or sender.name is None:
            raise Refusal(ErrorCode.NOT_JOINED)
        recipient = self.store.find(to.strip())
        if recipient is None:
            raise Refusal(ErrorCode.UNKNOWN_RECIPIENT, name=to)
        msg_id, now, after = self.new_id(), self.clock(), self.store.last_offset()
        expires_at = now + self.history.ttl_ms
        envelopes: dict[str, Envelope] = {}
        readers = [
            (recipient.connection_id, recipient.session, recipient.away),
            (connection_id, sender.session, False),
        ]
        for reader, session, away in readers:
            if reader in envelopes:
                continue
            private_offset = self.store.next_private_offset(session) if session else None
            frame = protocol.private_frame(
                sender.name,
                recipient.name,
                text,
                msg_id=msg_id,
                ts=now,
                private_offset=private_offset,
                room_offset=after,
            )
            if session is not None and private_offset is not None:
                self.store.append_private(session, private_offset, frame, expires_at)
            if not away:
                envelopes[reader] = Envelope(reader, (frame,))
        self.send(list(envelopes.values()))

    def send_bot(self, connection_id: str, payload: Payload) -> None:
        text = protocol.text_field(payload, "sendBot", "message")
        sender = self._sender(connection_id)
        if text.strip().casefold() in RESET_COMMANDS:
            self._reset_bot(sender)
            return
        question = check_question(text, self.bot_rules)
        try:
            if self.bot is None:
                raise Refusal(ErrorCode.BOT_NOT_CONFIGURED)
            self.bot.check()
        except BotError:
            raise Refusal(ErrorCode.BOT_NOT_CONFIGURED) from None
        asked_at = self.clock()
        reservation = self.quota.reserve(connection_id, asked_at)
        job = AnswerJob(
            answer_id=self.new_id(),
            question_id=self.new_id(),
            asker_id=connection_id,
            asker=sender,
            question=question,
            asked_at=asked_at,
            reserved_tokens=reservation.tokens,
            budget_key=reservation.budget_key,
            budget_expires_at=reservation.budget_expires_at,
            room=self.room or ROOM_DEFAULT,
        )
        try:
            job = self._ask(job)
            if self.answers is not None:
                self.answers.start(job)
        except AnswerNotStarted:
            self.answerer.abandon(job, ErrorCode.BOT_UNAVAILABLE)
            return
        except BaseException:
            self.answerer.abandon(job, ErrorCode.BOT_UNAVAILABLE)
            raise
        if self.answers is None:
            self.answerer.answer(job)

    def _ask(self, job: AnswerJob) -> AnswerJob:
        """Tells the room the question, and keeps it; the job learns its offset."""
        message = LoggedMessage(job.question_id, job.asked_at, job.asker, job.question)
        offset, frame = self.publish(
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
        self._broadcast(self.audience(), frame)
        return replace(job, question_offset=offset)

    def _reset_bot(self, sender: str) -> None:
        now = self.clock()
        said = self._system("botReset", sender, now, lambda t: t.bot_reset(sender))
        offset, frame = self._publish_said(said)
        self.store.raise_mark(BOT_MEMORY, offset)
        self.send(
            [Envelope(m.connection_id, (frame(m.language),)) for m in self.audience() if not m.away]
        )

    def _sender(self, connection_id: str) -> str:
        connection = self.store.get(connection_id)
        if connection is None or connection.name is None:
            raise Refusal(ErrorCode.NOT_JOINED)
        return connection.name

    def _members(self, members: Iterable[Member], now: int, as_of: int | None = None) -> bytes:
        return protocol.members_frame([m.name for m in members], now, as_of)

    # Posting, and connections found gone

    def send(self, envelopes: list[Envelope]) -> set[str]:
        """Posts the envelopes; forgets (and announces) the connections found gone,
        and returns their ids."""
        if not envelopes:
            return set()
        gone = self.delivery.send(envelopes)
        self._drop(set(gone))
        return gone

    def _drop(self, gone: set[str]) -> None:
        """Connections that are gone: a resumable person is away for the grace
        period, nobody told; anyone else has left, and their room is told."""
        if self.room is None:
            rooms: dict[str, set[str]] = {}
            for connection_id in gone:
                room = self.store.room_of(connection_id) or ROOM_DEFAULT
                rooms.setdefault(room, set()).add(connection_id)
            for room, theirs in rooms.items():
                self.in_room(room)._drop(theirs)
            return
        self._leave(self._left_for_good(gone, self.clock()))

    def _left_for_good(self, gone: set[str], now: int) -> set[str]:
        """Of connections found gone, those whose people have left: not those of
        a session, away now or already (another invocation may have found it
        first), who may still come back."""
        left = set()
        for connection_id in gone:
            if self.store.set_away(connection_id, now):
                continue
            found = self.store.get(connection_id)
            if found is None or found.away_since is None:
                left.add(connection_id)
        return left

    def _leave(self, gone: set[str]) -> None:
        """Forgets connections and tells the room who left.

        Only the invocation whose removal succeeds announces, so a departure
        is announced once even when several invocations find it gone.
        """
        while gone:
            removed = [c.name for c in map(self.store.remove, sorted(gone)) if c and c.name]
            if not removed:
                return
            now = self.clock()
            said = [self._publish_said(self._left(name, now)) for name in removed]
            members = [m for m in self.store.members() if not m.away]
            if self._coalesces(len(members) + len(removed)):
                self.store.raise_mark(_MEMBERSHIP, said[-1][0])
                self.store.raise_mark(_TOLD, now)
            update = self._members(members, now, said[-1][0])
            envelopes = [
                Envelope(m.connection_id, (update, *(frame(m.language) for _, frame in said)))
                for m in members
            ]
            gone = self._left_for_good(self.delivery.send(envelopes), now)

    def _left(self, name: str, now: int) -> Said:
        return self._system("left", name, now, lambda texts: texts.left(name))


_MEMBERSHIP, _TOLD = "membership", "told"
"""The room's marks: the offset of its last change of who is here, and when
everyone was last told the members (see `Chat._announce`)."""

_UNPACED = frozenset({"ping"})
"""The heartbeat is not counted: a client sends it to stay, not to speak."""


def _language(payload: Payload) -> str | None:
    """The language a frame asks for, if papo speaks it."""
    language = payload.get("language")
    return language if isinstance(language, str) and language in LANGUAGES else None


ACTIONS: dict[str, Callable[[Chat, str, Payload], None]] = {
    "setName": Chat.set_name,
    "sendPublic": Chat.send_public,
    "sendPrivate": Chat.send_private,
    "sendBot": Chat.send_bot,
    "sync": Chat.sync,
    "ping": Chat.ping,
}
"""What clients may ask for, by the `action` of their frame. Adding an action
is one entry here: the handler's and the emulator's routes follow."""
