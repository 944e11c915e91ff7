"""The emulator's server: the WebSocket API, its Management API and Lambda's Invoke API."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
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

from papo.local import lambda_api, log_limits
from papo.local.config import ApiConfig, Limits, Throttle
from papo.local.connections import Registry
from papo.local.faults import Faults
from papo.local.gateway import Gateway
from papo.local.hostnames import execute_api_host
from papo.local.invoker import Invoker
from papo.local.lambda_api import LambdaApi
from papo.local.management import InProcessTransport, ManagementApi
from papo.local.runtime import Runtime, lambda_defaults
from papo.local.signatures import Verifier, handlers_keys
from papo.local.tls import TlsFiles, make_certificate
from papo.local.web import PageOidc, web_app

log = logging.getLogger("papo.local")


class FrameLimitedProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, closing with 1009 on a frame over the limit.

    The message limit is the protocol's own `max_size`; API Gateway also
    limits each frame (32 KB), which uvicorn does not. uvicorn takes a class,
    so another limit is a subclass (`frame_limited_protocol`).
    """

    max_frame_bytes = Limits.max_frame_bytes

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

    def send_receive_event_to_app(self) -> None:
        """Closes with 1007 on a text message that is not UTF-8, saying so in one
        line (uvicorn logs a whole traceback for each, which a client could
        repeat at will); hands any other message on."""
        if self.curr_msg_data_type == "text" and not self.close_sent:
            data = b"".join(self.frames)
            try:
                data.decode()
            except UnicodeDecodeError:
                self.frames = []
                log.warning("closed %s with 1007: a text message not in UTF-8", self._peer())
                self.conn.fail(CloseCode.INVALID_DATA, "Invalid UTF-8")
                self.handle_parser_exception()
                return
            self.frames = [data]
        super().send_receive_event_to_app()

    def _peer(self) -> str:
        return ":".join(map(str, self.client)) if self.client else "?"


def _uvicorn_options(limits: Limits) -> dict[str, Any]:
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


def _listening(host: str, port: int = 0) -> socket.socket:
    """A socket bound to `port` (0: a free one) and kept: a port probed and let go
    could be taken by any outgoing connection before the server binds it again."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the emulator, which runs two at
    once, and that begins to stop as soon as it is told (`exit_soon`), where
    uvicorn looks whether to stop ten times a second: the emulator stops its
    servers one after another, and a test suite stops hundreds of emulators."""

    _loop: asyncio.AbstractEventLoop | None = None
    _told: asyncio.Event | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def main_loop(self) -> None:
        self._loop, self._told = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._told.wait(), 0.1)

    def exit_soon(self) -> None:
        """Stops the server, from any thread."""
        self.should_exit = True
        loop, told = self._loop, self._told
        if loop is not None and told is not None:
            with contextlib.suppress(RuntimeError):  # its loop has ended
                loop.call_soon_threadsafe(told.set)


async def _stopped(server: _Server, task: asyncio.Future[None]) -> None:
    """Stops `server`, closing what its clients still hold open after a second:
    idle keep-alive TLS clients would hold each close for 30 s (TLS's shutdown
    waits for their close_notify, and aborting a TLS transport already shutting
    down leaves its socket open)."""
    server.exit_soon()
    done, _ = await asyncio.wait([task], timeout=1)
    if not done:
        server.force_exit = True
        for connection in list(server.server_state.connections):
            connection.transport.abort()
    await asyncio.gather(task, return_exceptions=True)


