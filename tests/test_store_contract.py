"""One contract, two stores: SQLite and DynamoDB (moto's server mode)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import msgspec.structs
import pytest

from papo.adapters.store.bounded_cache import BoundedCache
from papo.core.ports import (
    Claim,
    ClaimStatus,
    ConnectionStore,
    KeptLine,
    LineChange,
    LoggedMessage,
    Member,
    Reaction,
    Store,
)
from papo.core.refusals import ErrorCode, Refusal

T0 = time.time_ns() // 1_000_000


def test_new_connection_has_no_name(store: ConnectionStore) -> None:
    store.add("A=", T0)
    connection = store.get("A=")
    assert connection is not None
    assert connection.connection_id == "A="
    assert connection.name is None
    assert store.members() == []


def test_unknown_connection(store: ConnectionStore) -> None:
    assert store.get("nobody") is None
    assert store.remove("nobody") is None
    assert store.claim_name("nobody", "Ana", T0).status is ClaimStatus.NO_CONNECTION


def test_claim_and_find_ignoring_case(store: ConnectionStore) -> None:
    store.add("A=", T0)
    claim = store.claim_name("A=", "Ana", T0 + 1)
    assert claim.status is ClaimStatus.CLAIMED
    assert claim.previous is None
    assert store.find("ANA") == Member("A=", "Ana")
    assert store.members() == [Member("A=", "Ana")]


def test_name_unique_ignoring_case(store: ConnectionStore) -> None:
    store.add("A=", T0)
    store.add("B=", T0)
    store.claim_name("A=", "Ana", T0)
    claim = store.claim_name("B=", "aNA", T0)
    assert claim.status is ClaimStatus.TAKEN
    assert store.get("B=") is not None
    assert store.get("B=").name is None  # type: ignore[union-attr]


def test_rename_frees_the_old_name(store: ConnectionStore) -> None:
    store.add("A=", T0)
    store.add("B=", T0)
    store.claim_name("A=", "Ana", T0)
    claim = store.claim_name("A=", "Bia", T0 + 5)
    assert claim == Claim(ClaimStatus.CLAIMED, "Ana")
    assert store.find("Ana") is None
    assert store.claim_name("B=", "Ana", T0 + 6).status is ClaimStatus.CLAIMED
    assert store.members() == [Member("A=", "Bia"), Member("B=", "Ana")]


def test_changing_only_the_case_of_ones_own_name(store: ConnectionStore) -> None:
    store.add("A=", T0)
    store.claim_name("A=", "ana", T0)
    claim = store.claim_name("A=", "Ana", T0 + 1)
    assert (claim.status, claim.previous) == (ClaimStatus.CLAIMED, "ana")
    assert store.find("ANA") == Member("A=", "Ana")


def test_members_in_join_order(store: ConnectionStore) -> None:
    for i, name in enumerate(["Zoe", "Ana", "Mia"]):
        store.add(f"C{i}=", T0)
        store.claim_name(f"C{i}=", name, T0 + i)
    store.add("unnamed=", T0)
    assert [m.name for m in store.members()] == ["Zoe", "Ana", "Mia"]


def test_remove_returns_the_connection_once_and_frees_the_name(store: ConnectionStore) -> None:
    store.add("A=", T0)
    store.claim_name("A=", "Ana", T0)
    removed = store.remove("A=")
    assert removed is not None
    assert removed.name == "Ana"
    assert store.remove("A=") is None
    assert store.find("Ana") is None
    assert store.members() == []
    store.add("B=", T0)
    assert store.claim_name("B=", "Ana", T0).status is ClaimStatus.CLAIMED


def test_concurrent_removals_return_it_to_one_caller(store: ConnectionStore) -> None:
    store.add("A=", T0)
    store.claim_name("A=", "Ana", T0)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: store.remove("A="), range(8)))
    assert sum(r is not None for r in results) == 1


def test_concurrent_claims_of_one_name_give_it_to_one(store: ConnectionStore) -> None:
    ids = [f"C{i}=" for i in range(8)]
    for cid in ids:
        store.add(cid, T0)
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda cid: store.claim_name(cid, "Ana", T0), ids))
    assert [c.status for c in claims].count(ClaimStatus.CLAIMED) == 1
    assert len(store.members()) == 1


def test_a_name_claimed_after_its_holder_left_is_free(store: ConnectionStore) -> None:
    store.add("A=", T0)
    store.claim_name("A=", "Ana", T0)
    store.add("B=", T0)
    store.remove("A=")
    assert store.claim_name("B=", "ana", T0).status is ClaimStatus.CLAIMED


def test_a_connection_of_a_session_can_be_away(store: ConnectionStore) -> None:
    store.add("A=", T0)
    store.add("B=", T0)
    store.claim_name("A=", "Ana", T0, session="s1")
    store.claim_name("B=", "Bruno", T0 + 1)
    assert not store.set_away("B=", T0 + 5)  # no session: it cannot be away, only gone
    assert store.set_away("A=", T0 + 5)
    assert not store.set_away("A=", T0 + 6)  # one caller wins
    assert store.members() == [
        Member("A=", "Ana", away=True, away_since=T0 + 5, session="s1"),
        Member("B=", "Bruno"),
    ]
    assert store.find("ana") == Member("A=", "Ana", True, T0 + 5, "s1")
    assert store.claim_name("B=", "Ana", T0 + 7).status is ClaimStatus.TAKEN


def test_a_session_takes_its_name_over_to_a_new_connection(store: ConnectionStore) -> None:
    store.add("A=", T0)
    store.claim_name("A=", "Ana", T0 + 1, session="s1")
    store.add("A2=", T0 + 10)
    assert store.take_over("A2=", "A=", "Ana", "s1", T0 + 11) == Claim(ClaimStatus.CLAIMED, "Ana")
    assert store.get("A=") is None
    assert store.members() == [Member("A2=", "Ana", session="s1")]
    assert store.get("A2=").joined_at == T0 + 1  # type: ignore[union-attr]
    assert store.find("ANA") == Member("A2=", "Ana", session="s1")
    assert store.remove("A=") is None  # the old connection's $disconnect finds nothing


def test_a_named_connection_taking_a_session_over_frees_its_own_name(
    store: ConnectionStore,
) -> None:
    store.add("A=", T0)
    store.claim_name("A=", "Ana", T0 + 1, session="s1")
    store.add("A2=", T0 + 10)
    store.claim_name("A2=", "Bia", T0 + 10)
    assert store.take_over("A2=", "A=", "Ana", "s1", T0 + 11).status is ClaimStatus.CLAIMED
    assert store.find("Bia") is None
    store.add("C=", T0 + 12)
    assert store.claim_name("C=", "Bia", T0 + 12).status is ClaimStatus.CLAIMED
    assert [(m.connection_id, m.name) for m in store.members()] == [("A2=", "Ana"), ("C=", "Bia")]


def test_a_take_over_of_a_name_someone_else_holds_fails(store: ConnectionStore) -> None:
    store.add("A=", T0)
    store.claim_name("A=", "Ana", T0, session="s1")
    store.remove("A=")
    store.add("B=", T0)
    store.claim_name("B=", "Ana", T0 + 1)
    store.add("A2=", T0 + 2)
    assert store.take_over("A2=", "A=", "Ana", "s1", T0 + 3).status is ClaimStatus.TAKEN
    assert store.members() == [Member("B=", "Ana")]
    assert store.get("A2=").name is None  # type: ignore[union-attr]


def test_a_take_over_after_the_old_connection_left_claims_the_free_name(
    store: ConnectionStore,
) -> None:
    store.add("A=", T0)
    store.claim_name("A=", "Ana", T0, session="s1")
    store.remove("A=")
    store.add("A2=", T0 + 2)
    assert store.take_over("A2=", "A=", "Ana", "s1", T0 + 3) == Claim(ClaimStatus.CLAIMED, None)
    assert store.members() == [Member("A2=", "Ana", session="s1")]


def test_what_a_store_caches_in_its_process_is_bounded() -> None:
    cache: BoundedCache[str, int] = BoundedCache(size=3)
    for n, key in enumerate("abc"):
        cache[key] = n
    cache["a"] = 9  # a key it holds: nothing forgotten
    assert cache == {"a": 9, "b": 1, "c": 2}
    cache["d"] = 3  # full: it starts again
    assert cache == {"d": 3}


# Lines that change: edits, deletes and reactions rewrite a kept line.


def _said(store: Store, text: str, msg_id: str = "m1") -> int:
    message = LoggedMessage(msg_id, T0, "Ana", text, author="session:s1")
    offset, _ = store.append_next(
        lambda at: f'{{"publicMessage":"Ana: {text}","offset":{at}}}'.encode(),
        T0 + 3_600_000,
        message,
    )
    return offset


def _edited(text: str, *, keeps_earlier: bool = True) -> Callable[[KeptLine], LineChange]:
    def change(line: KeptLine) -> LineChange:
        assert line.message is not None
        message = msgspec.structs.replace(line.message, text=text, edited_at=T0 + 1)
        frame = f'{{"publicMessage":"Ana: {text}","offset":{line.offset}}}'.encode()
        return LineChange(frame, message, keeps_earlier)

    return change


def test_a_changed_line_reads_as_changed_everywhere(store: Store) -> None:
    store.append_next(lambda at: b'{"systemMessage":"Ana joined"}', T0 + 3_600_000)
    offset = _said(store, "hi")
    changed = store.change_line(offset, _edited("hello"))
    assert changed is not None
    assert store.frames_after(offset - 1, 10) == [(offset, changed.frame)]
    assert store.frames_before(offset + 1, 1) == [(offset, changed.frame)]
    [message] = store.recent(10)
    assert (message.text, message.edited_at, message.author) == ("hello", T0 + 1, "session:s1")
    line = store.line(offset)
    assert line is not None
    assert line.frame == changed.frame
    assert line.message == message
    assert store.offset_of("m1") == offset


def test_the_versions_an_edit_replaced_are_kept_in_order(store: Store) -> None:
    offset = _said(store, "one")
    store.change_line(offset, _edited("two"))
    store.change_line(offset, _edited("three"))
    store.change_line(offset, _edited("three", keeps_earlier=False))
    assert [m.text for m in store.earlier_versions(offset)] == ["one", "two"]
    assert store.earlier_versions(offset + 1) == []


def test_reactions_and_a_deletion_are_kept_with_the_line(store: Store) -> None:
    offset = _said(store, "hi")
    reactions = (Reaction("👍", ("Ana", "Bea")), Reaction("🎉", ("Bea",)))

    def react(line: KeptLine) -> LineChange:
        assert line.message is not None
        return LineChange(line.frame, msgspec.structs.replace(line.message, reactions=reactions))

    store.change_line(offset, react)
    assert store.recent(1)[0].reactions == reactions

    def delete(line: KeptLine) -> LineChange:
        assert line.message is not None
        gone = msgspec.structs.replace(
            line.message, text="", deleted=True, edited_at=T0 + 2, reactions=()
        )
        return LineChange(b'{"deletedAt":1}', gone, keeps_earlier=True)

    store.change_line(offset, delete)
    [message] = store.recent(1)
    assert (message.text, message.deleted, message.reactions) == ("", True, ())
    assert [m.text for m in store.earlier_versions(offset)] == ["hi"]
    assert store.earlier_versions(offset)[0].reactions == reactions


def test_a_line_that_is_not_there_is_not_changed(store: Store) -> None:
    def never(line: KeptLine) -> LineChange:
        raise AssertionError(line)

    assert store.change_line(7, never) is None
    assert store.line(7) is None
    assert store.offset_of("nothing") is None


def test_a_system_line_has_no_message(store: Store) -> None:
    offset, frame = store.append_next(lambda at: b'{"systemMessage":"Ana joined"}', T0 + 86_400_000)
    assert store.line(offset) == KeptLine(offset, frame, None)


def test_a_change_that_raises_leaves_the_line_as_it_was(store: Store) -> None:
    offset = _said(store, "hi")

    def refuse(line: KeptLine) -> LineChange:
        raise Refusal(ErrorCode.NOT_YOUR_LINE)

    with pytest.raises(Refusal):
        store.change_line(offset, refuse)
    assert store.recent(1)[0].text == "hi"
    assert store.earlier_versions(offset) == []


def test_changes_at_once_from_many_containers_lose_none(
    containers: Callable[[], Store],
) -> None:
    first = containers()
    offset = _said(first, "hi")
    names = [f"P{i}" for i in range(8)]

    def react(name: str) -> None:
        def change(line: KeptLine) -> LineChange:
            assert line.message is not None
            kept = line.message.reactions
            by = (*kept[0].by, name) if kept else (name,)
            return LineChange(
                line.frame, msgspec.structs.replace(line.message, reactions=(Reaction("👍", by),))
            )

        containers().change_line(offset, change)

    with ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(react, names))
    [reaction] = first.recent(1)[0].reactions
    assert sorted(reaction.by) == names


def test_a_note_is_kept_in_its_room_until_it_expires(store: Store) -> None:
    room, other = store.in_room("notes"), store.in_room("other")
    assert room.note("stop:a1") is None
    room.put_note("stop:a1", b"Ana", T0 + 86_400_000)
    room.put_note("stop:a1", b"Bruno", T0 + 86_400_000)
    room.put_note("gone", b"x", T0 - 1)
    assert room.note("stop:a1") == b"Bruno"
    assert other.note("stop:a1") is None
    assert room.note("gone") is None
