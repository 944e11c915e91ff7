"""Telling the room that someone joined, came back or changed name: the
members and the announcement, at once in a small room, and once a join
window in a big one (see `papo.core.rules.JoinRules`)."""

from __future__ import annotations

from papo.core import presence
from papo.core.ports import Envelope, Member
from papo.core.room import MEMBERS_TOLD_AT_MARK, MEMBERSHIP_MARK, FrameFor, Localized, Room


def announce(
    room: Room, connection_id: str, said: Localized, first: tuple[bytes, ...], now: int
) -> None:
    """Publishes a change of who is here, and tells everyone: the members,
    and the announcement, `first` before them for its person. When the room
    is big and was told less than a join window ago, everyone else is told
    once that window ends, and only by the latest change (its list has them
    all). An announcement left untold is in the room's stream, at its
    offset, for whoever keeps count (`sync`)."""
    offset, announcement = room.publish_localized(said)
    members = room.audience()
    if room.coalesces(len(members)) and not room.window_open(
        MEMBERSHIP_MARK, MEMBERS_TOLD_AT_MARK, offset, now
    ):
        _tell_later(room, connection_id, offset, announcement, first, members)
        return
    update = room.members_frame(members, now, offset)
    _tell(room, members, update, announcement, connection_id, first)


def _tell_later(
    room: Room,
    connection_id: str,
    offset: int,
    announcement: FrameFor,
    first: tuple[bytes, ...],
    members: list[Member],
) -> None:
    """Tells its person at once, and everyone else when the window ends,
    unless a later change is to tell them then."""
    own = next((m for m in members if m.connection_id == connection_id), None)
    update = room.members_frame(members, room.clock(), offset)
    language = own.language if own else None
    room.send([Envelope(connection_id, (*first, update, announcement(language)))])
    latest = room.at_window_end(MEMBERSHIP_MARK, MEMBERS_TOLD_AT_MARK, offset)
    if latest is None:
        return
    now = room.clock()
    members = room.audience()
    others = [m for m in members if m.connection_id != connection_id]
    _tell(room, others, room.members_frame(members, now, latest), announcement)


def _tell(
    room: Room,
    members: list[Member],
    update: bytes,
    announcement: FrameFor,
    first_to: str | None = None,
    first: tuple[bytes, ...] = (),
) -> None:
    """Sends the members and an announcement to everyone here, `first` before
    them to `first_to`."""
    room.send(
        [
            Envelope(
                m.connection_id,
                (*(first if m.connection_id == first_to else ()), update, announcement(m.language)),
            )
            for m in presence.reachable(members)
        ]
    )
