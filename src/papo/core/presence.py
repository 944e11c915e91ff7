"""Who is here: the states of a person in a room, named once.

A member is `HERE` while their connection is open. When it ends and their
session may resume it, they are `AWAY` for the grace period: still listed,
sent nothing, and nobody is told they left. Past the grace period they are
`GONE`: the room is told they left. Every frame that lists people uses
`listed`, so the list never disagrees with itself.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from papo.core.ports import Member


class Presence(enum.Enum):
    HERE = "here"
    AWAY = "away"
    GONE = "gone"


def presence(member: Member, now: int, grace_ms: int) -> Presence:
    if not member.away:
        return Presence.HERE
    if (member.away_since or 0) >= now - grace_ms:
        return Presence.AWAY
    return Presence.GONE


def listed(members: Iterable[Member]) -> list[str]:
    """The names a members list shows: everyone here or away (the gone are
    removed before any list is made)."""
    return [m.name for m in members]


def reachable(members: Iterable[Member]) -> list[Member]:
    """The members frames are posted to: those here (the away are sent nothing)."""
    return [m for m in members if not m.away]
