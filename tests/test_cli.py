"""`papo serve` as a user runs it: Ctrl-C, --reload, --help."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.conftest import ROOT, PapoServe, free_port, listens
from tests.emulation import probe_log


def test_ctrl_c_closes_every_connection_with_its_disconnect(
    papo_serve: PapoServe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROBE_LOG", str(tmp_path / "probe.jsonl"))
    process, url = papo_serve(
        "--handler",
        "tests.lambdas.probe:handler",
        "--route",
        "$connect",
        "--route",
        "$disconnect",
        "--route",
        "$default",
    )

    async def scenario() -> int:
        async with connect(url) as a, connect(url):
            await a.send("hi")
            await a.recv()
            process.send_signal(signal.SIGINT)
            await asyncio.wait_for(a.wait_closed(), 20)
            assert a.close_code is not None
            return a.close_code

    code = asyncio.run(scenario())
    assert code in (1001, 1012)
    assert process.wait(timeout=30) == 0
    routes = [e["event"]["requestContext"]["routeKey"] for e in probe_log(tmp_path / "probe.jsonl")]
    assert sorted(routes) == ["$connect", "$connect", "$disconnect", "$disconnect"]


def test_reload_serves_the_changed_code(
    papo_serve: PapoServe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also: a plain boto3 handler needs no region or credentials of the developer's,
    and reaches the Management API over https, as on AWS, in the reloaded server too."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    app = tmp_path / "reloadable.py"
    handler = """
import boto3

def handler(event, context):
    ctx = event["requestContext"]
    if ctx["routeKey"] == "$default":
        client = boto3.client("apigatewaymanagementapi",
            endpoint_url=f"https://{ctx['domainName']}/{ctx['stage']}")
        client.post_to_connection(ConnectionId=ctx["connectionId"], Data=b"VERSION")
    return {"statusCode": 200}
