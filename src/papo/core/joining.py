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
    all); a telling that a later one overtook tells the list again
    (`_settle`). An announcement left untold is in the room's stream, at its
    offset, for whoever keeps count (`sync`)."""
    offset, announcement = room.publish_localized(said)
    members = room.audience()
    coalesces = room.coalesces(len(members))
    if coalesces and not room.window_open(MEMBERSHIP_MARK, MEMBERS_TOLD_AT_MARK, offset, now):
        _tell_later(room, connection_id, offset, announcement, first, members)
        return
    update = room.members_frame(members, now, offset)
    _tell(room, members, update, announcement, connection_id, first)
    if coalesces:
        _settle(room, now)


def _tell_later(
    room: Room,
    connection_id: str,
    offset: int,
    announcement: FrameFor,
    first: tuple[bytes, ...],
    members: list[Member],
) -> None:
    """Tells its person at once, and everyone when the window ends (its person
    the members only), unless a later change is to tell them then."""
    own = next((m for m in members if m.connection_id == connection_id), None)
    update = room.members_frame(members, room.clock(), offset)
    language = own.language if own else None
    room.send([Envelope(connection_id, (*first, update, announcement(language)))])
    at_window_end = room.at_window_end(MEMBERSHIP_MARK, MEMBERS_TOLD_AT_MARK, offset)
    if at_window_end is None:
        return
    latest, told_at = at_window_end
    members = room.audience()
    update = room.members_frame(members, told_at, latest)
    # Its person hears the list again, without the announcement they had: a
    # slower telling's older list may have reached them after theirs.
    room.send(
        [
            Envelope(
                m.connection_id,
                (update,)
                if m.connection_id == connection_id
                else (update, announcement(m.language)),
            )
            for m in presence.reachable(members)
        ]
    )
    _settle(room, told_at)


def _settle(room: Room, told_at: int) -> None:
    """After a telling of the members that began at `told_at`: if another began
    since, while this one's posts were still going, some of them may have
    reached people after the other's newer list, which a course client, keeping
    the last list it got, would then not show. So everyone is told the list as
    it is now, members only. Once: its list is read after the other telling
    began, so it has all the other's list has; a telling that begins after it
    settles in its turn, and a storm that never pauses costs no more than one
    list more a telling."""
    if room.store.mark(MEMBERS_TOLD_AT_MARK) > told_at:
        members = room.audience()
        update = room.members_frame(members, room.clock(), room.store.mark(MEMBERSHIP_MARK))
        room.broadcast(members, update)


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
