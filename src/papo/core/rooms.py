"""Rooms: a connection joins the one its `$connect` names (`?room=`), and
nothing crosses rooms. The name is part of store keys and page addresses, so
it is kept to a small alphabet; case is folded, as people type `Team` for `team`."""

from __future__ import annotations

import re

ROOM_DEFAULT = "main"
"""The room of a connection that names none: the course's clients, old links."""

_ROOM = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")


class InvalidRoom(ValueError):
    """A `?room=` that names no room papo could keep."""


def room_name(raw: str | None) -> str:
    """The room `raw` names (the default for none), or InvalidRoom: 1 to 32
    letters a-z, digits and hyphens, neither first nor last a hyphen."""
    if not raw:
        return ROOM_DEFAULT
    folded = raw.lower()
    # ASCII before folding: lower() turns some letters of other scripts into
    # a-z (the Kelvin sign into `k`).
    if not raw.isascii() or not _ROOM.fullmatch(folded):
        raise InvalidRoom(
            f"{raw!r} is no room name: 1 to 32 letters a-z, digits and hyphens,"
            " neither first nor last a hyphen"
        )
    return folded


OWNER = "owner"
"""The role of who may set a room's bot (an invite's, or an identity's)."""
