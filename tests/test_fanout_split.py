"""A big fan-out split across asynchronous invocations of the function.

The function's own invocations are simulated here as Lambda runs them: each
`Event` invocation is a thread calling the handler with the event it was
sent; the last test has `papo serve` answer the real Invoke call.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
from botocore.credentials import Credentials

from papo.aws import handler as aws_handler
from papo.aws import wiring
from papo.aws.fanout import SHARE_KEY, ShareEvent, SplitDelivery, shares
from papo.core.chat import Chat
from papo.core.ports import Envelope
from papo.local.server import Emulator
from papo.settings import Settings
from tests import events
from tests.bot_room import bot_room, people
from tests.fake_openai import FakeOpenAi
from tests.management_api import ManagementApi

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:papo-chat"


@dataclass
class Context:
    aws_request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    invoked_function_arn: str = FUNCTION


class Lambda:
    """Asynchronous invocations of the function: a thread each, running the handler."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.failures: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    def invoke(self, payload: bytes) -> None:
        event = json.loads(payload)
        self.events.append(event)
        thread = threading.Thread(target=self._run, args=(event,))
        self._threads.append(thread)
        thread.start()

    def _run(self, event: dict[str, Any]) -> None:
        try:
            aws_handler.handler(event, Context())
        except BaseException as error:  # noqa: BLE001 - Lambda would record it: the test looks
            self.failures.append(error)

    def wait(self) -> None:
        for thread in self._threads:
            thread.join(timeout=60)
        assert not self.failures


@pytest.fixture
def api(aws_env: None) -> Iterator[ManagementApi]:
    with ManagementApi(Credentials("AKIDPAPOTEST", "papo-test-secret", "papo-test-token")) as api:
        yield api
        assert api.bad_signatures == 0


