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


HERE = "here"
AWAY = "away"
"""What the `presence` frame says of a person: here, or away (their connection
dropped within the grace period, or their tab is hidden or idle)."""


def shown(member: Member) -> str:
    """What the room is told of a member: away when their connection dropped
    or their client said they are not looking."""
    return AWAY if member.away or member.idle else HERE


def states(members: Iterable[Member]) -> dict[str, str]:
    """Each listed member's presence, by the name `listed` shows."""
    return {m.name: shown(m) for m in members}


def counts(members: Iterable[Member]) -> tuple[int, int]:
    """How many are here, and how many away."""
    told = [shown(m) for m in members]
    return told.count(HERE), told.count(AWAY)
