"""Who is looking and how far each person has read: one contract, both stores
(SQLite, and DynamoDB through moto's server mode)."""

from __future__ import annotations

import time

from papo.core.ports import Member, Store

T0 = time.time_ns() // 1_000_000
DAY_MS = 24 * 60 * 60 * 1000


def test_a_connection_is_marked_idle_and_back_once_each(store: Store) -> None:
    store.add("A=", T0)
    store.claim_name("A=", "Ana", T0)
    assert store.members() == [Member("A=", "Ana")]
    assert store.set_idle("A=", True)
    assert not store.set_idle("A=", True)  # already: another caller told it
    assert store.members() == [Member("A=", "Ana", idle=True)]
    assert store.find("ana") == Member("A=", "Ana", idle=True)
    assert store.get("A=").idle  # type: ignore[union-attr]
    assert store.set_idle("A=", False)
    assert not store.set_idle("A=", False)
    assert store.members() == [Member("A=", "Ana")]


def test_an_unknown_connection_is_never_idle(store: Store) -> None:
    assert not store.set_idle("nobody", True)
    assert store.members() == []


def test_a_resumed_session_is_looking_again(store: Store) -> None:
    store.add("A=", T0)
    store.claim_name("A=", "Ana", T0, session="s1")
    store.set_idle("A=", True)
    store.set_away("A=", T0 + 1)
    store.add("A2=", T0 + 2)
    store.take_over("A2=", "A=", "Ana", "s1", T0 + 3)
    assert store.members() == [Member("A2=", "Ana", session="s1")]


def test_a_read_marker_only_moves_forward(store: Store) -> None:
    expires = T0 + DAY_MS
    assert store.read_marker("s1") == 0
    assert store.raise_read_marker("s1", 5, expires)
    assert store.read_marker("s1") == 5
    assert not store.raise_read_marker("s1", 3, expires)
    assert not store.raise_read_marker("s1", 5, expires)
    assert store.read_marker("s1") == 5
    assert store.raise_read_marker("s1", 9, expires)
    assert store.read_marker("s1") == 9
    assert store.read_marker("s2") == 0


def test_read_markers_are_each_rooms_own(store: Store) -> None:
    expires = T0 + DAY_MS
    team = store.in_room("team")
    store.raise_read_marker("p1", 7, expires)
    assert team.read_marker("p1") == 0
    team.raise_read_marker("p1", 2, expires)
    assert (store.read_marker("p1"), team.read_marker("p1")) == (7, 2)


def test_an_expired_read_marker_reads_as_none(store: Store) -> None:
    assert store.raise_read_marker("s1", 4, T0 - 1_000)
    assert store.read_marker("s1") == 0
    assert store.raise_read_marker("s1", 2, T0 + DAY_MS)
    assert store.read_marker("s1") == 2
