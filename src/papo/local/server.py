"""The emulator's server: the WebSocket API, its Management API and Lambda's Invoke API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import tempfile
import threading
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import CloseCode, Frame

from papo.delivery import inprocess
from papo.local import lambda_api
from papo.local.config import ApiConfig, Limits
from papo.local.connections import Registry
from papo.local.gateway import Gateway
from papo.local.invoker import Invoker
from papo.local.lambda_api import LambdaApi
from papo.local.management import ManagementApi
from papo.local.tls import TlsFiles, make_certificate
from papo.local.web import web_app


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


def uvicorn_options(limits: Limits) -> dict[str, Any]:
    """How uvicorn must serve an emulated API: API Gateway's limits, no pings of its own."""
    return {
        "ws": frame_limited_protocol(limits.max_frame_bytes),
        "ws_max_size": limits.max_message_bytes,
        "ws_ping_interval": None,
        "ws_per_message_deflate": False,
        "lifespan": "off",
        "timeout_graceful_shutdown": max(5, int(limits.integration_timeout_s) + 1),
    }


def frame_limited_protocol(max_frame_bytes: int) -> type[WebSocketsSansIOProtocol]:
    if max_frame_bytes == FrameLimitedProtocol.max_frame_bytes:
        return FrameLimitedProtocol
    return type(
        "FrameLimitedProtocol", (FrameLimitedProtocol,), {"max_frame_bytes": max_frame_bytes}
    )


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the emulator, which runs two at once."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class Emulator:
    """The emulated API: the WebSocket API, its Management API and Lambda's Invoke
    API for its functions on `port` (0: a free one), and,
    when `tls_port` is set, the Management API over https there too (FIDELITY 18):
    events then name `host:tls_port` as their `domainName`, and handlers get
    `AWS_CA_BUNDLE` trusting the certificate made at start-up."""

    config: ApiConfig
    host: str = "127.0.0.1"
    port: int = 8000
    environment: Mapping[str, str] | None = None
    tls_port: int | None = None
    web_port: int | None = None
    """Where to serve the web client from `web_dir` (0: a free port; None: not at all)."""
    web_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.port == 0:
            self.port = _free_port(self.host)
        environment = dict(self.environment or {})
        environment["AWS_ENDPOINT_URL_LAMBDA"] = f"http://{self.host}:{self.port}"
        self.tls: TlsFiles | None = None
        if self.tls_port is not None:
            if self.tls_port == 0:
                self.tls_port = _free_port(self.host)
            self._tls_dir = tempfile.TemporaryDirectory(prefix="papo-tls-")
            self.tls = make_certificate(Path(self._tls_dir.name), self.host)
            environment["AWS_CA_BUNDLE"] = str(self.tls.ca_bundle)
        if self.web_port == 0:
            self.web_port = _free_port(self.host)
        self._servers: list[uvicorn.Server] = []
        self.registry = Registry()
        self.invoker = Invoker(self.config, environment)
        domain = f"{self.host}:{self.tls_port}" if self.tls_port is not None else None
        self.gateway = Gateway(self.config, self.invoker, self.registry, domain_name=domain)
        self.management = ManagementApi(self.config, self.registry)
        self.lambda_api = LambdaApi(self.config, self.invoker)
        self.app = Starlette(
            routes=[
                Route(lambda_api.PATH, self.lambda_api.endpoint, methods=["POST"]),
                Route(
                    "/{stage}/@connections/{connection_id:path}",
                    self.management.endpoint,
                    methods=["POST", "GET", "DELETE"],
                ),
                WebSocketRoute("/{stage}", self.gateway.endpoint),
                WebSocketRoute("/", self.gateway.endpoint),
            ]
        )

    @property
    def web_url(self) -> str | None:
        if self.web_port is None or self.web_dir is None:
            return None
        return f"http://{self.host}:{self.web_port}/"

    def _web_server(self, log_level: str) -> uvicorn.Server | None:
        if self.web_port is None or self.web_dir is None:
            return None
        app = web_app(self.web_dir, self.websocket_url)
        config = uvicorn.Config(
            app, host=self.host, port=self.web_port, log_level=log_level, lifespan="off"
        )
        return _Server(config)

    def uvicorn_config(self, *, tls: bool = False, log_level: str = "warning") -> uvicorn.Config:
        port, certfile, keyfile = self.port, None, None
        if tls:
            if self.tls is None or self.tls_port is None:
                raise ValueError("this emulator serves no TLS")
            port, certfile, keyfile = self.tls_port, str(self.tls.certificate), str(self.tls.key)
        return uvicorn.Config(
            self.app,
            host=self.host,
            port=port,
            log_level=log_level,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            **uvicorn_options(self.config.limits),
        )

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.host}:{self.port}/{self.config.stage}"

    @property
    def management_url(self) -> str:
        return f"http://{self.host}:{self.port}/{self.config.stage}"

    async def serve(self, log_level: str = "warning") -> None:
        """Serves until told to stop; both servers share one event loop, as the
        Management API writes to the WebSocket API's connections."""
        local = self.management.in_process(asyncio.get_running_loop())
        urls = [self.management_url]
        if self.tls_port is not None:
            urls.append(f"https://{self.host}:{self.tls_port}/{self.config.stage}")
        for url in urls:
            inprocess.register(url, local)
        servers: list[uvicorn.Server] = [_Server(self.uvicorn_config(log_level=log_level))]
        if self.tls is not None:
            servers.append(_Server(self.uvicorn_config(tls=True, log_level=log_level)))
        web = self._web_server(log_level)
        if web is not None:
            servers.append(web)
        self._servers = servers
        if threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, self.stop)
        tasks = [asyncio.ensure_future(server.serve()) for server in servers]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # The WebSocket side first: its connections' $disconnect may still post.
            servers[0].should_exit = True
            await asyncio.gather(tasks[0], return_exceptions=True)
            for server, task in zip(servers[1:], tasks[1:], strict=True):
                server.should_exit = True
                done, _ = await asyncio.wait([task], timeout=1)
                if not done:
                    # Idle keep-alive TLS clients would hold each close for 30 s.
                    for connection in list(server.server_state.connections):
                        connection.transport.abort()
                await asyncio.gather(task, return_exceptions=True)
            for url in urls:
                inprocess.unregister(url)
            self.invoker.close()

    def stop(self) -> None:
        """Begins a graceful shutdown: open connections close and get their `$disconnect`."""
        if self._servers:
            self._servers[0].should_exit = True

    @contextlib.contextmanager
    def running(self) -> Iterator[Emulator]:
        """Serves in a background thread (for tests and embedding); port 0 picks a free one."""
        self._servers = []
        thread = threading.Thread(
            target=asyncio.run, args=(self.serve(log_level="warning"),), daemon=True
        )
        thread.start()
        while not (self._servers and all(s.started for s in self._servers)):
            if not thread.is_alive():
                raise RuntimeError("the emulator did not start")
            threading.Event().wait(0.01)
        try:
            yield self
        finally:
            self.stop()
            thread.join(timeout=30)
