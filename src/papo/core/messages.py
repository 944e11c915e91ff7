"""People's messages: to everyone (`sendPublic`), to one person
(`sendPrivate`), and the heartbeat (`ping`).

A public message takes the room's next offset and is kept in its stream; a
private one goes to the streams of the two people's sessions, at each
session's own offset, so either can get it back after a drop.
"""

from __future__ import annotations

from papo.core import protocol
from papo.core.ports import Envelope, LoggedMessage
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room
from papo.core.rules import check_message


def named(room: Room, connection_id: str) -> str:
    """The sender's name, or a Refusal if it has none yet."""
    name = room.sender(connection_id)
    if name is None:
        raise Refusal(ErrorCode.NOT_JOINED)
    return name


def send_public(room: Room, actor: Actor, payload: Payload) -> None:
    text = check_message(protocol.text_field(payload, "sendPublic", "message"), room.rules.limits)
    sender = named(room, actor.connection_id)
    message = LoggedMessage(room.new_id(), room.clock(), sender, text)
    _, frame = room.publish(
        lambda offset: protocol.public_frame(
            sender, text, msg_id=message.msg_id, ts=message.ts, offset=offset
        ),
        message,
    )
    room.broadcast(room.audience(), frame)


def send_private(room: Room, actor: Actor, payload: Payload) -> None:
    to = protocol.text_field(payload, "sendPrivate", "to")
    text = check_message(protocol.text_field(payload, "sendPrivate", "message"), room.rules.limits)
    store, connection_id = room.store, actor.connection_id
    sender = store.get(connection_id)
    if sender is None or sender.name is None:
        raise Refusal(ErrorCode.NOT_JOINED)
    recipient = store.find(to.strip())
    if recipient is None:
        raise Refusal(ErrorCode.UNKNOWN_RECIPIENT, name=to)
    msg_id, now, after = room.new_id(), room.clock(), store.last_offset()
    expires_at = now + room.rules.history.ttl_ms
    envelopes: dict[str, Envelope] = {}
    readers = [
        (recipient.connection_id, recipient.session, recipient.away),
        (connection_id, sender.session, False),
    ]
    for reader, session, away in readers:
        if reader in envelopes:
            continue
        private_offset = store.next_private_offset(session) if session else None
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
            store.append_private(session, private_offset, frame, expires_at)
        if not away:
            envelopes[reader] = Envelope(reader, (frame,))
    room.send(list(envelopes.values()))


def ping(room: Room, actor: Actor, _: Payload) -> None:
    """The heartbeat, where no `MOCK` integration answers it first (it costs
    an invocation here; on AWS the template answers it without one)."""
    room.send([Envelope(actor.connection_id, (protocol.pong_frame(),))])