@dataclass
class Emulator:
    """The emulated API: the WebSocket API, its Management API and Lambda's Invoke
    API for its functions on `port` (0: a free one), and, when `tls_port` is set,
    the Management API over https there too (docs/promises.md: "A handler's own
    client works unmodified"): events then name
    `host:tls_port` as their `domainName`, handlers get `AWS_CA_BUNDLE` trusting
    the certificate made at start-up, and the API's own AWS address
    (`{apiId}.execute-api.{region}.amazonaws.com`) leads there from handlers
    (`papo.local.hostnames`)."""

    config: ApiConfig
    host: str = "127.0.0.1"
    port: int = 8000
    environment: Mapping[str, str] | None = None
    """Handlers' environment, over Lambda's own variables and under each function's."""
    tls_port: int | None = None
    web_port: int | None = None
    """Where to serve the web client from `web_dir` (0: a free port; None: not at all)."""
    web_dir: Path | None = None
    web_oidc: PageOidc | None = None
    """The OpenID Connect issuer the web client signs in with (its `config.json`)."""
    require_signatures: bool = False
    """Whether the Management API and Lambda's Invoke API take only calls signed with
    the credentials handlers get (`papo.local.signatures`); over http(s) only, the
    in-process way in for handlers in threads is the emulator's own."""
    faults: Faults | None = None
    """The share of `@connections` calls answered 410, 429 or 500 (`papo.local.faults`)."""
    account_throttle: Throttle | None = None
    """The account's limits on `@connections` calls; None: not throttled."""

    def __post_init__(self) -> None:
        self._sockets: dict[str, socket.socket] = {}
        # Bound now, as `papo serve` says where it serves only once it can.
        self.port = self._reserve("api", self.port)
        self.aws_host = execute_api_host(self.config.api_id, self.config.region)
        environment = {
            **lambda_defaults(self.config.region, exposed=self.require_signatures),
            **(self.environment or {}),
            "AWS_ENDPOINT_URL_LAMBDA": f"http://{self.host}:{self.port}",
        }
        self.tls: TlsFiles | None = None
        hosts: dict[str, tuple[str, int]] = {}
        if self.tls_port is not None:
            self.tls_port = self._reserve("tls", self.tls_port)
            self._tls_dir = tempfile.TemporaryDirectory(prefix="papo-tls-")
            self.tls = make_certificate(Path(self._tls_dir.name), self.host, self.aws_host)
            environment["AWS_CA_BUNDLE"] = str(self.tls.ca_bundle)
            hosts[self.aws_host] = (self.host, self.tls_port)
        environment.update(_no_proxy(self.host, self.aws_host))
        if self.web_port == 0:
            self.web_port = self._reserve("web")
        self._servers: list[_Server] = []
        self.in_process_management_api: dict[str, InProcessTransport] = {}
        """While it serves: its Management API by URL, for the handlers it runs
        in its threads (their context's `in_process_management_api`)."""
        self.registry = Registry()
        self.invoker = Invoker(self.config, Runtime(environment, hosts))
        domain = f"{self.host}:{self.tls_port}" if self.tls_port is not None else None
        self.gateway = Gateway(self.config, self.invoker, self.registry, domain_name=domain)
        self.verifier = (
            Verifier(handlers_keys(self._each_function(environment)), self.config.region)
            if self.require_signatures
            else None
        )
        self.management = ManagementApi(
            self.config,
            self.registry,
            self.verifier,
            faults=self.faults,
            account_throttle=self.account_throttle,
        )
        self.lambda_api = LambdaApi(self.config, self.invoker, self.verifier)
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

    def _each_function(self, environment: Mapping[str, str]) -> list[dict[str, str]]:
        """Each function's environment: what all share, its own variables over it."""
        return [{**environment, **t.environment} for t in self.config.functions] or [
            dict(environment)
        ]

    def _reserve(self, role: str, port: int = 0) -> int:
        """Binds `role`'s port (0: a free one) and keeps it for its server; OSError
        when another process holds it."""
        sock = self._sockets[role] = _listening(self.host, port)
        bound: int = sock.getsockname()[1]
        return bound

    def _reserved(self, role: str) -> list[socket.socket] | None:
        """The socket kept for `role` since start-up, handed over once: its server closes it."""
        sock = self._sockets.pop(role, None)
        return None if sock is None else [sock]

    @property
    def web_url(self) -> str | None:
        if self.web_port is None or self.web_dir is None:
            return None
        return f"http://{self.host}:{self.web_port}/"

    def _web_server(self, log_level: str) -> _Server | None:
        if self.web_port is None or self.web_dir is None:
            return None
        app = web_app(self.web_dir, self.websocket_url, self.web_oidc)
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
            **_uvicorn_options(self.config.limits),
        )

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.host}:{self.port}/{self.config.stage}"

    @property
    def management_url(self) -> str:
        return f"http://{self.host}:{self.port}/{self.config.stage}"

    @property
    def management_urls(self) -> list[str]:
        """Every address of the Management API: http, and https under both names."""
        urls = [self.management_url]
        if self.tls_port is not None:
            stage = self.config.stage
            urls += [
                f"https://{self.host}:{self.tls_port}/{stage}",
                f"https://{self.aws_host}/{stage}",
            ]
        return urls

    async def serve(
        self, log_level: str = "warning", sockets: list[socket.socket] | None = None
    ) -> None:
        """Serves until told to stop; both servers share one event loop, as the
        Management API writes to the WebSocket API's connections. `sockets`: the
        WebSocket API's, already listening, for an embedder that holds them."""
        local = self.management.in_process(asyncio.get_running_loop())
        self.in_process_management_api = dict.fromkeys(self.management_urls, local)
        held = {"api": sockets or self._reserved("api")}
        servers: list[_Server] = [_Server(self.uvicorn_config(log_level=log_level))]
        if self.tls is not None:
            servers.append(_Server(self.uvicorn_config(tls=True, log_level=log_level)))
            held["tls"] = self._reserved("tls")
        web = self._web_server(log_level)
        if web is not None:
            servers.append(web)
            held["web"] = self._reserved("web")
        for unused in self._sockets.values():
            unused.close()
        self._sockets.clear()
        self._servers = servers
        log_limits.install()
        if threading.current_thread() is threading.main_thread():  # the process's own server
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, self.stop)
            # What start-up built lives as long as the server: the collector's full
            # passes, some 25 ms each at 100 clients, need not visit it again.
            gc.freeze()
        self.invoker.open(self.in_process_management_api)
        tasks = [
            asyncio.ensure_future(server.serve(kept))
            for server, kept in zip(servers, held.values(), strict=True)
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # The WebSocket API first, with the page's server; then the functions'
            # idle containers; the https one last: the connections' $disconnect
            # may still post through it, and a container's keep-alive TLS
            # connection to it would hold its stop for a second.
            api, https = servers[0], servers[1] if self.tls is not None else None
            api.exit_soon()
            await asyncio.gather(
                tasks[0],
                *(
                    _stopped(s, t)
                    for s, t in zip(servers, tasks, strict=True)
                    if s not in (api, https)
                ),
                return_exceptions=True,
            )
            await asyncio.to_thread(self.invoker.close)
            if https is not None:
                await _stopped(https, tasks[1])
            self.in_process_management_api = {}

    def stop(self) -> None:
        """Begins a graceful shutdown: open connections close and get their `$disconnect`."""
        if self._servers:
            self._servers[0].exit_soon()

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


def _no_proxy(*hosts: str) -> dict[str, str]:
    """The developer's `NO_PROXY`, with the emulator's own hosts: a handler
    posting to the API's AWS address must reach papo serve, not a proxy that
    `HTTPS_PROXY` names (boto3 and requests read both spellings)."""
    present = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
    value = ",".join(dict.fromkeys(filter(None, [*present.split(","), *hosts, "localhost"])))
    return {"NO_PROXY": value, "no_proxy": value}
