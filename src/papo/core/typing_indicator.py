"""`typing`: "Ana is typing…" for the others in the room.

Never kept in the room's stream: a typing frame is news for a few seconds,
which a client stops showing by itself when no other comes. A connection's
typing frames are relayed at most once every `typing_interval_ms` (its client
sends no more often; extra ones are dropped, unanswered, as they say nothing
new), and not at all in a room of more than `typing_up_to` people, where
each would cost a post to everyone (see docs/costs.md). They are not counted
in the sender's pace, which is for what people say: this throttle is theirs.
"""

from __future__ import annotations

from papo.core import presence, protocol
from papo.core.messages import named
from papo.core.ports import Envelope
from papo.core.room import Actor, Payload, Room


def typing(room: Room, actor: Actor, _: Payload) -> None:
    """Tells the others that the sender is typing, unless it said so a moment ago."""
    connection_id = actor.connection_id
    name = named(room, connection_id)
    rules, now = room.rules.presence, room.clock()
    members = room.audience()
    if len(members) > rules.typing_up_to or not room.store.add_to_counter(
        f"typing:{connection_id}",
        1,
        limit=1,
        now=now,
        expires_at=now + rules.typing_interval_ms,
    ):
        return
    frame = protocol.typing_frame(name, now)
    room.send(
        [
            Envelope(m.connection_id, (frame,))
            for m in presence.reachable(members)
            if m.connection_id != connection_id
        ]
    )
