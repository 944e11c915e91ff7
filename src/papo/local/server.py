"""The emulator's server: one port for the WebSocket API and its Management API."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import CloseCode, Frame

from papo.local.config import ApiConfig
from papo.local.connections import Registry
from papo.local.gateway import Gateway
from papo.local.invoker import Invoker
from papo.local.management import ManagementApi


class FrameLimitedProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, closing with 1009 on a frame over the limit.

    The message limit is the protocol's own `max_size`; API Gateway also
    limits each frame (32 KB), which uvicorn does not. The limit is a class
    attribute so that uvicorn's reloader can re-import the class by name.
    """

    max_frame_bytes = int(os.environ.get("PAPO_MAX_FRAME_BYTES", 32 * 1024))

    def _within_limit(self, event: Frame) -> bool:
        if self.close_sent:
            return False
        if len(event.data) <= self.max_frame_bytes:
            return True
        self.conn.fail(CloseCode.MESSAGE_TOO_BIG, "Frame size limit exceeded")
        self.handle_parser_exception()
        return False

    def handle_text(self, event: Frame) -> None:
        if self._within_limit(event):
            super().handle_text(event)

    def handle_bytes(self, event: Frame) -> None:
        if self._within_limit(event):
            super().handle_bytes(event)

    def handle_cont(self, event: Frame) -> None:
        if self._within_limit(event):
            super().handle_cont(event)


def frame_limited_protocol(max_frame_bytes: int) -> type[WebSocketsSansIOProtocol]:
    if max_frame_bytes == FrameLimitedProtocol.max_frame_bytes:
        return FrameLimitedProtocol
    return type(
        "FrameLimitedProtocol", (FrameLimitedProtocol,), {"max_frame_bytes": max_frame_bytes}
    )


@dataclass
class Emulator:
    config: ApiConfig
    host: str = "127.0.0.1"
    port: int = 8000
    environment: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        self.registry = Registry()
        self.invoker = Invoker(self.config, self.environment)
        self.gateway = Gateway(self.config, self.invoker, self.registry)
        self.management = ManagementApi(self.config, self.registry)
        self.app = Starlette(
            routes=[
                Route(
                    "/{stage}/@connections/{connection_id:path}",
                    self.management.endpoint,
                    methods=["POST", "GET", "DELETE"],
                ),
                WebSocketRoute("/{stage}", self.gateway.endpoint),
                WebSocketRoute("/", self.gateway.endpoint),
            ]
        )

    def uvicorn_config(self, **options: object) -> uvicorn.Config:
        limits = self.config.limits
        return uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            ws=frame_limited_protocol(limits.max_frame_bytes),
            ws_max_size=limits.max_message_bytes,
            ws_ping_interval=None,
            ws_per_message_deflate=False,
            lifespan="off",
            timeout_graceful_shutdown=max(5, int(limits.integration_timeout_s) + 1),
            **options,  # type: ignore[arg-type]
        )

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.host}:{self.port}/{self.config.stage}"

    @property
    def management_url(self) -> str:
        return f"http://{self.host}:{self.port}/{self.config.stage}"

    @contextlib.contextmanager
    def running(self) -> Iterator[Emulator]:
        """Serves in a background thread (for tests and embedding); port 0 picks a free one."""
        if self.port == 0:
            with socket.socket() as probe:
                probe.bind((self.host, 0))
                self.port = probe.getsockname()[1]
        server = uvicorn.Server(self.uvicorn_config(log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the emulator did not start")
            threading.Event().wait(0.01)
        try:
            yield self
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            self.invoker.close()
