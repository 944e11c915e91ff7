"""Management API endpoints served in this very process.

`papo serve`, when handlers run in its threads, serves its Management API to
them in process too: each emulator owns an `Endpoints` (its URLs, each with a
transport) and opens it here while it serves. papo's client asks `lookup(url)`
before each call and, when an emulator of this process serves that URL, hands
the call straight to it instead of over HTTP, with the same answers (status
codes, 410 for a gone connection). Handlers still call the Management API for
every frame; only the transport is shorter. Anywhere else (AWS, worker
processes) no emulator serves here and calls go over the network.

What is process-wide is only which emulators serve now, since a handler's
client knows no emulator, only a URL: a tuple replaced whole under a lock, so
that a lookup, on the path of every post, takes none.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

Transport = Callable[[str, str, bytes], tuple[int, bytes]]
"""(method, connection id, body) -> (status, answer body)."""


class Endpoints:
    """One emulator's Management API, by URL (`http://127.0.0.1:8000/dev`)."""

    def __init__(self, transports: Mapping[str, Transport]) -> None:
        self._by_url = {url.rstrip("/"): transport for url, transport in transports.items()}

    def get(self, url: str) -> Transport | None:
        return self._by_url.get(url.rstrip("/"))


_serving: tuple[Endpoints, ...] = ()
_lock = threading.Lock()


def open_endpoints(endpoints: Endpoints) -> None:
    """The emulator that owns `endpoints` serves them to this process's handlers."""
    global _serving
    with _lock:
        _serving = (endpoints, *_serving)


def close_endpoints(endpoints: Endpoints) -> None:
    global _serving
    with _lock:
        _serving = tuple(e for e in _serving if e is not endpoints)


def lookup(url: str) -> Transport | None:
    for endpoints in _serving:
        transport = endpoints.get(url)
        if transport is not None:
            return transport
    return None
