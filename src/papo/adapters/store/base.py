"""What every store does the same way, whatever it keeps things in.

`BaseStore` holds the rules the stores share: how long a connection lives,
which room a view serves, the connection → room cache, how names are folded
before they are looked up, and the counters' rule (a decrease always goes
through, an increase only within the limit). A store subclasses it and
implements its own reads and writes: the `_`-prefixed abstract methods below,
and the `Store` port's methods whose queries are its own.
"""

from __future__ import annotations

import abc
import copy
from collections.abc import Callable
from typing import Self

import msgspec

from papo.adapters.store.bounded_cache import BoundedCache
from papo.core.clock import now_ms
from papo.core.ports import Connection, LoggedMessage, Member, Reaction, Store
from papo.core.rooms import ROOM_DEFAULT
from papo.core.rules import name_key

CONNECTION_TTL_MS = 2 * 60 * 60 * 1000 + 60_000
"""How long a connection is kept after it opened: API Gateway closes a
connection after 2 hours; a minute's grace on top."""


PICKED = "~"
"""Before an owner's principal: the name is one it picked, not the one its
invite or sign-in names. The identity whose name it is takes it over.
Principals never begin with it."""


def owner_condition_values(stored: str) -> tuple[str, str, bool]:
    """The principals whose ownership a write of `stored` replaces (itself,
    picked or not), and whether it replaces any that was picked."""
    principal = stored.removeprefix(PICKED)
    return principal, PICKED + principal, not stored.startswith(PICKED)


_encode = msgspec.json.Encoder().encode
_reactions = msgspec.json.Decoder(tuple[Reaction, ...]).decode
_message = msgspec.json.Decoder(LoggedMessage).decode


def encode_reactions(reactions: tuple[Reaction, ...]) -> bytes | None:
    """A line's reactions as the stores keep them (JSON); None when it has none."""
    return _encode(reactions) if reactions else None


def decode_reactions(kept: bytes | None) -> tuple[Reaction, ...]:
    return _reactions(kept) if kept else ()


def encode_message(message: LoggedMessage) -> bytes:
    """An earlier version of a line, as the stores keep it for the operator."""
    return _encode(message)


def decode_message(kept: bytes) -> LoggedMessage:
    return _message(kept)


class BaseStore(Store, abc.ABC):
    """A store serving one room (`room`); `in_room` gives views of the same
    store for others, sharing its connections to the backend and its caches."""

    room: str

    def __init__(
        self, *, connection_ttl_ms: int = CONNECTION_TTL_MS, clock: Callable[[], int] = now_ms
    ) -> None:
        self.room = ROOM_DEFAULT
        self._connection_ttl_ms = connection_ttl_ms
        self._clock = clock
        self._rooms: BoundedCache[str, str] = BoundedCache()
        """Each connection's room, as read or written by this process."""

    def in_room(self, room: str) -> Self:
        view = copy.copy(self)
        view.room = room
        return view

    def room_of(self, connection_id: str) -> str | None:
        """A connection's room is set once, at `$connect`, and connection ids are
        never reused: once read, this process keeps it."""
        room = self._rooms.get(connection_id)
        if room is None:
            room = self._read_room(connection_id)
            if room is not None:
                self._rooms[connection_id] = room
        return room

    def _connection_expiry(self, connected_at: int) -> int:
        """When a connection that opened at `connected_at` is forgotten (epoch ms)."""
        return connected_at + self._connection_ttl_ms

    # Connections and names

    def add(
        self,
        connection_id: str,
        connected_at: int,
        language: str | None = None,
        principal: str | None = None,
    ) -> None:
        self._insert_connection(
            connection_id, connected_at, self._connection_expiry(connected_at), language, principal
        )
        self._rooms[connection_id] = self.room

    def remove(self, connection_id: str) -> Connection | None:
        removed = self._delete_connection(connection_id)
        self._rooms.pop(connection_id, None)
        return removed

    def own_name(self, name: str, principal: str, expires_at: int, *, bound: bool = False) -> str:
        stored = principal if bound else PICKED + principal
        if self._write_owner(name_key(name), stored, expires_at):
            return principal
        return self.owner(name) or principal

    def owner(self, name: str) -> str | None:
        found = self._read_owner(name_key(name))
        return None if found is None else found.removeprefix(PICKED)

    def find(self, name: str) -> Member | None:
        return self._read_member(name_key(name))

    # Sessions

    def next_private_offset(self, session_id: str) -> int:
        offset = self._increment_private(session_id)
        if offset is None:
            raise KeyError(session_id)
        return offset

    # Counters

    def add_to_counter(
        self, key: str, amount: int, *, limit: int, now: int, expires_at: int
    ) -> bool:
        if amount <= 0:
            self._decrease_counter(key, amount, now)
            return True
        return amount <= limit and self._increase_counter(key, amount, limit, now, expires_at)

    # What each store reads and writes its own way

    @abc.abstractmethod
    def _read_room(self, connection_id: str) -> str | None:
        """The room the connection joined, from the backend."""

    @abc.abstractmethod
    def _insert_connection(
        self,
        connection_id: str,
        connected_at: int,
        expires_at: int,
        language: str | None,
        principal: str | None,
    ) -> None:
        """Writes a new, unnamed connection of this room, kept until `expires_at`."""

    @abc.abstractmethod
    def _delete_connection(self, connection_id: str) -> Connection | None:
        """Deletes the connection and frees its name; what was deleted, for one caller."""

    @abc.abstractmethod
    def _write_owner(self, key: str, stored: str, expires_at: int) -> bool:
        """Records `stored` (a principal, `PICKED` before it when it only picked
        the name) as the owner of the folded name `key` in every room until
        `expires_at`, unless another owns it unexpired; a principal that is not
        `PICKED` takes it over from one that is. Whether it did."""

    @abc.abstractmethod
    def _read_owner(self, key: str) -> str | None:
        """Who owns the folded name `key`, unexpired."""

    @abc.abstractmethod
    def _read_member(self, key: str) -> Member | None:
        """The unexpired member whose folded name is `key`."""

    @abc.abstractmethod
    def _increment_private(self, session_id: str) -> int | None:
        """Raises the session's private offset by one; the new one, or None when
        the session is unknown."""

    @abc.abstractmethod
    def _increase_counter(
        self, key: str, amount: int, limit: int, now: int, expires_at: int
    ) -> bool:
        """Adds `amount` (> 0) to the counter unless that takes it above `limit`,
        an expired counter counting as 0, and moves its expiry to `expires_at`;
        whether it did. Atomic."""

    @abc.abstractmethod
    def _decrease_counter(self, key: str, amount: int, now: int) -> None:
        """Adds `amount` (<= 0) to the counter, if it exists unexpired."""
