"""The open WebSocket connections, as API Gateway keeps them."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from papo.local import ids
from papo.local.events import Peer


@dataclass
class LiveConnection:
    peer: Peer
    websocket: WebSocket
    last_active_at: int = field(default_factory=ids.now_ms)
    closing: bool = False
    _send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _outbox: deque[str | bytes] = field(default_factory=deque)
    _posted: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def connection_id(self) -> str:
        return self.peer.connection_id

    def touch(self) -> None:
        self.last_active_at = ids.now_ms()

    async def send(self, data: str | bytes) -> bool:
        """Sends one frame; False when the connection is closing or closed."""
        if self.closing or self.websocket.application_state != WebSocketState.CONNECTED:
            return False
        async with self._send_lock:
            try:
                if isinstance(data, str):
                    await self.websocket.send_text(data)
                else:
                    await self.websocket.send_bytes(data)
            except (WebSocketDisconnect, RuntimeError, OSError):
                # The client closed meanwhile: for the Management API, it is gone.
                self.closing = True
                return False
        self.touch()
        return True

    def post(self, data: str | bytes) -> bool:
        """Queues a frame posted through the Management API (on the event loop's thread).

        As on AWS, a post is accepted before it is written; one writer per
        connection keeps the frames in the order they were posted.
        """
        if self.closing:
            return False
        self._outbox.append(data)
        self._posted.set()
        return True

    async def write_posts(self) -> None:
        """Writes posted frames until the connection closes; run as the connection's task."""
        while True:
            await self._posted.wait()
            self._posted.clear()
            while self._outbox:
                if not await self.send(self._outbox.popleft()):
                    self._outbox.clear()
                    return

    async def close(self, code: int, reason: str = "") -> None:
        if self.closing:
            return
        self.closing = True
        if self.websocket.application_state == WebSocketState.CONNECTED:
            # The peer may have gone in the meantime; then there is nothing to close.
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self.websocket.close(code, reason)


class Registry:
    def __init__(self) -> None:
        self._open: dict[str, LiveConnection] = {}

    def add(self, connection: LiveConnection) -> None:
        self._open[connection.connection_id] = connection

    def remove(self, connection_id: str) -> None:
        self._open.pop(connection_id, None)

    def get(self, connection_id: str) -> LiveConnection | None:
        connection = self._open.get(connection_id)
        return None if connection is None or connection.closing else connection

    def __iter__(self) -> Iterator[LiveConnection]:
        """The open connections, as `GET @connections` would find them one by one."""
        return iter([c for c in list(self._open.values()) if not c.closing])
