"""People's messages: to everyone (`sendPublic`), to one person
(`sendPrivate`), and the heartbeat (`ping`).

A public message takes the room's next offset and is kept in its stream; a
private one goes to the streams of the two people's sessions, at each
session's own offset, so either can get it back after a drop.
"""

from __future__ import annotations

from papo.core import protocol
from papo.core.authors import author_of
from papo.core.ports import Envelope, LoggedMessage, Member, Store
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room
from papo.core.rules import check_message


def named(room: Room, connection_id: str) -> str:
    """The sender's name, or a Refusal (`not_joined`) if it has none yet."""
    return room.joined(connection_id).name or ""


def send_public(room: Room, actor: Actor, payload: Payload) -> None:
    text = check_message(protocol.text_field(payload, "sendPublic", "message"), room.rules.limits)
    connection = room.joined(actor.connection_id)
    sender = connection.name or ""
    message = LoggedMessage(room.new_id(), room.clock(), sender, text, author=author_of(connection))
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
    sender = room.joined(connection_id)
    sender_name = sender.name or ""
    recipient = store.find(to.strip())
    if recipient is None:
        raise Refusal(ErrorCode.UNKNOWN_RECIPIENT, name=to)
    msg_id, now, after = room.new_id(), room.clock(), store.last_offset()
    expires_at = now + room.rules.history.ttl_ms
    envelopes: dict[str, Envelope] = {}
    kept: dict[str, bytes] = {}
    readers = [
        (recipient.connection_id, recipient.session, recipient.away),
        (connection_id, sender.session, False),
    ]
    for reader, session, away in readers:
        if reader in kept:
            continue
        private_offset = store.next_private_offset(session) if session else None
        frame = protocol.private_frame(
            sender_name,
            recipient.name,
            text,
            msg_id=msg_id,
            ts=now,
            private_offset=private_offset,
            room_offset=after,
        )
        kept[reader] = frame
        if session is not None and private_offset is not None:
            store.append_private(session, private_offset, frame, expires_at)
        if not away:
            envelopes[reader] = Envelope(reader, (frame,))
    if recipient.session is not None:
        _to_where_they_are_now(store, recipient, kept[recipient.connection_id], envelopes)
    room.send(list(envelopes.values()))


def _to_where_they_are_now(
    store: Store, recipient: Member, frame: bytes, envelopes: dict[str, Envelope]
) -> None:
    """The recipient, looked for again once their line is kept: one who resumed
    on a new connection after the first look and read what they missed before
    the line was kept would have it neither way. Resuming takes the name before
    it reads what was missed, so a line kept before that read is among what was
    missed, and one kept after it finds them here (a client keeps a line once,
    by its private offset)."""
    now_there = store.find(recipient.name)
    if now_there is None or now_there.away or now_there.session != recipient.session:
        return
    if now_there.connection_id != recipient.connection_id:
        envelopes.pop(recipient.connection_id, None)
    envelopes.setdefault(now_there.connection_id, Envelope(now_there.connection_id, (frame,)))


def ping(room: Room, actor: Actor, _: Payload) -> None:
    """The heartbeat, where no `MOCK` integration answers it first (it costs
    an invocation here; on AWS the template answers it without one)."""
    room.send([Envelope(actor.connection_id, (protocol.pong_frame(),))])
