"""The room's message log and the limits' counters: one contract, both stores."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from papo.adapters.store.dynamodb import DynamoDbStore
from papo.core.ports import LoggedMessage, PaceWindow, Session, Store

T0 = time.time_ns() // 1_000_000
HOUR = 3_600_000


def message(number: int, *, by_bot: bool = False) -> LoggedMessage:
    return LoggedMessage(
        f"m{number}", T0 + number, "Bot" if by_bot else "Ana", f"text {number}", by_bot, number
    )


def frame(number: int) -> bytes:
    return f'{{"n": {number}}}'.encode()


def add(store: Store, message: LoggedMessage | None = None, expires_at: int = T0 + HOUR) -> int:
    """Appends a frame at the room's next offset; the offset."""
    offset, _ = store.append_next(frame, expires_at, message)
    return offset


def test_offsets_count_up_from_one(store: Store) -> None:
    assert store.last_offset() == 0
    assert [add(store) for _ in range(3)] == [1, 2, 3]
    assert store.last_offset() == 3


def test_offsets_are_atomic_under_concurrency(store: Store) -> None:
    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(lambda _: add(store), range(40)))
    assert sorted(taken) == list(range(1, 41))
    assert store.frames_after(0, 100) == [(n, frame(n)) for n in range(1, 41)]


def failing(offset: int) -> bytes:
    raise RuntimeError(f"the invocation that took {offset} died")


def test_frames_after_an_offset_in_order_and_a_lost_frame_leaves_a_gap_at_most(
    store: Store,
) -> None:
    for _ in range(3):
        add(store)
    with pytest.raises(RuntimeError):
        store.append_next(failing, T0 + HOUR)
    # DynamoDB takes offset 4 before the frame is built, and the frame never comes;
    # SQLite takes an offset only with its frame.
    last = add(store)
    kept = [1, 2, 3, last]
    assert last in (4, 5)
    assert store.frames_after(0, 10) == [(n, frame(n)) for n in kept]
    assert store.frames_after(2, 10) == [(3, frame(3)), (last, frame(last))]
    assert store.frames_after(1, 2) == [(2, frame(2)), (3, frame(3))]
    assert store.frames_after(last, 10) == []


def test_frames_before_an_offset_are_the_last_ones_below_it_in_order(store: Store) -> None:
    for number in range(1, 8):
        add(store, expires_at=T0 - 10_000 if number == 2 else T0 + HOUR)
    assert store.frames_before(6, 3) == [(3, frame(3)), (4, frame(4)), (5, frame(5))]
    assert store.frames_before(6, 10) == [(n, frame(n)) for n in (1, 3, 4, 5)]
    assert store.frames_before(4, 2) == [(1, frame(1)), (3, frame(3))]  # 2 expired
    assert store.frames_before(100, 2) == [(6, frame(6)), (7, frame(7))]
    assert store.frames_before(2**53 - 1, 1) == [(7, frame(7))]
    assert store.frames_before(1, 10) == store.frames_before(0, 10) == []


def test_recent_messages_oldest_first(store: Store) -> None:
    for number in (1, 2, 3, 4):
        add(store, message(number, by_bot=number == 4))
    add(store)  # a frame that is no public message
    assert store.recent(3) == [message(2), message(3), message(4, by_bot=True)]
    assert store.recent(10, after=2) == [message(3), message(4, by_bot=True)]
    assert store.recent(10, after=4) == []
    assert store.recent(10, until=2) == [message(1), message(2)]
    assert store.recent(1, after=2, until=3) == [message(3)]


def test_the_stream_is_read_consistently_on_dynamodb(dynamodb_table: str, moto_url: str) -> None:
    """An answer runs in another invocation than its question: an eventually
    consistent read could miss the question written a moment before."""
    client = boto3.client("dynamodb", endpoint_url=moto_url)
    queries: list[dict[str, object]] = []
    client.meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: queries.append(params)
    )
    store = DynamoDbStore(client, dynamodb_table)
    add(store, message(1))
    assert store.recent(5) == [message(1)]
    assert store.frames_after(0, 5) == [(1, frame(1))]
    assert [q.get("ConsistentRead") for q in queries] == [True, True]


def test_expired_frames_are_neither_recent_nor_missed(store: Store) -> None:
    add(store, message(1))
    add(store, message(2), expires_at=T0 - 10_000)
    add(store, message(3))
    assert store.recent(2) == [message(1), message(3)]
    assert [offset for offset, _ in store.frames_after(0, 10)] == [1, 3]


