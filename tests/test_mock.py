"""MOCK integrations, answered by the emulator itself as API Gateway answers them
(docs/promises.md: "MOCK integrations answer without invoking anything"), over
real WebSockets: the sample `tests/samples/mock_ping`, whose one function notes
each invocation, and papo's own heartbeat (`ping`)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.protocol import State

from papo.aws.handler import ROUTE_KEYS
from papo.local import mapping
from papo.local.app import ServeOptions
from papo.local.config import ApiConfig, Limits, MockTarget
from papo.local.server import Emulator
from papo.local.template import api_config
from tests.conftest import PapoServe

pytestmark = pytest.mark.usefixtures("no_pyenv_pythons")

SAMPLE = Path(__file__).parent / "samples" / "mock_ping"
TEMPLATE = SAMPLE / "template.yaml"
ID = r"[A-Za-z0-9+/]{15}="
PONG = '{"type": "pong"}'


@pytest.fixture
def invocations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the sample's function notes the route of each invocation."""
    path = tmp_path / "invocations.txt"
    monkeypatch.setenv("INVOCATIONS", str(path))
    return path


def invoked(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 20))


async def say(ws: ClientConnection, action: str) -> None:
    await ws.send(json.dumps({"action": action}))


async def answer(ws: ClientConnection) -> str:
    return str(await asyncio.wait_for(ws.recv(), 5))


async def silence(ws: ClientConnection) -> None:
    """Nothing arrives for a moment."""
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), 0.4)


def sample(limits: Limits) -> Emulator:
    return Emulator(api_config(TEMPLATE, limits=limits), port=0, tls_port=None)


# The template


def test_the_template_declares_mock_routes_with_their_answers() -> None:
    config = api_config(TEMPLATE)
    whoami = '{"connectionId": "$context.connectionId", "requestId": "${context.requestId}"}'
    assert set(config.routes) == {"echo"}
    assert config.mocks == {
        "$connect": MockTarget(status_code=200),
        "ping": MockTarget(status_code=200, response=PONG),
        "quiet": MockTarget(status_code=200, response='{"type": "unheard"}'),
        "whoami": MockTarget(status_code=201, response=whoami),  # /2\d\d/ over $default
    }
    assert config.route_responses == {"ping", "whoami", "echo"}
    assert dict(config.integrations()) == {
        "EchoFunction (app.handler)": ["echo"],
        "MOCK (accepts)": ["$connect"],
        f"MOCK (answers {PONG})": ["ping"],
        "MOCK (answers nothing)": ["quiet"],
        f"MOCK (answers {whoami})": ["whoami"],
    }


def test_a_mock_without_a_status_code_in_its_request_template(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        "  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {ProtocolType: WEBSOCKET}}\n"
        "  Mock: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Api,"
        " IntegrationType: MOCK, RequestTemplates: {$default: '{\"status\": 200}'}}}\n"
        "  R: {Type: AWS::ApiGatewayV2::Route,"
        " Properties: {ApiId: !Ref Api, RouteKey: r, Target: !Sub 'integrations/${Mock}'}}\n"
    )
    assert api_config(path).mocks == {"r": MockTarget(status_code=None)}


def test_a_response_template_gets_its_context_variables_and_the_rest_as_written() -> None:
    context = {"connectionId": "c1", "identity": {"sourceIp": "127.0.0.1", "userAgent": None}}
    template = (
        "$context.connectionId ${context.identity.sourceIp}. $!context.identity.userAgent"
        " $context.nope #set($x = 1) $input.body"
    )
    assert (
        mapping.render(template, context) == "c1 127.0.0.1.  $context.nope #set($x = 1) $input.body"
    )


# Over WebSockets: the sample through `papo serve --template`, as a user runs it


def test_mock_routes_answer_and_invoke_nothing(papo_serve: PapoServe, invocations: Path) -> None:
    _, url = papo_serve("--template", "template.yaml", cwd=SAMPLE)

    async def scenario() -> None:
        async with connect(url) as ws:  # $connect is MOCK: accepted, nothing invoked
            await say(ws, "ping")
            assert await answer(ws) == PONG
            await say(ws, "quiet")  # an integration response, but no route response
            await silence(ws)
            await say(ws, "whoami")
            first = json.loads(await answer(ws))
            await say(ws, "whoami")
            second = json.loads(await answer(ws))
            assert re.fullmatch(ID, first["connectionId"])
            assert first["connectionId"] == second["connectionId"]
            assert re.fullmatch(ID, first["requestId"])
            assert first["requestId"] != second["requestId"]
            assert invoked(invocations) == []
            await say(ws, "echo")  # the function's route, to show invocations are seen
            assert json.loads(await answer(ws)) == {"echo": '{"action": "echo"}'}
            assert invoked(invocations) == ["echo"]

    run(scenario())


