"""How far each person has read: `read` moves their marker in the room, and
`unread` tells them, for the rooms they name, their marker, the room's newest
offset and how many public messages came after the marker.

A marker is a person's, not a connection's: their resumable session's, or,
when papo's authorizer lets people in, their identity's, which is the same
in every room and on every device. Their other devices read it when they ask
(`unread`, as the page does when it comes back to view), so reading on one
clears the count on the other.
"""

from __future__ import annotations

from typing import Any

from papo.core import protocol, sessions
from papo.core.ports import Envelope, Store
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room
from papo.core.rooms import InvalidRoom, room_name

UNREAD_COUNT_LIMIT = 100
"""Unread public messages are counted up to this many (a page shows 99+)."""
MAX_ROOMS = 20
"""The most rooms one `unread` asks about."""


def read(room: Room, actor: Actor, payload: Payload) -> None:
    """`read`: the sender has read the room up to `offset` (its clients send
    at most one every few seconds). A marker never goes back. The sender is
    answered with the room's `unread`, as its marker now stands."""
    if "offset" not in payload:
        raise Refusal(ErrorCode.MISSING_FIELD, action="read", field="offset")
    offset = protocol.optional_int(payload, "read", "offset")
    reader = _reader(room, actor)
    newest = room.store.last_offset()
    if offset > newest:
        raise Refusal(ErrorCode.UNKNOWN_OFFSET, offset=offset, newest=newest)
    rules = room.rules
    keep_ms = max(rules.history.ttl_ms, rules.resume.token_ttl_ms)
    moved = room.store.raise_read_marker(reader, offset, room.clock() + keep_ms)
    # Not moved: another of the person's devices had read further.
    marker = offset if moved else room.store.read_marker(reader)
    counted = _count(room.store, reader, marker=marker, newest=newest)
    frame = protocol.unread_frame({room.name: counted}, room.clock())
    room.send([Envelope(actor.connection_id, (frame,))])


def unread(room: Room, actor: Actor, payload: Payload) -> None:
    """`unread`: the sender's markers and counts in this room and in those
    `rooms` names, each with the resume token of the sender's session there
    (none needed where they are signed in, nor for this room). A room where
    they have no session papo knows is left out."""
    asked = _rooms(payload)
    here = _reader(room, actor)
    principal = actor.identity.principal if actor.identity else None
    counts: dict[str, dict[str, int]] = {room.name: _count(room.store, here)}
    for name, token in asked.items():
        if name == room.name:
            continue
        store = room.store.in_room(name)
        reader = _principal_reader(principal) if principal else _session_reader(store, token)
        if reader is not None:
            counts[name] = _count(store, reader)
    frame = protocol.unread_frame(counts, room.clock())
    room.send([Envelope(actor.connection_id, (frame,))])


def _count(
    store: Store, reader: str, *, marker: int | None = None, newest: int | None = None
) -> dict[str, int]:
    """`reader`'s marker, the room's newest offset and the public messages
    between, each read from the store unless the caller has it already."""
    marker = store.read_marker(reader) if marker is None else marker
    unread = store.recent(UNREAD_COUNT_LIMIT, after=marker) if marker else []
    newest = store.last_offset() if newest is None else newest
    return {"read": marker, "newest": newest, "count": len(unread)}


def _reader(room: Room, actor: Actor) -> str:
    """Whose marker the sender moves: their identity's, else their session's."""
    connection = room.joined(actor.connection_id)
    if actor.identity is not None:
        return _principal_reader(actor.identity.principal)
    if connection.session is None:
        raise Refusal(ErrorCode.NO_READER)
    return f"s:{connection.session}"


def _principal_reader(principal: str) -> str:
    return f"p:{principal}"


def _session_reader(store: Store, token: str | None) -> str | None:
    """The session a resume token opens in the store's room, if it does."""
    if token is None:
        return None
    session = store.session(sessions.session_id_of(token))
    if session is None or not sessions.token_matches(token, session):
        return None
    return f"s:{session.session_id}"


def _rooms(payload: Payload) -> dict[str, str | None]:
    """The rooms an `unread` names, by their names as papo keeps them."""
    raw: Any = payload.get("rooms", {})
    refusal = Refusal(
        ErrorCode.INVALID_FIELD, action="unread", field="rooms", expected="rooms", most=MAX_ROOMS
    )
    if not isinstance(raw, dict) or len(raw) > MAX_ROOMS:
        raise refusal
    rooms: dict[str, str | None] = {}
    for name, token in raw.items():
        if token is not None and not isinstance(token, str):
            raise refusal
        try:
            rooms[room_name(name)] = token
        except InvalidRoom:
            raise refusal from None
    return rooms
