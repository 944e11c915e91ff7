"""The chat core: who receives what, from who said what and the room's state.

It reads and writes the room through a `ConnectionStore`, posts frames through
a `Delivery`, and imports nothing of AWS, HTTP or WebSockets, so a test of a
chat rule needs only a store and a recording delivery.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from papo import protocol
from papo.ports import ClaimStatus, ConnectionStore, Delivery, Envelope, Member
from papo.protocol import ACTIONS, BadFrame, ErrorCode
from papo.rules import Limits, check_message, check_name
from papo.texts import Texts


def _new_id() -> str:
    return uuid.uuid4().hex


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Chat:
    store: ConnectionStore
    delivery: Delivery
    texts: Texts = field(default_factory=Texts)
    limits: Limits = field(default_factory=Limits)
    clock: Callable[[], int] = _now_ms
    new_id: Callable[[], str] = _new_id

    def handle(self, route: str, connection_id: str, body: str | bytes | None) -> None:
        """Runs one route for one connection; bad input becomes an error frame."""
        if route == "$connect":
            self.connect(connection_id)
        elif route == "$disconnect":
            self.disconnect(connection_id)
        else:
            self.message(route, connection_id, body)

    def connect(self, connection_id: str) -> None:
        self.store.add(connection_id, self.clock())

    def disconnect(self, connection_id: str) -> None:
        self._drop({connection_id})

    def message(self, route: str, connection_id: str, body: str | bytes | None) -> None:
        """Runs an action route; `$default` serves a known action too, for
        deployments that route everything to one integration."""
        action = route if route in ACTIONS else None
        try:
            payload = protocol.parse(body)
            raw = payload.get("action")
            if action is None and raw in ACTIONS:
                action = str(raw)
            if action is None:
                raise BadFrame(
                    ErrorCode.UNKNOWN_ACTION,
                    action=raw if isinstance(raw, str) else "(none)",
                    actions=", ".join(ACTIONS),
                )
            _ACTIONS[action](self, connection_id, payload)
        except BadFrame as bad:
            self._tell(
                connection_id,
                protocol.error_frame(
                    bad.code, self.texts.error(bad.code, **bad.details), action=action
                ),
            )

    def set_name(self, connection_id: str, payload: dict[str, object]) -> None:
        name = check_name(protocol.text_field(payload, "setName", "name"), self.limits)
        now = self.clock()
        claim = self.store.claim_name(connection_id, name, now)
        if claim.status is ClaimStatus.TAKEN:
            raise BadFrame(ErrorCode.NAME_TAKEN, name=name)
        if claim.status is ClaimStatus.NO_CONNECTION:
            raise BadFrame(ErrorCode.NOT_CONNECTED)
        members = self.store.members()
        if claim.previous == name:
            self._send([Envelope(connection_id, (self._members(members, now),))])
            return
        if claim.previous is None:
            text, event = self.texts.joined(name), "joined"
        else:
            text, event = self.texts.renamed(claim.previous, name), "renamed"
        announcement = protocol.system_frame(
            text, event=event, name=name, previous=claim.previous, msg_id=self.new_id(), ts=now
        )
        self._broadcast(members, self._members(members, now), announcement)

    def send_public(self, connection_id: str, payload: dict[str, object]) -> None:
        text = check_message(protocol.text_field(payload, "sendPublic", "message"), self.limits)
        sender = self._sender(connection_id)
        frame = protocol.public_frame(sender, text, msg_id=self.new_id(), ts=self.clock())
        self._broadcast(self.store.members(), frame)

    def send_private(self, connection_id: str, payload: dict[str, object]) -> None:
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
        self._send([Envelope(cid, (frame,)) for cid in receivers])

    def send_bot(self, connection_id: str, payload: dict[str, object]) -> None:
        protocol.text_field(payload, "sendBot", "message")
        self._sender(connection_id)
        raise BadFrame(ErrorCode.BOT_UNAVAILABLE)

    def _sender(self, connection_id: str) -> str:
        connection = self.store.get(connection_id)
        if connection is None or connection.name is None:
            raise BadFrame(ErrorCode.NOT_JOINED)
        return connection.name

    def _members(self, members: Iterable[Member], now: int) -> bytes:
        return protocol.members_frame([m.name for m in members], now)

    def _broadcast(self, members: Iterable[Member], *frames: bytes) -> None:
        self._send([Envelope(m.connection_id, frames) for m in members])

    def _tell(self, connection_id: str, frame: bytes) -> None:
        self._send([Envelope(connection_id, (frame,))])

    def _send(self, envelopes: list[Envelope]) -> None:
        if envelopes:
            self._drop(self.delivery.send(envelopes))

    def _drop(self, gone: set[str]) -> None:
        """Forgets connections that are gone and tells the room who left.

        Only the invocation whose removal succeeds announces, so a departure
        is announced once even when several invocations find it gone.
        """
        pending = set(gone)
        while pending:
            removed = self.store.remove(pending.pop())
            if removed is None or removed.name is None:
                continue
            now = self.clock()
            members = self.store.members()
            left = protocol.system_frame(
                self.texts.left(removed.name),
                event="left",
                name=removed.name,
                msg_id=self.new_id(),
                ts=now,
            )
            roster = self._members(members, now)
            envelopes = [Envelope(m.connection_id, (roster, left)) for m in members]
            if envelopes:
                pending |= self.delivery.send(envelopes)


_ACTIONS: dict[str, Callable[[Chat, str, dict[str, object]], None]] = {
    "setName": Chat.set_name,
    "sendPublic": Chat.send_public,
    "sendPrivate": Chat.send_private,
    "sendBot": Chat.send_bot,
}
