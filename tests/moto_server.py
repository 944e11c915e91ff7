"""moto's server mode, one request at a time.

DynamoDB makes each request atomic. moto's threaded server does not: a
transaction copies the whole table first and, when a condition fails, puts
that copy back, erasing what other requests wrote meanwhile (a claim that
succeeded in another thread would vanish). Serving one request at a time
restores DynamoDB's guarantee, so that tests of concurrent writers test papo,
not moto's rollback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _one_at_a_time(app: Wsgi) -> Wsgi:
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

    return serve


class SerialMotoServer:
    """moto on a loopback port (0: a free one), in a thread, one request at a time."""

    def __init__(self, port: int = 0) -> None:
        app = _one_at_a_time(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
