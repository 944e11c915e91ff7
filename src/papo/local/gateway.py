"""The WebSocket side of the emulated API: handshakes, routing, limits, error frames.

A route integrated with a function invokes it; a MOCK route is answered here,
invoking nothing (docs/promises.md: "MOCK integrations answer without invoking
anything"). Either way, a message is activity for the idle timeout as it
arrives. `$connect`'s authorizer runs before it (`papo.local.authorizers`), and
the stage's throttling comes first of all (`papo.local.throttling`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from typing import Any

from starlette.responses import Response
from starlette.websockets import WebSocket

from papo.local import authorizers, events, ids, mapping
from papo.local.config import ApiConfig, MockTarget
from papo.local.connections import LiveConnection, Registry
from papo.local.invoker import HandlerFailed, Invoker
from papo.local.throttling import TOO_MANY_REQUESTS, Throttles
from papo.local.unrouted import Unrouted

log = logging.getLogger("papo.local")

GOING_AWAY = 1001


_WEBSOCKET_HEADERS = {
    f"sec-websocket-{part.lower()}": f"Sec-WebSocket-{part}"
    for part in ("Key", "Version", "Protocol", "Extensions", "Accept")
}


def header_name(lowered: str) -> str:
    """A header's name as clients write it (ASGI servers hand them over lowercased)."""
    return _WEBSOCKET_HEADERS.get(lowered) or "-".join(p.capitalize() for p in lowered.split("-"))


def error_frame(message: str, connection_id: str, request_id: str) -> str:
    """API Gateway's own error frame, spacing included."""
    return (
        f'{{"message": "{message}", "connectionId":"{connection_id}", "requestId":"{request_id}"}}'
    )


