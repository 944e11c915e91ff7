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
    window = room.rules.joins.window_ms
    if room.coalesces(len(members)):
        room.store.raise_mark(MEMBERSHIP_MARK, offset)
        if not room.store.raise_mark(MEMBERS_TOLD_AT_MARK, now, by_at_least=window):
            told = room.store.mark(MEMBERS_TOLD_AT_MARK) + window
            _tell_later(room, connection_id, offset, announcement, first, told, members)
            return
    update = room.members_frame(members, now, offset)
    _tell(room, members, update, announcement, connection_id, first)


def _tell_later(
    room: Room,
    connection_id: str,
    offset: int,
    announcement: FrameFor,
    first: tuple[bytes, ...],
    window_ends: int,
    members: list[Member],
) -> None:
    """Tells its person at once, and everyone else when the window ends,
    unless a later change is to tell them then."""
    own = next((m for m in members if m.connection_id == connection_id), None)
    update = room.members_frame(members, room.clock(), offset)
    language = own.language if own else None
    room.send([Envelope(connection_id, (*first, update, announcement(language)))])
    room.sleep(max(0, window_ends - room.clock()) / 1000)
    latest = room.store.mark(MEMBERSHIP_MARK)
    if latest > offset:
        return
    now = room.clock()
    room.store.raise_mark(MEMBERS_TOLD_AT_MARK, now)
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