@pytest.fixture
def function(api: ManagementApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lambda:
    """papo's function, splitting past 100 recipients, invoking itself in threads:
    the shares and their order as past 1,000 (the setting's default), at a
    tenth of the posts."""
    monkeypatch.setenv("PAPO_STORE", "sqlite")
    monkeypatch.setenv("PAPO_SQLITE_PATH", str(tmp_path / "papo.sqlite3"))
    monkeypatch.setenv("PAPO_MANAGEMENT_ENDPOINT", api.url)
    monkeypatch.setenv("PAPO_FANOUT_SPLIT", "100")
    monkeypatch.setenv("PAPO_FANOUT_WORKERS", "32")
    invocations = Lambda()
    monkeypatch.setattr(wiring, "self_invoker", lambda _: invocations.invoke)
    return invocations


def chat() -> Chat:
    """The chat of a route's invocation, as the handler builds it."""
    settings = Settings.from_env()
    return aws_handler._chat(settings, wiring.endpoint_url(settings, "", ""), Context())


def join(api: ManagementApi, name: str) -> str:
    cid = events.connection_id()
    aws_handler.handler(events.connect(cid), None)
    api.connect(cid)
    body = json.dumps({"action": "setName", "name": name})
    aws_handler.handler(events.message(cid, "setName", body), None)
    return cid


def numbered(*cids: str, frames: int = 2) -> list[Envelope]:
    return [Envelope(cid, tuple(b'{"n": %d}' % n for n in range(1, frames + 1))) for cid in cids]


def numbers(api: ManagementApi, cid: str) -> list[object]:
    return [frame["n"] for frame in api.frames(cid) if "n" in frame]


def test_a_thousand_recipients_in_ten_shares_each_get_every_frame_once_and_in_order(
    api: ManagementApi, function: Lambda
) -> None:
    ana, bruno, carla = (join(api, name) for name in ("Ana", "Bruno", "Carla"))
    ids = [f"C{i:04d}=" for i in range(1_000)]
    ids[10], ids[20], ids[600] = ana, bruno, carla
    api.connect(*ids)
    api.clear()
    throttled = {ids[17]: [429], ids[250]: [503, 500], ids[501]: [502], ids[888]: [429, 429]}
    gone = {ids[777], carla, ids[40]}  # scripted 410s, a member among them
    api.scripted.update({cid: list(statuses) for cid, statuses in throttled.items()})
    api.scripted.update({cid: [410] for cid in gone})
    never_connected = ids[999]
    api.open.discard(never_connected)

    found_here = chat().send(numbered(*ids))
    function.wait()

    assert len(function.events) == 9  # ten shares of 100: one posted here
    assert found_here == {ids[40]}  # in this invocation's own share
    for cid in ids:
        expected = [] if cid in gone or cid == never_connected else [1, 2]
        assert numbers(api, cid) == expected, cid
    store = wiring.store(Settings.from_env())
    assert store.get(carla) is None  # found gone in another invocation, and handled there
    for member in (ana, bruno):
        said = [f.get("systemMessage") for f in api.frames(member)]
        assert said.count("Carla left the chat") == 1


def test_messages_one_after_another_each_reach_everyone_once_in_offset_order(
    api: ManagementApi, function: Lambda
) -> None:
    """Three split fan-outs in a row, as three public messages: whichever
    invocation posted each share, every connection has each frame once, and
    its frames ordered by offset are the room's order (arrival may differ: a
    share handed over can land after the next message's own share)."""
    ids = [f"C{i}=" for i in range(250)]
    api.connect(*ids)
    sends = [[Envelope(cid, (b'{"offset": %d}' % n,)) for cid in ids] for n in (1, 2, 3)]
    for envelopes in sends:
        assert chat().send(envelopes) == set()
    function.wait()
    assert len(function.events) == 6  # two shares handed over a message
    for cid in ids:
        offsets = [str(frame["offset"]) for frame in api.frames(cid) if "offset" in frame]
        assert sorted(offsets) == ["1", "2", "3"], cid


def test_a_share_sent_twice_is_posted_once(api: ManagementApi, function: Lambda) -> None:
    ids = [f"C{i}=" for i in range(150)]
    api.connect(*ids)
    chat().send(numbered(*ids, frames=1))
    function.wait()
    (event,) = function.events
    aws_handler.handler(event, Context())  # Lambda may deliver an event more than once
    for cid in ids:
        assert numbers(api, cid) == [1]


def test_a_share_that_could_not_be_handed_over_is_posted_here(
    api: ManagementApi, function: Lambda, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(_: bytes) -> None:
        raise RuntimeError("Invoke answered 429")

    monkeypatch.setattr(wiring, "self_invoker", lambda _: unavailable)
    ids = [f"C{i}=" for i in range(250)]
    api.connect(*ids)
    assert chat().send(numbered(*ids)) == set()
    for cid in ids:
        assert numbers(api, cid) == [1, 2]


def test_a_share_lambda_took_though_invoke_failed_is_posted_once(
    api: ManagementApi, function: Lambda, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Invoke call can fail after Lambda queued the event (its answer timed
    out): both invocations then hold the share, and the first to claim it posts it."""

    def taken_then_timed_out(payload: bytes) -> None:
        function.invoke(payload)
        raise TimeoutError("Read timeout on endpoint URL")

    monkeypatch.setattr(wiring, "self_invoker", lambda _: taken_then_timed_out)
    ids = [f"C{i}=" for i in range(250)]
    api.connect(*ids)
    assert chat().send(numbered(*ids)) == set()
    function.wait()
    assert len(function.events) == 2
    for cid in ids:
        assert numbers(api, cid) == [1, 2]


def test_a_share_too_big_for_an_event_is_posted_here(api: ManagementApi) -> None:
    """Lambda takes at most 256 KB an asynchronous event: a share of distinct,
    long frames stays here, posted without a claim (nobody else can have it)."""
    invoked: list[bytes] = []
    claimed: list[str] = []

    def claim(share_id: str) -> bool:
        claimed.append(share_id)
        return True

    here = wiring.delivery(Settings(management_endpoint=api.url), api.url)
    split = SplitDelivery(here, split=100, endpoint=api.url, invoke=invoked.append, claim=claim)
    ids = [f"C{i}=" for i in range(300)]
    api.connect(*ids)
    long = [Envelope(cid, (json.dumps({"n": 1, "text": cid * 400}).encode(),)) for cid in ids]
    assert split.send(long) == set()
    assert invoked == []
    assert claimed == []
    for cid in ids:
        assert numbers(api, cid) == [1]


def test_shares_are_even_and_keep_each_envelope_whole() -> None:
    envelopes = numbered(*(f"C{i}=" for i in range(10)))
    cut = shares(envelopes, 3)
    assert [len(share) for share in cut] == [3, 3, 2, 2]
    assert [e for share in cut for e in share] == envelopes
    assert shares(envelopes, 10) == [envelopes]


def test_a_share_event_carries_each_distinct_frame_once() -> None:
    envelopes = [Envelope("A=", (b"x", b"y")), Envelope("B=", (b"y",)), Envelope("C=", (b"x",))]
    event = ShareEvent.of("s1", "https://h/dev", envelopes)
    assert event.frames == [b"x", b"y"]
    payload = json.loads(msgspec.json.encode({SHARE_KEY: event}))
    assert ShareEvent.parse(payload[SHARE_KEY]).envelopes == envelopes


def test_papo_serve_answers_the_invocations_of_a_split(
    tmp_path: Path, fake: FakeOpenAi, caplog: pytest.LogCaptureFixture
) -> None:
    """Under `papo serve`, the handler hands shares to Lambda's Invoke API, which
    the emulator serves: a message to five people, split two by two."""
    names = ("Ana", "Bruno", "Carla", "Davi", "Eva")

    async def scenario(api: Emulator) -> None:
        async with people(api, *names) as room:
            await room[0].say("sendPublic", message="hi all")
            for person in room:
                heard = await person.until(lambda f: f.get("type") == "public")
                assert heard[-1]["publicMessage"] == "Ana: hi all"
            for _ in range(200):  # a share logs its end after its last post
                if len(shares_posted()) >= 2:
                    break
                await asyncio.sleep(0.05)

    def shares_posted() -> list[Any]:
        return [
            r
            for r in caplog.records
            if r.msg == "route done" and getattr(r, "route", "") == SHARE_KEY
        ]

    with bot_room(tmp_path, fake, PAPO_FANOUT_SPLIT="2") as api:
        asyncio.run(scenario(api))
    assert len(shares_posted()) >= 2
