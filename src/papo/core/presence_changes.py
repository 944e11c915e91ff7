"""Telling the room who is here and who is away (the `presence` frame), and
the `presence` action, by which a client says whether its person is looking.

A person is away while their connection is dropped within the resume grace
period (`papo.core.presence`), and while their tab is hidden or idle, as
their client says. Everyone here is told each change at once in a small
room. A big room (`Room.coalesces`) is told only how many are here and away,
at most once a join window, by the latest change: the names of who is away
there are for whoever asks (`presence` without a `state`), so that a tab
hidden and shown again does not cost a post to everyone each time.
"""

from __future__ import annotations

from papo.core import presence, protocol
from papo.core.ports import Envelope, Member
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room

PRESENCE_CHANGED_MARK = "presence"
"""The room's mark of when its latest change of presence happened (epoch ms)."""
PRESENCE_TOLD_AT_MARK = "presence-told"
"""The room's mark of when everyone was last told the counts of a big room (epoch ms)."""

_STATES = {presence.HERE: False, presence.AWAY: True}
"""A `state` a client may report, and whether it makes its person idle."""


def report(room: Room, actor: Actor, payload: Payload) -> None:
    """`presence`: `state` `here` or `away` says whether the sender is looking
    (a visible tab in use, or a hidden or idle one); the room is told if that
    changed it. Without `state`, the sender is sent everyone's presence."""
    connection_id = actor.connection_id
    connection = room.joined(connection_id)
    if "state" not in payload:
        members = room.audience()
        here, away = presence.counts(members)
        frame = protocol.presence_frame(
            presence.states(members), here=here, away=away, complete=True, ts=room.clock()
        )
        room.send([Envelope(connection_id, (frame,))])
        return
    state = payload["state"]
    if not isinstance(state, str) or state not in _STATES:
        raise Refusal(ErrorCode.INVALID_FIELD, action="presence", field="state", expected="state")
    if room.store.set_idle(connection_id, _STATES[state]):
        tell(room, {connection.name or "": state})


def tell(room: Room, changes: dict[str, str]) -> None:
    """Tells everyone here that the people of `changes` are now here or away:
    at once in a small room; in a big one, only the counts, once a window."""
    now = room.clock()
    members = room.audience()
    if not room.coalesces(len(members)):
        room.broadcast(members, _frame(members, changes, now))
        return
    if not room.window_open(PRESENCE_CHANGED_MARK, PRESENCE_TOLD_AT_MARK, now, now):
        if room.at_window_end(PRESENCE_CHANGED_MARK, PRESENCE_TOLD_AT_MARK, now) is None:
            return  # a later change tells, with these counts in its own
        members = room.audience()
    room.broadcast(members, _frame(members, {}, room.clock()))


def _frame(members: list[Member], changes: dict[str, str], now: int) -> bytes:
    here, away = presence.counts(members)
    return protocol.presence_frame(changes, here=here, away=away, complete=False, ts=now)


def after_drop(room: Room, connection_id: str) -> None:
    """A connection that ended: if its person is away for the grace period,
    rather than gone, the room is told (a departure is told by `left`)."""
    connection = room.store.get(connection_id)
    if connection is not None and connection.name is not None and connection.away_since:
        tell(room, {connection.name: presence.AWAY})


def back(room: Room, name: str) -> None:
    """A person who came back within the grace period is here again."""
    tell(room, {name: presence.HERE})
