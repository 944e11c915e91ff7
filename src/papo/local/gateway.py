"""The WebSocket side of the emulated API: handshakes, routing, limits, error frames."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.responses import Response
from starlette.websockets import WebSocket

from papo.local import events, ids
from papo.local.config import ApiConfig
from papo.local.connections import LiveConnection, Registry
from papo.local.invoker import HandlerFailed, Invoker

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
        self._tasks: set[asyncio.Task[None]] = set()

    def select_route(self, data: str | bytes) -> str | None:
        """The route for a message: by the selection expression, else `$default`."""
        routes = self.config.routes
        if isinstance(data, str):
            try:
                value: Any = json.loads(data)
            except ValueError:
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
        if not accepted:
            return
        await websocket.accept(subprotocol=subprotocol)
        connection = LiveConnection(peer, websocket)
        self.registry.add(connection)
        writer = asyncio.create_task(connection.write_posts())
        code, reason = await self._receive(connection)
        self.registry.remove(peer.connection_id)
        connection.closing = True
        writer.cancel()
        await self._disconnect(peer, code, reason)

    async def _connect(self, websocket: WebSocket, peer: events.Peer) -> tuple[bool, str | None]:
        """Runs `$connect`: whether to accept, and with which subprotocol."""
        if "$connect" not in self.config.routes:
            return True, None
        request_id = ids.request_id()
        event = events.connect(
            peer,
            request_id,
            [
                (header_name(k.decode("latin-1")), v.decode("latin-1"))
                for k, v in websocket.scope["headers"]
            ],
            list(websocket.query_params.multi_items()),
        )
        try:
            result = await self._invoke_within_timeout("$connect", event)
        except (HandlerFailed, TimeoutError):
            await websocket.send_denial_response(Response(status_code=502))
            return False, None
        status = result.get("statusCode", 200) if isinstance(result, dict) else 200
        if not 200 <= int(status) < 300:
            await websocket.send_denial_response(Response(status_code=int(status)))
            return False, None
        headers = result.get("headers") if isinstance(result, dict) else None
        for name, value in (headers or {}).items():
            if name.lower() == "sec-websocket-protocol":
                return True, str(value)
        return True, None

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
                message = await asyncio.wait_for(connection.websocket.receive(), wait_ms / 1000)
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
        if route is None:
            await connection.send(error_frame("Forbidden", cid, request_id))
            return
        event = events.message(connection.peer, route, request_id, data, ids.now_ms())
        try:
            result = await self._invoke_within_timeout(route, event)
        except TimeoutError:
            await connection.send(error_frame("Endpoint request timed out", cid, request_id))
        except HandlerFailed:
            await connection.send(error_frame("Internal server error", cid, request_id))
        else:
            body = result.get("body") if isinstance(result, dict) else None
            if route in self.config.route_responses and body is not None:
                await connection.send(str(body))

    async def _invoke_within_timeout(self, route: str, event: dict[str, Any]) -> Any:
        """The route's result, or TimeoutError past the integration timeout; as on AWS,
        the invocation itself is not cancelled."""
        return await asyncio.wait_for(
            asyncio.shield(self.invoker.invoke(route, event)),
            self.config.limits.integration_timeout_s,
        )

    async def _disconnect(self, peer: events.Peer, code: int, reason: str) -> None:
        if "$disconnect" not in self.config.routes:
            return
        event = events.disconnect(peer, ids.request_id(), code, reason, ids.now_ms())
        try:
            await self.invoker.invoke("$disconnect", event)
        except HandlerFailed:
            log.warning("$disconnect failed for %s", peer.connection_id)
