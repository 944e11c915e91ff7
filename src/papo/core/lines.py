"""`lines`: the room's lines between offsets, for a client that keeps only
some of them and scrolls past the ones it has.

`sync` sends everything after an offset; `lines` sends at most `limit`
frames of the room's stream, the last ones below `before` or the first ones
above `after`, with the asker's own private frames placed among them (by
their `after`, the room's offset when they were sent). Each answer says the
span of offsets it holds whole, so the client knows what it has without a
gap, and whether the room keeps anything earlier or had anything later; and
repeats what was asked, so the client knows which of its questions it answers.
"""

from __future__ import annotations

import msgspec

from papo.core import protocol
from papo.core.ports import Envelope, Sessions
from papo.core.room import Actor, Payload, Room

LIMIT = 100
"""Frames of the room's stream an answer holds unless the client asks for fewer."""
MOST = 500
"""Frames of the room's stream an answer holds at most, whatever the client asks."""

_PAGE = 500


class _Placed(msgspec.Struct):
    after: int = 0


_placed = msgspec.json.Decoder(_Placed).decode


def lines(room: Room, actor: Actor, payload: Payload) -> None:
    """Sends the sender the room's frames between the offsets it names."""
    limit = min(protocol.optional_int(payload, "lines", "limit") or LIMIT, MOST)
    after = protocol.optional_int(payload, "lines", "after") if "after" in payload else None
    before = protocol.optional_int(payload, "lines", "before") if "before" in payload else None
    store = room.store
    low = 0 if after is None else after + 1
    if before is not None:
        found = store.frames_before(before, limit)
        frames = [(offset, frame) for offset, frame in found if offset >= low]
        # Fewer than asked for, none of them below `low`: the room keeps nothing earlier.
        start = len(frames) == len(found) < limit
        if len(frames) == len(found) == limit:
            low = frames[0][0]
        high, end = before - 1, False
    else:
        frames = store.frames_after(low - 1, limit)
        end = len(frames) < limit
        high, start = (frames[-1][0] if frames else low - 1), False
    connection = store.get(actor.connection_id)
    session = connection.session if connection else None
    private = _private(store, session, low, None if end else high) if session else []
    items = sorted([*frames, *private], key=lambda item: item[0])
    asked = {
        key: value for key, value in (("before", before), ("after", after)) if value is not None
    }
    posts = protocol.lines_frames(
        items,
        (low, high),
        asked,
        backward=before is not None,
        start=start,
        end=end,
        ts=room.clock(),
    )
    room.send([Envelope(actor.connection_id, tuple(posts))])


def _private(store: Sessions, session: str, low: int, high: int | None) -> list[tuple[int, bytes]]:
    """The session's private frames placed at room offsets from `low` to `high`
    (None: any later), each with its place, in the order of its stream."""
    found: list[tuple[int, bytes]] = []
    offset = 0
    while batch := store.private_frames_after(session, offset, _PAGE):
        for _, frame in batch:
            after = _placed(frame).after
            if after >= low and (high is None or after <= high):
                found.append((after, frame))
        offset = batch[-1][0]
        if len(batch) < _PAGE:
            break
    return found
