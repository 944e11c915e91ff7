"""The room's message log and the limits' counters: one contract, both stores."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from papo.ports import LoggedMessage, Store

T0 = time.time_ns() // 1_000_000
HOUR = 3_600_000


def message(number: int, *, by_bot: bool = False) -> LoggedMessage:
    return LoggedMessage(
        f"m{number}", T0 + number, "Bot" if by_bot else "Ana", f"text {number}", by_bot
    )


def test_recent_messages_oldest_first(store: Store) -> None:
    for number in (3, 1, 2, 4):
        store.log(message(number, by_bot=number == 4), T0 + HOUR)
    assert store.recent(3) == [message(2), message(3), message(4, by_bot=True)]
    assert store.recent(10, since=T0 + 3) == [message(3), message(4, by_bot=True)]
    assert store.recent(10, since=T0 + 5) == []


def test_expired_messages_are_not_recent(store: Store) -> None:
    store.log(message(1), T0 + HOUR)
    store.log(message(2), T0 - 10_000)
    store.log(message(3), T0 + HOUR)
    assert store.recent(2) == [message(1), message(3)]


def test_the_bot_memory_start_only_moves_forward(store: Store) -> None:
    assert store.bot_memory_start() == 0
    store.forget_bot_memory(T0)
    store.forget_bot_memory(T0 - 10)
    assert store.bot_memory_start() == T0


def test_a_counter_stops_at_its_limit(store: Store) -> None:
    for _ in range(3):
        assert store.add_to_counter("rate", 1, limit=3, now=T0, expires_at=T0 + HOUR)
    assert not store.add_to_counter("rate", 1, limit=3, now=T0, expires_at=T0 + HOUR)
    assert not store.add_to_counter("big", 4, limit=3, now=T0, expires_at=T0 + HOUR)


def test_a_decrease_always_goes_through(store: Store) -> None:
    assert store.add_to_counter("busy", 1, limit=1, now=T0, expires_at=T0 + HOUR)
    assert not store.add_to_counter("busy", 1, limit=1, now=T0, expires_at=T0 + HOUR)
    assert store.add_to_counter("busy", -1, limit=1, now=T0, expires_at=T0)
    assert store.add_to_counter("busy", 1, limit=1, now=T0, expires_at=T0 + HOUR)
    assert store.add_to_counter("never-set", -5, limit=1, now=T0, expires_at=T0)


def test_an_expired_counter_starts_again(store: Store) -> None:
    assert store.add_to_counter("rate", 2, limit=2, now=T0, expires_at=T0 + 60_000)
    assert not store.add_to_counter("rate", 1, limit=2, now=T0 + 59_000, expires_at=T0 + 60_000)
    assert store.add_to_counter("rate", 2, limit=2, now=T0 + 61_000, expires_at=T0 + 120_000)


def test_counters_are_atomic_under_concurrency(store: Store) -> None:
    def take(_: int) -> bool:
        return store.add_to_counter("budget", 10, limit=100, now=T0, expires_at=T0 + HOUR)

    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(take, range(40)))
    assert taken.count(True) == 10
    assert not store.add_to_counter("budget", 1, limit=100, now=T0, expires_at=T0 + HOUR)