def test_a_heartbeat_keeps_a_connection_open_past_the_idle_timeout(invocations: Path) -> None:
    """`ping` every 0.4 s (answered) or `quiet` (not answered: the message alone
    counts) keeps a connection open past three idle timeouts of 2 s; a silent
    one closes with 1001 after 2 s."""

    async def beat(ws: ClientConnection, action: str, seconds: float) -> int:
        answers = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await say(ws, action)
            if action == "ping":
                assert await answer(ws) == PONG
                answers += 1
            await asyncio.sleep(0.4)
        return answers

    async def silent(url: str) -> tuple[int, str, float]:
        async with connect(url) as ws:
            started = time.monotonic()
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code, closed.value.rcvd.reason, time.monotonic() - started

    async def scenario(url: str) -> None:
        async with connect(url) as pinging, connect(url) as quiet:
            pongs, _, (code, reason, after) = await asyncio.gather(
                beat(pinging, "ping", 6.5), beat(quiet, "quiet", 6.5), silent(url)
            )
            assert pinging.state is State.OPEN
            assert quiet.state is State.OPEN
            assert pongs >= 8
        assert (code, reason) == (1001, "Going away")
        assert 1.9 <= after < 6.0

    with sample(Limits(idle_timeout_s=2.0)).running() as api:
        run(scenario(api.websocket_url))
    assert invoked(invocations) == []


# MOCK $connect and configuration errors, without a template


def mocks_only(mocks: dict[str, MockTarget]) -> Emulator:
    config = ApiConfig(routes={}, mocks=mocks, route_responses=frozenset(mocks))
    return Emulator(config, port=0, tls_port=None)


@pytest.mark.parametrize(("status", "refused"), [(403, 403), (None, 500)])
def test_a_mock_connect_refuses_with_its_status(status: int | None, refused: int) -> None:
    """A non-2xx status refuses the handshake with it; no integer statusCode in the
    request template is API Gateway's configuration error, a 500 handshake."""

    async def scenario(url: str) -> int:
        with pytest.raises(InvalidStatus) as refusal:
            async with connect(url):
                pass
        return refusal.value.response.status_code

    with mocks_only({"$connect": MockTarget(status_code=status)}).running() as api:
        assert run(scenario(api.websocket_url)) == refused


def test_a_mock_message_route_without_a_status_code_is_an_internal_server_error() -> None:
    async def scenario(url: str) -> str:
        async with connect(url) as ws:
            await say(ws, "broken")
            return await answer(ws)

    with mocks_only({"broken": MockTarget(status_code=None, response=PONG)}).running() as api:
        frame = run(scenario(api.websocket_url))
    assert re.fullmatch(
        r'\{"message": "Internal server error", "connectionId":"'
        + ID
        + '", "requestId":"'
        + ID
        + r'"\}',
        frame,
    )


# papo's own API under papo serve


@pytest.fixture
def papos_own(tmp_path: Path, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """papo's handler with its routes, as `papo serve` serves it."""
    monkeypatch.delenv("PAPO_MANAGEMENT_ENDPOINT", raising=False)
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    options = ServeOptions(
        port=0,
        tls_port=0,
        web_port=None,
        routes=ROUTE_KEYS,
        environment={"PAPO_STORE": "sqlite", "PAPO_SQLITE_PATH": str(tmp_path / "papo.sqlite3")},
    )
    assert options.papos_own
    with options.emulator().running() as running:
        yield running


def test_papos_heartbeat_is_answered_without_an_invocation(
    papos_own: Emulator, capfd: pytest.CaptureFixture[str]
) -> None:
    async def scenario() -> list[str]:
        async with connect(papos_own.websocket_url) as ws:
            answers = []
            for _ in range(3):
                await say(ws, "ping")
                answers.append(await answer(ws))
            return answers

    assert run(scenario()) == [PONG] * 3
    err = ""
    deadline = time.monotonic() + 10
    while err.count("END RequestId") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # the $disconnect, which papo's handler has, after the close
        err += capfd.readouterr().err
    time.sleep(0.2)
    err += capfd.readouterr().err
    started = re.findall(r"^START RequestId: (\S+)", err, re.MULTILINE)
    assert len(started) == 2  # $connect and $disconnect; no ping
