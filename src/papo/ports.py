"""The ports the chat core talks through: the connection store and the delivery.

The chat core depends only on these protocols; the adapters (SQLite, DynamoDB,
the API Gateway Management API) implement them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Connection:
    """A WebSocket connection the store knows; `name` is None until `setName`."""

    connection_id: str
    connected_at: int
    name: str | None = None
    joined_at: int | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """A named connection: a person in the room."""

    connection_id: str
    name: str


class ClaimStatus(enum.Enum):
    CLAIMED = "claimed"
    TAKEN = "taken"
    NO_CONNECTION = "no_connection"


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of claiming a name; `previous` is the name the connection had."""

    status: ClaimStatus
    previous: str | None = None


class ConnectionStore(Protocol):
    """Who is connected and under which name.

    Every method is atomic on its own, so that many handler invocations, in
    threads, processes or Lambda containers, may call it at once.
    """

    def add(self, connection_id: str, connected_at: int) -> None:
        """Records a new, unnamed connection (`connected_at` in epoch ms)."""

    def get(self, connection_id: str) -> Connection | None:
        """The connection, or None if it is unknown or has expired."""

    def remove(self, connection_id: str) -> Connection | None:
        """Forgets the connection and frees its name.

        Returns what was removed, or None when it was already gone: of two
        concurrent removals exactly one gets the connection back.
        """

    def claim_name(self, connection_id: str, name: str, now: int) -> Claim:
        """Gives the connection `name` unless another connection holds it (ignoring case)."""

    def members(self) -> list[Member]:
        """Every named, unexpired connection, in the order they joined."""

    def find(self, name: str) -> Member | None:
        """The member holding `name` (ignoring case), if any."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """Frames for one connection, posted in this order."""

    connection_id: str
    frames: tuple[bytes, ...]


class Delivery(Protocol):
    """Posts frames to connections."""

    def send(self, envelopes: Sequence[Envelope]) -> set[str]:
        """Posts every envelope; returns the ids of connections that are gone (410).

        Failures other than 'gone' are the delivery's to log; they never stop
        the delivery to other connections.
        """
