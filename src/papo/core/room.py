"""One room, as every concern of the chat sees it: its stream (each frame of
the conversation at the room's next offset), its audience (who is here), and
posting to them, with what follows when a post finds a connection gone.

A `Room` is built for each event, where the event comes in, and holds no
state of its own between events: that lives in the store.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from papo.core import presence, protocol
from papo.core.clock import now_ms
from papo.core.ports import (
    Answers,
    Bot,
    Connection,
    Delivery,
    Envelope,
    Identity,
    LoggedMessage,
    Member,
    Store,
)
from papo.core.presence import Presence
from papo.core.quota import Pace, Quota
from papo.core.refusals import ErrorCode, Refusal
from papo.core.rules import Rules
from papo.core.texts import LANGUAGES, Texts

Payload = dict[str, Any]
"""A client's frame, parsed."""
Build = Callable[[int], bytes]
"""Makes a frame for the offset it is given."""
Localized = Callable[[Texts, int], bytes]
"""Makes a frame in a reader's language, for the offset it is given."""
FrameFor = Callable[[str | None], bytes]
"""A published frame, in the language a reader asked for (None: the server's)."""

MEMBERSHIP_MARK = "membership"
"""The room's mark of the offset of its last change of who is here."""
MEMBERS_TOLD_AT_MARK = "told"
"""The room's mark of when everyone was last sent the members (epoch ms)."""


def new_id() -> str:
    return uuid.uuid4().hex


class Actor(msgspec.Struct, frozen=True):
    """Who sent the frame being served: its connection, and who papo's
    authorizer let in (None when anyone may connect). Passed to each action,
    never kept."""

    connection_id: str
    identity: Identity | None = None