def test_a_mark_only_rises_and_by_the_gap_asked(store: Store) -> None:
    assert store.mark("m") == 0
    assert store.raise_mark("m", 7)
    assert not store.raise_mark("m", 3)
    assert not store.raise_mark("m", 7)
    assert store.mark("m") == 7
    assert not store.raise_mark("m", 9, by_at_least=5)
    assert store.raise_mark("m", 12, by_at_least=5)
    assert (store.mark("m"), store.mark("other")) == (12, 0)


def test_sessions_and_their_private_streams(store: Store) -> None:
    assert store.session("s1") is None
    session = Session("s1", "hash", "Ana", "A=", T0 + HOUR)
    store.save_session(session)
    assert store.session("s1") == session
    store.save_session(Session("s1", "hash", "Bia", "B=", T0 + HOUR))
    assert store.session("s1") == Session("s1", "hash", "Bia", "B=", T0 + HOUR)
    assert [store.next_private_offset("s1") for _ in range(2)] == [1, 2]
    store.append_private("s1", 2, frame(2), T0 + HOUR)
    store.append_private("s1", 1, frame(1), T0 + HOUR)
    assert store.private_frames_after("s1", 0, 10) == [(1, frame(1)), (2, frame(2))]
    assert store.private_frames_after("s1", 1, 10) == [(2, frame(2))]
    assert store.private_frames_after("s2", 0, 10) == []


def test_an_expired_session_is_gone(store: Store) -> None:
    store.save_session(Session("s1", "hash", "Ana", "A=", T0 - 1_000))
    assert store.session("s1") is None


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


def test_append_next_keeps_the_frame_built_for_its_offset(store: Store) -> None:
    add(store)
    offset, built = store.append_next(frame, T0 + HOUR, message(0))
    assert (offset, built) == (2, frame(2))
    assert store.frames_after(1, 5) == [(2, frame(2))]
    assert store.recent(5) == [LoggedMessage("m0", T0, "Ana", "text 0", False, 2)]


def test_a_frame_counts_in_each_pace_window_that_has_room(store: Store) -> None:
    store.add("c1", T0)
    windows = (PaceWindow(7, 2, T0 + 1000), PaceWindow(3, 3, T0 + HOUR))
    assert store.count_frame("c1", windows, T0) is None
    assert store.count_frame("c1", windows, T0) is None
    assert store.count_frame("c1", windows, T0) == 0
    # the refused frame still counted in the minute's window, which is now full
    assert store.count_frame("c1", windows, T0) == 0
    next_burst = (PaceWindow(8, 2, T0 + 2000), windows[1])
    assert store.count_frame("c1", next_burst, T0) == 1


def test_pace_windows_are_each_connections_own_and_start_afresh(store: Store) -> None:
    store.add("c1", T0)
    store.add("c2", T0)
    windows = (PaceWindow(7, 1, T0 + 1000), PaceWindow(3, 5, T0 + HOUR))
    assert store.count_frame("c1", windows, T0) is None
    assert store.count_frame("c1", windows, T0) == 0
    assert store.count_frame("c2", windows, T0) is None
    later = (PaceWindow(8, 1, T0 + 2000), PaceWindow(4, 5, T0 + 2 * HOUR))
    assert store.count_frame("c1", later, T0 + 1000) is None
    assert store.count_frame("gone", windows, T0) is None


def test_pace_windows_are_atomic_under_concurrency(containers: Callable[[], Store]) -> None:
    """Frames of one connection counted at once, each thread through a store of
    its own (as containers have): exactly each window's limit gets through. A
    count read and then written back would let more through."""
    threads, frames = 8, 5
    burst_full = (PaceWindow(7, 10, T0 + 1000), PaceWindow(3, 50, T0 + HOUR))
    minute_full = (PaceWindow(8, 100, T0 + 2000), burst_full[1])
    stores = [containers() for _ in range(threads)]
    stores[0].add("c1", T0)

    def at_once(windows: tuple[PaceWindow, PaceWindow]) -> list[int | None]:
        start = threading.Barrier(threads)

        def send(store: Store) -> list[int | None]:
            start.wait()
            return [store.count_frame("c1", windows, T0) for _ in range(frames)]

        with ThreadPoolExecutor(threads) as pool:
            return [refused for sent in pool.map(send, stores) for refused in sent]

    # 40 frames in a burst window of 10: 10 get through, all 40 count in the minute.
    first = at_once(burst_full)
    assert (first.count(None), first.count(0)) == (10, 30)
    # 40 more in the next burst window: the minute has room for 10 of them.
    second = at_once(minute_full)
    assert (second.count(None), second.count(1)) == (10, 30)
