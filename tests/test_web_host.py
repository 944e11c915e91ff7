"""The page's `config.json` and Content-Security-Policy name the WebSocket API
where the page can reach it: with `--host 0.0.0.0` (every address), the host
the page was loaded from, with the API's port, never `ws://0.0.0.0`."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

from papo.local.config import ApiConfig
from papo.local.server import Emulator
from papo.local.web import page_websocket_url
from tests.emulation import PROBE, PROBE_ROUTES


@pytest.mark.parametrize(
    ("websocket_url", "host", "page_url"),
    [
        ("ws://0.0.0.0:8000/dev", "192.0.2.7:8080", "ws://192.0.2.7:8000/dev"),
        ("ws://0.0.0.0:8000/dev", "laptop.local:8080", "ws://laptop.local:8000/dev"),
        ("ws://0.0.0.0:8000/dev", "laptop.local", "ws://laptop.local:8000/dev"),
        ("ws://[::]:8000/dev", "[fe80::1]:8080", "ws://[fe80::1]:8000/dev"),
        ("ws://0.0.0.0:8000/dev", None, "ws://0.0.0.0:8000/dev"),
        ("ws://0.0.0.0:8000/dev", "evil.example; script-src *", "ws://0.0.0.0:8000/dev"),
        ("ws://127.0.0.1:8000/dev", "localhost:8080", "ws://127.0.0.1:8000/dev"),
        ("ws://192.0.2.7:8000/dev", "laptop.local:8080", "ws://192.0.2.7:8000/dev"),
    ],
)
def test_the_page_is_told_an_address_it_can_reach(
    websocket_url: str, host: str | None, page_url: str
) -> None:
    assert page_websocket_url(websocket_url, host) == page_url


def test_served_on_every_address_the_page_connects_where_it_was_loaded_from(
    tmp_path: Path,
) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>papo</title>")
    config = ApiConfig.for_handler(PROBE, PROBE_ROUTES)
    emulator = Emulator(config, host="0.0.0.0", port=0, tls_port=None, web_port=0, web_dir=tmp_path)
    with emulator.running() as api:
        for host in ("127.0.0.1", "localhost"):
            request = Request(f"http://127.0.0.1:{api.web_port}/config.json")
            request.add_header("Host", f"{host}:{api.web_port}")
            with urlopen(request) as answer:
                policy = answer.headers["Content-Security-Policy"]
                said = json.load(answer)
            assert said["websocketUrl"] == f"ws://{host}:{api.port}/dev"
            assert f"ws://{host}:{api.port} " in policy
            assert "0.0.0.0" not in policy