class Room(msgspec.Struct):
    """A room's stream and audience, and what a concern needs beside them."""

    name: str
    store: Store
    """The store's view of this room."""
    delivery: Delivery
    rules: Rules = msgspec.field(default_factory=Rules)
    texts: Texts = msgspec.field(default_factory=Texts)
    """The server's sentences: what the stream keeps."""
    bot: Bot | None = None
    answers: Answers | None = None
    """Who produces answers elsewhere; None: at once, in this invocation."""
    clock: Callable[[], int] = now_ms
    sleep: Callable[[float], None] = time.sleep
    new_id: Callable[[], str] = new_id

    @property
    def pace(self) -> Pace:
        return Pace(self.store, self.rules.rate)

    @property
    def quota(self) -> Quota:
        return Quota(self.store, self.rules.bot)

    # Readers

    def texts_for(self, language: str | None) -> Texts:
        """The sentences of a reader's language (the server's, if it asked for none)."""
        if language is None or language == self.texts.language or language not in LANGUAGES:
            return self.texts
        return Texts(language)

    def language_of(self, connection_id: str) -> str | None:
        connection = self.store.get(connection_id)
        return connection.language if connection else None

    def joined(self, connection_id: str) -> Connection:
        """A connection that has a name, or a Refusal (`not_joined`) if it has none yet."""
        connection = self.store.get(connection_id)
        if connection is None or connection.name is None:
            raise Refusal(ErrorCode.NOT_JOINED)
        return connection

    # The stream

    def publish(self, build: Build, message: LoggedMessage | None = None) -> tuple[int, bytes]:
        """Gives a frame of the conversation the room's next offset and keeps it
        (with the public message it carries, for history and the bot's memory)."""
        offset, frame = self.publish_localized(lambda _, at: build(at), message)
        return offset, frame(None)

    def publish_localized(
        self, localized: Localized, message: LoggedMessage | None = None
    ) -> tuple[int, FrameFor]:
        """Publishes a frame whose sentence is in its reader's language: the
        server's is kept in the stream; `frame(language)` is a reader's own."""
        offset, kept = self.store.append_next(
            lambda at: localized(self.texts, at),
            self.clock() + self.rules.history.ttl_ms,
            message,
        )
        variants = {self.texts.language: kept}

        def frame(language: str | None) -> bytes:
            texts = self.texts_for(language)
            if texts.language not in variants:
                variants[texts.language] = localized(texts, offset)
            return variants[texts.language]

        return offset, frame

    def system(
        self,
        event: str,
        name: str,
        now: int,
        sentence: Callable[[Texts], str],
        previous: str | None = None,
    ) -> Localized:
        """A system message (someone joined, left, was renamed…), to publish."""
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

    # The audience

    def audience(self) -> list[Member]:
        """Who is in the room now (here or away); announces, once, the departure
        of anyone away for longer than the grace period."""
        members = self.store.members()
        now, grace = self.clock(), self.rules.resume.grace_ms
        gone = {
            m.connection_id for m in members if presence.presence(m, now, grace) is Presence.GONE
        }
        if not gone:
            return members
        self.leave(gone)
        return self.store.members()

    def members_frame(self, members: Iterable[Member], now: int, as_of: int | None = None) -> bytes:
        return protocol.members_frame(presence.listed(members), now, as_of)

    def broadcast(self, members: Iterable[Member], *frames: bytes) -> None:
        """Posts the frames to everyone here."""
        self.send([Envelope(m.connection_id, frames) for m in presence.reachable(members)])

    def coalesces(self, people: int) -> bool:
        """Whether changes of who is here in a room of so many are told together
        (see `papo.core.rules.JoinRules`)."""
        joins = self.rules.joins
        return joins.window_ms > 0 and people >= joins.from_members

    def window_open(self, changed: str, told: str, change: int, now: int) -> bool:
        """Notes a change of who is here in a big room (`coalesces`), under the
        mark `changed` (an offset, or a time), and whether everyone may be told
        at once: not when they were told, by mark `told`, less than a join
        window ago (then `at_window_end`)."""
        self.store.raise_mark(changed, change)
        return self.store.raise_mark(told, now, by_at_least=self.rules.joins.window_ms)

    def at_window_end(self, changed: str, told: str, change: int) -> tuple[int, int] | None:
        """Waits for the join window to end; then the latest change, if it is
        still `change` (this change tells everyone, for all those before it),
        and the time this telling begins, noted under `told`; else None (a
        later change tells)."""
        window_ends = self.store.mark(told) + self.rules.joins.window_ms
        self.sleep(max(0, window_ends - self.clock()) / 1000)
        latest = self.store.mark(changed)
        if latest > change:
            return None
        now = self.clock()
        self.store.raise_mark(told, now)
        return latest, now

    # Posting, and connections found gone

    def send(self, envelopes: list[Envelope]) -> set[str]:
        """Posts the envelopes; the connections found gone go away or leave.
        Returns their ids."""
        if not envelopes:
            return set()
        gone = self.delivery.send(envelopes)
        if gone:
            self.drop(set(gone))
        return gone

    def drop(self, gone: set[str]) -> None:
        """Connections that are gone: a resumable person is away for the grace
        period, nobody told; anyone else has left, and the room is told."""
        self.leave(self._left_for_good(gone, self.clock()))

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

    def leave(self, gone: set[str]) -> None:
        """Forgets connections and tells the room who left.

        Only the invocation whose removal succeeds announces, so a departure
        is announced once even when several invocations find it gone.
        """
        while gone:
            removed = [c.name for c in map(self.store.remove, sorted(gone)) if c and c.name]
            if not removed:
                return
            now = self.clock()
            said = [self.publish_localized(self._left(name, now)) for name in removed]
            members = self.store.members()
            last_offset = said[-1][0]
            if self.coalesces(len(members) + len(removed)):
                self.store.raise_mark(MEMBERSHIP_MARK, last_offset)
                self.store.raise_mark(MEMBERS_TOLD_AT_MARK, now)
            update = self.members_frame(members, now, last_offset)
            envelopes = [
                Envelope(m.connection_id, (update, *(frame(m.language) for _, frame in said)))
                for m in presence.reachable(members)
            ]
            gone = self._left_for_good(self.delivery.send(envelopes), now)

    def _left(self, name: str, now: int) -> Localized:
        return self.system("left", name, now, lambda texts: texts.left(name))