class Gateway:
    def __init__(
        self,
        config: ApiConfig,
        invoker: Invoker,
        registry: Registry,
        *,
        domain_name: str | None = None,
    ) -> None:
        self.config = config
        self.domain_name = domain_name
        self.invoker = invoker
        self.registry = registry
        self._path = config.selection_path()
        self.throttles = Throttles(config.throttling)
        self._routes = config.route_keys
        self.unrouted = Unrouted(self._routes)
        self._tasks: set[asyncio.Task[None]] = set()

    def select_route(self, data: str | bytes) -> str | None:
        """The route for a message: by the selection expression, else `$default`."""
        routes = self._routes
        if isinstance(data, str):
            try:
                value: Any = json.loads(data)
            except (ValueError, RecursionError):  # not JSON, or nested too deep to read
                value = None
            for part in self._path:
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, str) and value in routes and not value.startswith("$"):
                return value
        return "$default" if "$default" in routes else None

    async def endpoint(self, websocket: WebSocket) -> None:
        stage = websocket.path_params.get("stage", self.config.stage)
        if stage != self.config.stage:
            await websocket.close(1008)
            return
        if not self.throttles.allow("$connect"):
            await websocket.send_denial_response(Response(status_code=429))
            return
        client = websocket.client
        peer = events.Peer(
            connection_id=ids.connection_id(),
            connected_at=ids.now_ms(),
            source_ip=client.host if client else "127.0.0.1",
            user_agent=websocket.headers.get("user-agent"),
            domain_name=self.domain_name or websocket.headers.get("host", "localhost"),
            stage=self.config.stage,
            api_id=self.config.api_id,
        )
        accepted, subprotocol = await self._connect(websocket, peer)
        if accepted is None:
            return
        peer = accepted
        await websocket.accept(subprotocol=subprotocol)
        connection = LiveConnection(peer, websocket)
        self.registry.add(connection)
        code, reason = await self._receive(connection)
        self.registry.remove(peer.connection_id)
        connection.closed()
        await self._disconnect(peer, code, reason)

    async def _connect(
        self, websocket: WebSocket, peer: events.Peer
    ) -> tuple[events.Peer | None, str | None]:
        """Runs the authorizer and `$connect`: the peer to accept (with what the
        authorizer allowed it), or None; and the subprotocol."""
        request_id = ids.request_id()
        headers = [
            (header_name(k.decode("latin-1")), v.decode("latin-1"))
            for k, v in websocket.scope["headers"]
        ]
        query = list(websocket.query_params.multi_items())
        authorizer = self.config.authorizer
        if authorizer is not None:
            allowed = await authorizers.authorize(
                authorizer,
                self.invoker,
                events.connect(peer, request_id, headers, query),
                headers,
                query,
                self.config.limits,
                self.config.region,
            )
            if isinstance(allowed, authorizers.Refused):
                log.warning(
                    "$connect authorizer refused %s with %d: %s",
                    peer.connection_id,
                    allowed.status,
                    allowed.why,
                )
                await websocket.send_denial_response(Response(status_code=allowed.status))
                return None, None
            peer = dataclasses.replace(peer, authorizer=allowed)
        mock = self.config.mocks.get("$connect")
        if mock is not None:
            return (peer if await self._connect_mock(websocket, mock) else None), None
        if "$connect" not in self.config.routes:
            self.unrouted.saw("$connect")
            return peer, None
        event = events.connect(peer, request_id, headers, query)
        try:
            result = await self._invoke_within_timeout("$connect", event)
        except (HandlerFailed, TimeoutError):
            await websocket.send_denial_response(Response(status_code=502))
            return None, None
        status = result.get("statusCode", 200) if isinstance(result, dict) else 200
        if not 200 <= int(status) < 300:
            await websocket.send_denial_response(Response(status_code=int(status)))
            return None, None
        headers_out = result.get("headers") if isinstance(result, dict) else None
        for name, value in (headers_out or {}).items():
            if name.lower() == "sec-websocket-protocol":
                return peer, str(value)
        return peer, None

    @staticmethod
    async def _connect_mock(websocket: WebSocket, mock: MockTarget) -> bool:
        """A MOCK `$connect` decides by its request template's status, invoking
        nothing: 2xx accepts, another status refuses with it, none refuses with 500."""
        status = 500 if mock.status_code is None else mock.status_code
        if 200 <= status < 300:
            return True
        await websocket.send_denial_response(Response(status_code=status))
        return False

    async def _receive(self, connection: LiveConnection) -> tuple[int, str]:
        """Reads messages until the socket closes or a limit closes it."""
        limits = self.config.limits
        closes_at = connection.peer.connected_at + limits.max_connection_duration_s * 1000
        while True:
            now = ids.now_ms()
            idle_at = connection.last_active_at + limits.idle_timeout_s * 1000
            wait_ms = min(idle_at, closes_at) - now
            if wait_ms <= 0:
                await connection.close(GOING_AWAY, "Going away")
                return GOING_AWAY, "Going away"
            try:
                async with asyncio.timeout(wait_ms / 1000):
                    message = await connection.websocket.receive()
            except TimeoutError:
                continue
            if message["type"] == "websocket.disconnect":
                return int(message.get("code") or 1005), str(message.get("reason") or "")
            data = message.get("text")
            if data is None:
                data = message.get("bytes", b"")
            connection.touch()
            task = asyncio.create_task(self._route(connection, data))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _route(self, connection: LiveConnection, data: str | bytes) -> None:
        route = self.select_route(data)
        request_id = ids.request_id()
        cid = connection.connection_id
        if not self.throttles.allow(route):
            connection.post(error_frame(TOO_MANY_REQUESTS, cid, request_id))
            return
        if route is None:
            self.unrouted.saw("$default")
            connection.post(error_frame("Forbidden", cid, request_id))
            return
        event = events.message(connection.peer, route, request_id, data, ids.now_ms())
        mock = self.config.mocks.get(route)
        if mock is not None:
            await self._answer_mock(connection, route, mock, event["requestContext"])
            return
        try:
            result = await self._invoke_within_timeout(route, event)
        except TimeoutError:
            connection.post(error_frame("Endpoint request timed out", cid, request_id))
        except HandlerFailed:
            connection.post(error_frame("Internal server error", cid, request_id))
        else:
            body = result.get("body") if isinstance(result, dict) else None
            if route in self.config.route_responses and body is not None:
                connection.post(str(body))

    async def _answer_mock(
        self,
        connection: LiveConnection,
        route: str,
        mock: MockTarget,
        context: dict[str, Any],
    ) -> None:
        """A MOCK route's answer: its integration response, when the route has a
        route response; nothing else, and nothing is invoked."""
        if mock.status_code is None:
            cid, request_id = connection.connection_id, context["requestId"]
            connection.post(error_frame("Internal server error", cid, request_id))
        elif route in self.config.route_responses and mock.response is not None:
            connection.post(mapping.render(mock.response, context))

    async def _invoke_within_timeout(self, route: str, event: dict[str, Any]) -> Any:
        """The route's result, or TimeoutError past the integration timeout; as on AWS,
        the invocation itself is not cancelled."""
        return await asyncio.wait_for(
            asyncio.shield(self.invoker.invoke(route, event)),
            self.config.limits.integration_timeout_s,
        )

    async def _disconnect(self, peer: events.Peer, code: int, reason: str) -> None:
        if "$disconnect" not in self.config.routes:
            self.unrouted.saw("$disconnect")
            return  # none, or a MOCK one: nothing to invoke
        event = events.disconnect(peer, ids.request_id(), code, reason, ids.now_ms())
        try:
            await self.invoker.invoke("$disconnect", event)
        except HandlerFailed:
            log.warning("$disconnect failed for %s", peer.connection_id)
