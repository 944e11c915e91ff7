"""A Chalice WebSocket app (tests/samples/chalice_echo), written as Chalice's
documentation writes one, under `papo serve` unmodified: Chalice posts to
`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`, not to the
event's `domainName`."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import PapoServe

pytestmark = pytest.mark.usefixtures("no_pyenv_pythons")

SAMPLE = Path(__file__).parent / "samples" / "chalice_echo"
ID = r"[A-Za-z0-9+/]{15}="


def printed(log: Path, pattern: str, count: int) -> list[str]:
    """The connection ids the app printed in `pattern`, once it has printed `count`."""
    deadline = time.monotonic() + 10
    while len(found := re.findall(pattern, log.read_text())) < count:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    return found


async def recv(ws: ClientConnection) -> str:
    return str(await asyncio.wait_for(ws.recv(), 15))


async def converse(url: str, log: Path) -> None:
    """Echo, a message to another connection, and one to a connection that has gone."""
    async with connect(url) as a:
        (a_id,) = printed(log, f"New connection: ({ID})", 1)
        async with connect(url) as b:
            b_id = printed(log, f"New connection: ({ID})", 2)[1]
            await a.send("hello, Chalice")
            assert await recv(a) == "hello, Chalice"
            await a.send(json.dumps({"to": b_id, "message": "psst"}))
            assert await recv(b) == "psst"
        assert printed(log, f"({ID}) disconnected", 1) == [b_id]
        await a.send(json.dumps({"to": b_id, "message": "still there?"}))
        assert json.loads(await recv(a)) == {"gone": b_id}  # WebsocketDisconnectedError
    assert printed(log, f"({ID}) disconnected", 2) == [b_id, a_id]


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_chalice_app_from_its_template(
    papo_serve: PapoServe, tmp_path: Path, workers: str
) -> None:
    _, url = papo_serve("--template", "template.yaml", "--workers", workers, cwd=SAMPLE)
    asyncio.run(converse(url, tmp_path / "papo-serve.log"))


def test_a_chalice_handler_with_handler(papo_serve: PapoServe) -> None:
    _, url = papo_serve("--handler", "app:message", cwd=SAMPLE)

    async def scenario() -> None:
        async with connect(url) as ws:
            await ws.send("hello, Chalice")
            assert await recv(ws) == "hello, Chalice"
            await ws.send(json.dumps({"to": "VNRUSeldSwMCIRQ=", "message": "anyone?"}))
            assert json.loads(await recv(ws)) == {"gone": "VNRUSeldSwMCIRQ="}

    asyncio.run(scenario())


def test_a_developers_https_proxy_does_not_take_the_apis_aws_address(
    papo_serve: PapoServe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a proxy (`HTTPS_PROXY`, nothing listening here), Chalice's posts to
    `https://{apiId}.execute-api…` still reach papo serve."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # as set beside a proxy
    monkeypatch.delenv("no_proxy", raising=False)
    _, url = papo_serve("--template", "template.yaml", cwd=SAMPLE)
    asyncio.run(converse(url, tmp_path / "papo-serve.log"))
