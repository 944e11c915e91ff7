"""Hostile input changes nothing: generated frames thrown at the chat core (a
real SQLite store) and at papo's handler under the emulator (real WebSockets).

Every frame ends in its effect or in an error frame to its sender alone; no
handler exception; the room's invariants hold afterwards: names unique by
their skeleton, every named connection in the members list. The number of
examples is bounded, and CI runs them derandomized (a fixed seed).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from websockets.asyncio.client import connect

from papo.adapters.store.sqlite import SqliteStore
from papo.aws.handler import ROUTE_KEYS
from papo.core.chat import ACTIONS, Chat
from papo.core.ports import Store
from papo.core.rules import RateRules, Rules, name_key
from papo.local.config import PAPO_HANDLER
from papo.local.server import Emulator
from tests.emulation import emulator
from tests.recording import RecordingDelivery
from tests.served import UNPACED

ACTION_NAMES = [*ACTIONS, "sendpublic", "", "$default", "dance"]
FIELDS = ["name", "message", "to", "resume", "offset", "privateOffset", "language", "token"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
frames_as_objects = st.fixed_dictionaries(
    {"action": st.sampled_from(ACTION_NAMES) | json_values},
    optional={field: json_values for field in FIELDS},
)
names = st.text(min_size=0, max_size=40)
bodies = st.one_of(
    frames_as_objects.map(json.dumps),
    st.builds(lambda n: json.dumps({"action": "setName", "name": n}), names),
    st.builds(lambda m: json.dumps({"action": "sendPublic", "message": m}), st.text(max_size=50)),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=200),
    st.integers(1, 5000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(1, 5000).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
    st.just(b"\xff\xfe\xfd"),
    st.just('{"action": "sendPublic", "message": "' + "x" * 5000 + '"}'),
)


@pytest.fixture(scope="module")
def served_papo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    environment = {
        "PAPO_STORE": "sqlite",
        "PAPO_SQLITE_PATH": str(tmp_path_factory.mktemp("papo") / "papo.sqlite3"),
        "PAPO_MANAGEMENT_ENDPOINT": "",
        **UNPACED,
    }
    with emulator(PAPO_HANDLER, ROUTE_KEYS, environment=environment, tls_port=0) as api:
        yield api


OBSERVERS = itertools.count()


async def heard_besides_departures(ws: Any, seconds: float) -> str | None:
    """A frame the observer got within `seconds`, leaving out the members list
    and the departures that earlier examples' connections cause as they close."""
    while True:
        try:
            raw = await asyncio.wait_for(ws.recv(), seconds)
        except TimeoutError:
            return None
        frame = json.loads(raw)
        if "members" in frame or frame.get("event") == "left":
            continue
        return str(raw)


def invariants(store: Store) -> None:
    members = store.members()
    keys = [name_key(m.name) for m in members]
    assert len(keys) == len(set(keys)), [m.name for m in members]
    for member in members:
        connection = store.get(member.connection_id)
        if connection is None:
            # It left between the two reads (an earlier example's connection closing).
            assert member.connection_id not in {m.connection_id for m in store.members()}
            continue
        assert connection.name == member.name


EXAMPLES = itertools.count()


CORE_EXAMPLES = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DYNAMODB_EXAMPLES = 25
"""DynamoDB's share: each example costs dozens of calls through moto, and what the
store adds (keeping and giving back what the frames carry) shows in fewer; the
hundred frames of every kind run on SQLite."""
FRAMES = st.lists(st.tuples(st.sampled_from("ABC"), bodies), max_size=8)


@pytest.mark.parametrize("store_kind", ["sqlite"])
@CORE_EXAMPLES
@given(frames=FRAMES)
def test_the_core_takes_any_frame(
    containers: Callable[[], Store], frames: list[tuple[str, Any]]
) -> None:
    """On both stores (this test and the next), each example in a room of its own:
    a frame's sender hears back, an error frame alone or the frame's effect, and a
    refused frame reaches nobody else."""
    takes_any_frame(containers, frames)


@pytest.mark.timeout(300)  # moto, on a machine loaded by other suites
@pytest.mark.parametrize("store_kind", ["dynamodb"])
@settings(CORE_EXAMPLES, max_examples=DYNAMODB_EXAMPLES)
@given(frames=FRAMES)
def test_the_core_takes_any_frame_on_dynamodb(
    containers: Callable[[], Store], frames: list[tuple[str, Any]]
) -> None:
    takes_any_frame(containers, frames)


