"""Management API endpoints served in this very process.

`papo serve` registers its own endpoints here when handlers run in its
threads; papo's client then hands each call straight to the emulator instead
of over HTTP, with the same answers (status codes, 410 for a gone
connection). Handlers still call the Management API for every frame; only
the transport is shorter. Anywhere else (AWS, worker processes) nothing is
registered and calls go over the network.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

Transport = Callable[[str, str, bytes], tuple[int, bytes]]
"""(method, connection id, body) -> (status, answer body)."""

_endpoints: dict[str, Transport] = {}
_lock = threading.Lock()


def register(url: str, transport: Transport) -> None:
    with _lock:
        _endpoints[url.rstrip("/")] = transport


def unregister(url: str) -> None:
    with _lock:
        _endpoints.pop(url.rstrip("/"), None)


def lookup(url: str) -> Transport | None:
    return _endpoints.get(url)
