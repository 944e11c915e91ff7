"""A store's in-process cache of what it read: a connection's room, which never
changes, or a room's members while their version stands."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(dict[K, V]):
    """A dict of at most `size` entries, shared by a store's room views: full,
    it forgets them all (cheaper than an LRU's bookkeeping on every read),
    and what it held is read again from the store when next needed."""

    def __init__(self, size: int = 100_000) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: K, value: V) -> None:
        if key not in self and len(self) >= self.size:
            self.clear()
        super().__setitem__(key, value)
