"""Running the emulator in tests, and talking to it as a client would."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from papo.local.config import ApiConfig, Limits
from papo.local.server import Emulator

PROBE = "tests.lambdas.probe:handler"
PROBE_ROUTES = ("$connect", "$disconnect", "$default", "sendMessage")


@contextlib.contextmanager
def emulator(
    handler: str = PROBE,
    routes: tuple[str, ...] = PROBE_ROUTES,
    *,
    environment: dict[str, str] | None = None,
    workers: int = 0,
    tls_port: int | None = None,
    route_responses: frozenset[str] = frozenset(),
    web_dir: Path | None = None,
    **limits: Any,
) -> Iterator[Emulator]:
    config = ApiConfig.for_handler(
        handler,
        routes,
        limits=Limits(**limits),
        workers=workers,
        route_responses=route_responses,
    )
    served = Emulator(
        config,
        port=0,
        environment=environment,
        tls_port=tls_port,
        web_port=None if web_dir is None else 0,
        web_dir=web_dir,
    )
    with served.running() as running:
        yield running


def probe_log(path: Path, at_least: int = 0, seconds: float = 10) -> list[dict[str, Any]]:
    """What the probe handler logged, once it logged `at_least` entries (the
    invocations that follow a client's close run after the client has gone)."""
    deadline = time.monotonic() + seconds
    while len(entries := _read_log(path)) < at_least:
        assert time.monotonic() < deadline, entries
        time.sleep(0.02)
    return entries


def _read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]