def takes_any_frame(containers: Callable[[], Store], frames: list[tuple[str, Any]]) -> None:
    example = next(EXAMPLES)
    room = f"hostile-{example}"
    delivery = RecordingDelivery()
    ids = itertools.count()
    store = containers()
    chat = Chat(
        store=store,
        delivery=delivery,
        rules=Rules(rate=RateRules(burst=1000, per_minute=1000)),
        new_id=lambda: f"id{next(ids)}",
    )
    people = {person: f"{example}{person}=" for person in "ABC"}
    for cid in people.values():
        chat.connect(cid, room=room)
    chat.act("setName", people["A"], json.dumps({"name": "Ana"}))
    chat.act("setName", people["B"], json.dumps({"name": "Bruno"}))
    delivery.everyone()
    for person, body in frames:
        sender = people[person]
        chat.act(None, sender, body)
        sent = delivery.everyone()
        own = sent.pop(sender, [])
        assert own, f"{body!r} got its sender nothing"
        if any("code" in frame for frame in own):
            assert len(own) == 1, own
            assert sent == {}, (body, sent)
        invariants(store.in_room(room))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(bodies, min_size=1, max_size=6))
def test_the_handler_under_the_emulator_takes_any_frame(
    served_papo: Emulator, batch: list[str | bytes]
) -> None:
    async def scenario() -> None:
        async with (
            connect(served_papo.websocket_url, max_size=None) as sender,
            connect(served_papo.websocket_url, max_size=None) as other,
        ):
            observer = f"Observer{next(OBSERVERS)}"  # the last example's may still be leaving
            await other.send(json.dumps({"action": "setName", "name": observer}))
            while json.loads(await asyncio.wait_for(other.recv(), 10)).get("event") != "joined":
                pass
            for body in batch:
                await sender.send(body)
                answer = json.loads(await asyncio.wait_for(sender.recv(), 10))
                assert "Internal server error" not in json.dumps(answer), (body, answer)
                if "code" in answer:
                    await sender.send(json.dumps({"action": "ping"}))
                    while json.loads(await asyncio.wait_for(sender.recv(), 10)) != {"type": "pong"}:
                        pass
                    extra = await heard_besides_departures(other, 0.05)
                    if extra is not None:
                        raise AssertionError(f"{body!r} reached someone else: {extra!r}")
                    continue
                # An effect: the frame was a valid action; drain what others got,
                # long enough that a late post is not taken for the next frame's.
                while True:
                    try:
                        await asyncio.wait_for(other.recv(), 0.5)
                    except TimeoutError:
                        break
                while True:
                    try:
                        await asyncio.wait_for(sender.recv(), 0.05)
                    except TimeoutError:
                        break

    asyncio.run(asyncio.wait_for(scenario(), 120))
    assert served_papo.environment is not None
    invariants(SqliteStore(served_papo.environment["PAPO_SQLITE_PATH"]))


@pytest.mark.parametrize(
    "fields",
    [
        {"offset": 2**63},
        {"offset": 2**64 + 1},
        {"privateOffset": 10**40},
        {"offset": 2**53},
        {"offset": -(2**63) - 1},
    ],
)
def test_a_whole_number_past_the_bound_is_refused(
    containers: Callable[[], Store], fields: dict[str, int]
) -> None:
    """Every whole number a frame carries is bounded where it is read: past
    2**53 - 1 it is refused with what it must be, on both stores (SQLite could
    not even hold 2**63)."""
    delivery = RecordingDelivery()
    chat = Chat(store=containers(), delivery=delivery)
    chat.connect("A=")
    chat.act("setName", "A=", json.dumps({"name": "Ana"}))
    delivery.everyone()
    chat.act("sync", "A=", json.dumps({"action": "sync", **fields}))
    (refused,) = delivery.take("A=")
    assert refused["code"] == "invalid_field"
    (field,) = fields
    assert refused["error"] == (
        f'The "{field}" field of sync must be a whole number from 0 to 9007199254740991.'
    )
    chat.act("sync", "A=", json.dumps({"action": "sync", "offset": 2**53 - 1}))
    assert "code" not in delivery.take("A=")[0]