"""
    app.write_text(handler.replace("VERSION", "one"))
    _, url = papo_serve("--handler", "reloadable:handler", "--reload", cwd=tmp_path)

    async def answer() -> str:
        async with connect(url) as ws:
            await ws.send("which?")
            return str(await asyncio.wait_for(ws.recv(), 10))

    assert asyncio.run(answer()) == "one"
    app.write_text(handler.replace("VERSION", "two"))
    deadline = time.monotonic() + 30
    seen = "one"
    while seen != "two" and time.monotonic() < deadline:
        time.sleep(0.5)
        try:
            seen = asyncio.run(answer())
        except OSError:
            continue  # the server is restarting
    assert seen == "two"


def test_help_names_every_option() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "papo", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    for option in (
        "--host",
        "--port",
        "--stage",
        "--handler",
        "--route",
        "--template",
        "--integration-timeout",
        "--idle-timeout",
        "--max-connection-duration",
        "--workers",
        "--reload",
        "--tls-port",
        "--store",
        "--route-response",
    ):
        assert option in shown
    assert "PAPO_INTEGRATION_TIMEOUT" in shown


def test_the_bot_takes_its_key_from_a_dot_env_file(papo_serve: PapoServe, tmp_path: Path) -> None:
    """A developer puts the key in `.env` and runs `papo serve`: the bot answers,
    and the banner names the model, never the key."""
    from tests.bot_room import KEY
    from tests.fake_openai import FakeOpenAi

    folder = tmp_path / "project"
    folder.mkdir()
    with FakeOpenAi().running() as fake:
        (folder / ".env").write_text(
            f"OPENAI_API_KEY={KEY}\nPAPO_BOT_BASE_URL={fake.url}\nPAPO_BOT_MODEL=local-model\n"
        )
        _, url = papo_serve(cwd=folder)

        async def scenario() -> str:
            async with connect(url) as ws:
                await ws.send('{"action": "setName", "name": "Ana"}')
                while json.loads(await asyncio.wait_for(ws.recv(), 20)).get("event") != "joined":
                    pass
                await ws.send('{"action": "sendBot", "message": "Hi?"}')
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
                    if frame.get("from") == "Bot" and frame.get("type") == "public":
                        return str(frame["publicMessage"])

        assert asyncio.run(scenario()) == "Bot: Hello from the bot."
        assert fake.requests[0].headers["authorization"] == f"Bearer {KEY}"
    banner = (tmp_path / "papo-serve.log").read_text()
    assert "local-model at http://127.0.0.1" in banner
    assert KEY not in banner


def test_papo_serve_serves_the_web_client_pointed_at_its_api(
    papo_serve: PapoServe, tmp_path: Path
) -> None:
    from urllib.request import urlopen

    from papo.local.web import WEB_DIST

    if not (WEB_DIST / "index.html").is_file():
        pytest.skip("the web client is not built (make web)")
    web_port = free_port()
    process, url = papo_serve("--web-port", str(web_port))
    assert listens(process, web_port)  # the page's server may start after the API's
    with urlopen(f"http://127.0.0.1:{web_port}/config.json") as response:
        assert json.load(response) == {"websocketUrl": url}
    with urlopen(f"http://127.0.0.1:{web_port}/") as response:
        assert b'<div id="root">' in response.read()
    assert (
        f"web client      http://127.0.0.1:{web_port}/" in (tmp_path / "papo-serve.log").read_text()
    )


@pytest.mark.parametrize("workers", ["0", "2"])
def test_handlers_get_lambdas_environment_and_dot_env_not_papos_options(
    papo_serve: PapoServe, tmp_path: Path, workers: str
) -> None:
    (tmp_path / ".env").write_text("SAMPLE_SETTING=from .env\nPAPO_IDLE_TIMEOUT=60\n")
    _, url = papo_serve(
        "--handler",
        "tests.lambdas.environment:handler",
        "--max-connection-duration",
        "100",
        "--workers",
        workers,
        cwd=tmp_path,
    )

    async def seen() -> dict[str, str]:
        async with connect(url) as ws:
            await ws.send("what do you see?")
            return dict(json.loads(await asyncio.wait_for(ws.recv(), 30)))

    environment = asyncio.run(seen())
    assert environment["SAMPLE_SETTING"] == "from .env"
    assert environment["AWS_ENDPOINT_URL_LAMBDA"] == url.replace("ws:", "http:").removesuffix(
        "/dev"
    )
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CA_BUNDLE"):
        assert environment[name]
    for name in ("PAPO_PORT", "PAPO_HANDLER", "PAPO_WORKERS", "PAPO_MAX_CONNECTION_DURATION"):
        assert name not in environment


def test_a_name_held_when_papo_serve_was_killed_is_free_after_a_restart(
    papo_serve: PapoServe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed, papo serve runs no `$disconnect`: the store keeps a connection
    no server holds. Claiming its name finds it gone, and the name is had."""
    monkeypatch.setenv("PAPO_SQLITE_PATH", str(tmp_path / "papo.sqlite3"))

    async def join(url: str) -> list[dict[str, object]]:
        async with connect(url) as ws:
            await ws.send(json.dumps({"action": "setName", "name": "Ana"}))
            return [json.loads(await asyncio.wait_for(ws.recv(), 20)) for _ in range(2)]

    first, url = papo_serve()
    joined = asyncio.run(join_and_stay(url, first))
    assert "Ana joined the chat" in joined
    _, url = papo_serve()
    frames = asyncio.run(join(url))
    assert all("code" not in f for f in frames), frames
    assert any(f.get("members") == ["Ana"] for f in frames), frames


async def join_and_stay(url: str, server: subprocess.Popen[bytes]) -> str:
    """Joins as Ana, then kills the server while the connection is open."""
    async with connect(url) as ws:
        await ws.send(json.dumps({"action": "setName", "name": "Ana"}))
        said = ""
        while "joined" not in said:
            said = str(json.loads(await asyncio.wait_for(ws.recv(), 20)).get("systemMessage", ""))
        server.kill()
        server.wait(timeout=30)
        return said


def test_a_port_another_process_holds_is_said_before_any_banner(tmp_path: Path) -> None:
    """papo serve binds its ports before it says where it serves: one it cannot
    have is one line, and no banner names an address another process answers."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "papo", "serve", "--port", str(port), "--web-port", "0"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            timeout=120,
            check=False,
        )
    assert done.returncode != 0
    assert done.stderr.strip() == f"papo serve: 127.0.0.1:{port}: address already in use"
