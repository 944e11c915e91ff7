"""`papo serve --reload` keeps the sockets (docs/promises.md: "A reload keeps
the connections"): a function whose code changes runs its new code from its
next invocation on, in threads or in containers, while the connections that
are open stay open and keep their ids; the log says which functions were
reloaded."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import PapoServe

HANDLER = """import json

import greeting

SAYS = "the first version"


def handler(event, context):
    ctx = event["requestContext"]
    if ctx["routeKey"] != "$default":
        return {"statusCode": 200}
    said = {"says": SAYS, "greets": greeting.GREETING, "connectionId": ctx["connectionId"]}
    return {"statusCode": 200, "body": json.dumps(said)}
"""
GREETING = 'GREETING = "hello"\n'


def reloaded(log: Path, count: int) -> str:
    """The log once it has said `count` reloads (papo serve writes it as it reloads)."""
    deadline = time.monotonic() + 60
    while len(re.findall(r"^reload: .* changed: reloaded ", text := log.read_text(), re.M)) < count:
        assert time.monotonic() < deadline, text
        time.sleep(0.05)
    return text


async def ask(ws: ClientConnection) -> dict[str, str]:
    await ws.send("which version?")
    answer: dict[str, str] = json.loads(await asyncio.wait_for(ws.recv(), 30))
    return answer


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_changed_handler_runs_on_the_same_connection(
    papo_serve: PapoServe, tmp_path: Path, workers: str
) -> None:
    """In threads (a Timeout past the integration timeout keeps it there) and in
    two containers; the handler's own module and a module it imports change."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    (code / "greeting.py").write_text(GREETING)
    _, url = papo_serve(
        "--handler",
        "app:handler",
        "--route-response",
        "$default",
        "--timeout",
        "60",
        "--workers",
        workers,
        "--reload",
        cwd=code,
    )
    log = tmp_path / "papo-serve.log"
    assert "reload          on: a changed .py file reloads its functions" in log.read_text()

    async def scenario() -> None:
        async with connect(url) as ws:
            first = await ask(ws)
            assert (first["says"], first["greets"]) == ("the first version", "hello")
            (code / "app.py").write_text(HANDLER.replace("the first version", "the second one"))
            assert "app.py changed: reloaded app; connections stay open" in reloaded(log, 1)
            second = await ask(ws)
            assert (second["says"], second["greets"]) == ("the second one", "hello")
            (code / "greeting.py").write_text('GREETING = "hello again"\n')
            assert "greeting.py changed: reloaded app" in reloaded(log, 2)
            third = await ask(ws)
            assert (third["says"], third["greets"]) == ("the second one", "hello again")
            assert first["connectionId"] == second["connectionId"] == third["connectionId"]

    asyncio.run(scenario())
