"""The chat core: who receives what, from who said what and the room's state.

It reads and writes the room through a `ConnectionStore`, posts frames through
a `Delivery`, and imports nothing of AWS, HTTP or WebSockets, so a test of a
chat rule needs only a store and a recording delivery.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from papo import protocol
from papo.clock import now_ms
from papo.ports import ClaimStatus, ConnectionStore, Delivery, Envelope, Member
from papo.protocol import ACTIONS, BadFrame, ErrorCode
from papo.rules import Limits, check_message, check_name
from papo.texts import Texts

Body = str | bytes | None


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Chat:
    store: ConnectionStore
    delivery: Delivery
    texts: Texts = field(default_factory=Texts)
    limits: Limits = field(default_factory=Limits)
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
            self._tell(connection_id, protocol.error_frame(bad.code, message, action=action))

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

    def _send_public(self, connection_id: str, payload: dict[str, object]) -> None:
        text = check_message(protocol.text_field(payload, "sendPublic", "message"), self.limits)
        sender = self._sender(connection_id)
        frame = protocol.public_frame(sender, text, msg_id=self.new_id(), ts=self.clock())
        self._broadcast(self.store.members(), frame)

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
        self._send([Envelope(cid, (frame,)) for cid in receivers])

    def _send_bot(self, connection_id: str, payload: dict[str, object]) -> None:
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
