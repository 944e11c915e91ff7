"""The emulator's own AWS APIs (`@connections`, Lambda's `Invoke`) refuse what a
web browser sends, on loopback too: a page on any origin could otherwise post
to a connection, close it, or run a function with a forged event, since a
`text/plain` POST needs no CORS preflight. AWS SDKs send none of a browser's
marks, so handlers are served as before (tests/test_lambda_api.py,
tests/test_emulator.py)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright
from websockets.asyncio.client import ClientConnection, connect

from papo.local.server import Emulator
from tests.browser import CHROMIUM_FLAGS, chromium_path, needs
from tests.emulation import emulator, probe_log

FUNCTION = "tests-lambdas-probe"

BROWSER_MARKS: list[dict[str, str]] = [
    {"Origin": "https://attacker.example", "Content-Type": "text/plain;charset=UTF-8"},
    {"Origin": "null"},
    {"Content-Type": "text/plain"},
    {"Content-Type": "application/x-www-form-urlencoded"},
    {"Content-Type": "multipart/form-data; boundary=x"},
    {"Sec-Fetch-Mode": "no-cors"},
    {"Sec-Fetch-Site": "same-site"},
]


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "probe.jsonl"


@pytest.fixture
def api(log_path: Path) -> Iterator[Emulator]:
    with emulator(environment={"PROBE_LOG": str(log_path)}) as running:
        yield running


def invoke_url(api: Emulator) -> str:
    return f"http://{api.host}:{api.port}/2015-03-31/functions/{FUNCTION}/invocations"


async def opened(api: Emulator, log_path: Path) -> tuple[ClientConnection, str]:
    """A client's connection, and its id as its `$connect` event said."""
    ws = await connect(api.websocket_url)
    connect_event = probe_log(log_path, 1)[0]["event"]
    return ws, connect_event["requestContext"]["connectionId"]


@pytest.mark.parametrize("marks", BROWSER_MARKS, ids=lambda m: ",".join(m))
def test_a_browsers_post_to_a_connection_is_refused(
    api: Emulator, log_path: Path, marks: dict[str, str]
) -> None:
    async def scenario() -> list[Any]:
        ws, cid = await opened(api, log_path)
        async with ws, httpx.AsyncClient() as client:
            url = f"{api.management_url}/@connections/{cid}"
            forged = await client.post(url, content=b"forged", headers=marks)
            closing = await client.delete(url, headers=marks)
            plain = await client.post(url, content=b"from a handler")
            return [
                forged.status_code,
                forged.headers["x-amzn-ErrorType"],
                "web browser" in forged.json()["message"],
                closing.status_code,
                plain.status_code,
                await asyncio.wait_for(ws.recv(), 10),
            ]

    assert asyncio.run(scenario()) == [
        403,
        "AccessDeniedException",
        True,
        403,
        200,
        "from a handler",  # the forged frame never came, and the socket is still open
    ]


@pytest.mark.parametrize("marks", BROWSER_MARKS, ids=lambda m: ",".join(m))
def test_a_browsers_invoke_is_refused(api: Emulator, log_path: Path, marks: dict[str, str]) -> None:
    forged = {"requestContext": {"routeKey": "$connect"}, "forged": True}
    answer = httpx.post(invoke_url(api), content=json.dumps(forged), headers=marks)
    assert answer.status_code == 403
    assert answer.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    dry = httpx.post(invoke_url(api), headers={"X-Amz-Invocation-Type": "DryRun"})
    assert dry.status_code == 204  # without a browser's marks, the call is served
    assert probe_log(log_path) == []


@pytest.fixture
def page_elsewhere() -> Iterator[str]:
    """A web page on another port of loopback, as any site the developer opens."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>elsewhere</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    yield f"http://localhost:{server.server_port}/"
    server.shutdown()
    server.server_close()


FORGE = """async ([post, invoke]) => {
    const simple = {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}};
    await fetch(post, {...simple, body: "forged by a page"});
    await fetch(invoke, {...simple, body: JSON.stringify({forged: true})});
    return "sent";
}"""


def test_a_page_on_another_origin_cannot_forge_through_chromium(
    api: Emulator, log_path: Path, page_elsewhere: str
) -> None:
    """Chromium's own `fetch`, as a page anywhere would send it (no preflight)."""
    executable = chromium_path()
    needs(*([] if executable else ["Chromium (Debian's chromium package)"]))

    async def connected() -> tuple[ClientConnection, str]:
        return await opened(api, log_path)

    loop = asyncio.new_event_loop()
    try:
        ws, cid = loop.run_until_complete(connected())
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
            page = browser.new_page()
            page.goto(page_elsewhere)
            post = f"{api.management_url}/@connections/{cid}"
            assert page.evaluate(FORGE, [post, invoke_url(api)]) == "sent"
            browser.close()
        httpx.post(f"{api.management_url}/@connections/{cid}", content=b"after the page")
        first = loop.run_until_complete(asyncio.wait_for(ws.recv(), 10))
        loop.run_until_complete(ws.close())
    finally:
        loop.close()
    assert first == "after the page"
    assert [e for e in probe_log(log_path) if "forged" in json.dumps(e)] == []
