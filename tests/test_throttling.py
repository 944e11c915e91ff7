"""Stage throttling (docs/promises.md: "Stage throttling") over real WebSockets,
from the template `tests/samples/throttled` (each route a burst of 3 and 1 a
second, `rare` a burst of 1) and from `papo serve`'s options.

API Gateway documents the 429 `Too Many Requests` for throttled requests; the
error frame a throttled WebSocket message gets, `{"message": "Too Many
Requests", "connectionId":…, "requestId":…}`, is inferred from it, in the shape
of API Gateway's other error frames ("Internal server error", say)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from papo.local.app import ServeOptions
from papo.local.config import Throttle, Throttling
from papo.local.server import Emulator
from papo.local.template import api_config
from papo.local.throttling import Throttles, TokenBucket

pytestmark = pytest.mark.usefixtures("no_pyenv_pythons")

SAMPLE = Path(__file__).parent / "samples" / "throttled"
TEMPLATE = SAMPLE / "template.yaml"
ID = r"[A-Za-z0-9+/]{15}="
TOO_MANY = re.compile(
    r'\{"message": "Too Many Requests", "connectionId":"' + ID + '", "requestId":"' + ID + r'"\}'
)


@pytest.fixture
def api() -> Iterator[Emulator]:
    with Emulator(api_config(TEMPLATE), port=0, tls_port=None).running() as running:
        yield running


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 20))


async def answers(ws: ClientConnection, count: int) -> list[str]:
    return [str(await asyncio.wait_for(ws.recv(), 5)) for _ in range(count)]


async def handshakes(url: str, count: int) -> list[int]:
    """Each handshake's status: 101 when it opened."""
    statuses = []
    for _ in range(count):
        try:
            async with connect(url):
                statuses.append(101)
        except InvalidStatus as refused:
            statuses.append(refused.response.status_code)
    return statuses


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# The buckets


def test_a_bucket_holds_its_burst_and_refills_at_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(Throttle(burst=3, rate=1), clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5
    assert not bucket.take()
    clock.now += 0.5
    assert bucket.take()
    assert not bucket.take()
    clock.now += 60
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_each_route_has_its_own_bucket_unset_limits_are_the_accounts() -> None:
    clock = Clock()
    throttles = Throttles(
        Throttling(stage=Throttle(burst=1, rate=1), routes={"rare": Throttle(burst=0)}), clock
    )
    assert throttles.allow("$connect")
    assert not throttles.allow("$connect")
    assert throttles.allow("$default")  # a bucket of its own
    assert not throttles.allow("rare")  # burst 0: nothing passes
    assert throttles.allow(None)  # no route: the account's limits, not counted
    assert Throttle(rate=2).limits == (5000, 2)
    assert Throttles(Throttling(), clock).allow("$default")


# The template


def test_the_template_gives_each_route_the_stages_limits_and_rare_its_own() -> None:
    assert api_config(TEMPLATE).throttling == Throttling(
        stage=Throttle(burst=3, rate=1), routes={"rare": Throttle(burst=1, rate=0.1)}
    )


def test_a_route_setting_takes_what_it_does_not_set_from_the_stage(tmp_path: Path) -> None:
    text = TEMPLATE.read_text().replace("ThrottlingRateLimit: 0.1", "DataTraceEnabled: false")
    (tmp_path / "template.yaml").write_text(text)
    (tmp_path / "app.py").write_text("")
    assert api_config(tmp_path / "template.yaml").throttling.routes == {
        "rare": Throttle(burst=1, rate=1)
    }


def test_the_options_throttle_the_stage_over_the_template() -> None:
    options = ServeOptions(template=TEMPLATE, throttle_burst=10)
    assert options.api_config().throttling == Throttling(
        stage=Throttle(burst=10, rate=1), routes={"rare": Throttle(burst=1, rate=0.1)}
    )
    alone = ServeOptions(handler="app:handler", throttle_rate=2.5).api_config().throttling
    assert alone == Throttling(stage=Throttle(rate=2.5))


# Over WebSockets


def test_a_handshake_over_the_limit_gets_429() -> None:
    # The template's burst, refilled slowly enough that four handshakes never earn a fifth.
    config = ServeOptions(template=TEMPLATE, throttle_rate=0.01).api_config()
    with Emulator(config, port=0, tls_port=None).running() as api:
        assert run(handshakes(api.websocket_url, 4)) == [101, 101, 101, 429]


def test_a_message_over_the_limit_is_not_routed_and_gets_too_many_requests(
    api: Emulator,
) -> None:
    async def scenario() -> None:
        async with connect(api.websocket_url) as ws:
            for n in range(4):
                await ws.send(f"message {n}")
            got = await answers(ws, 4)
            assert sorted(got)[:3] == ["$default"] * 3  # three routed, one refused
            assert TOO_MANY.fullmatch(sorted(got)[3])
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.3)  # and nothing more
            await asyncio.sleep(1.1)  # a token more
            await ws.send("again")
            assert await answers(ws, 1) == ["$default"]

    run(scenario())


def test_a_route_with_its_own_settings_has_its_own_bucket(api: Emulator) -> None:
    async def scenario() -> None:
        async with connect(api.websocket_url) as ws:
            await ws.send('{"action": "rare"}')
            assert await answers(ws, 1) == ["rare"]
            await ws.send('{"action": "rare"}')
            assert TOO_MANY.fullmatch((await answers(ws, 1))[0])
            await ws.send('{"action": "other"}')
            assert await answers(ws, 1) == ["$default"]

    run(scenario())


def test_papo_serves_options_throttle_a_handler() -> None:
    """`papo serve --handler … --throttle-burst 1 --throttle-rate 0.01`."""
    options = ServeOptions(
        handler="tests.samples.throttled.app:handler",
        routes=("$connect", "$default"),
        route_responses=frozenset({"$default"}),
        throttle_burst=1,
        throttle_rate=0.01,
        port=0,
        tls_port=None,
    )

    async def scenario(url: str) -> None:
        async with connect(url) as ws:
            await ws.send("one")
            assert await answers(ws, 1) == ["$default"]
            await ws.send("two")
            assert TOO_MANY.fullmatch((await answers(ws, 1))[0])
        assert await handshakes(url, 1) == [429]

    with options.emulator().running() as served:
        run(scenario(served.websocket_url))
