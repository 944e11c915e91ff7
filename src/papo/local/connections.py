"""The open WebSocket connections, as API Gateway keeps them."""

from __future__ import annotations

import asyncio
import contextlib
import types
from collections import deque
from collections.abc import Awaitable, Coroutine, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from papo.local import ids
from papo.local.events import Peer


def _run_eagerly(coroutine: Coroutine[Any, Any, None]) -> Awaitable[None] | None:
    """Runs `coroutine` here and now, up to its first wait: None when it finished
    without one, else what carries it on from there, to be awaited.

    What asyncio's eager tasks do (Python 3.12): a frame that the ASGI server
    writes at once, as it does unless the client is slow to read, costs no
    task and no turn of the event loop."""
    try:
        waiting_on = coroutine.send(None)
    except StopIteration:
        return None
    return _carry_on(coroutine, waiting_on)


@types.coroutine
def _carry_on(coroutine: Coroutine[Any, Any, None], waiting_on: Any) -> Generator[Any, None, None]:
    """Hands what `coroutine` waits on to the task awaiting this, as the coroutine
    would have, then lets the coroutine carry on from where it stopped."""
    try:
        yield waiting_on
    except BaseException:
        coroutine.close()
        raise
    yield from coroutine


@dataclass
class LiveConnection:
    peer: Peer
    websocket: WebSocket
    last_active_at: int = field(default_factory=ids.now_ms)
    closing: bool = False
    _outbox: deque[str | bytes] = field(default_factory=deque)
    """Frames posted while an earlier one waits for the client to read."""
    _writer: asyncio.Task[None] | None = None
    """Writes the outbox out, while there is one."""

    @property
    def connection_id(self) -> str:
        return self.peer.connection_id

    def touch(self) -> None:
        self.last_active_at = ids.now_ms()

    def post(self, data: str | bytes) -> bool:
        """Writes a frame (on the event loop's thread); False when the connection
        is closing or closed.

        As on AWS, a post is accepted before it is written: the frame goes out
        at once when nothing waits before it, else after what waits, so that
        frames go out in the order they were posted and a client slow to read
        holds up nobody else.
        """
        if self.closing:
            return False
        if self._writer is not None:
            self._outbox.append(data)
            return True
        rest = _run_eagerly(self._write(data))
        if rest is not None:
            self._writer = asyncio.get_running_loop().create_task(self._write_outbox(rest))
        return True

    async def _write_outbox(self, first: Awaitable[None]) -> None:
        try:
            await first
            while self._outbox and not self.closing:
                await self._write(self._outbox.popleft())
        finally:
            self._writer = None

    async def _write(self, data: str | bytes) -> None:
        message = (
            {"type": "websocket.send", "text": data}
            if isinstance(data, str)
            else {"type": "websocket.send", "bytes": data}
        )
        try:
            await self.websocket.send(message)
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The client closed meanwhile: for the Management API, it is gone.
            self.closing = True
            self._outbox.clear()
            return
        self.touch()

    def closed(self) -> None:
        """The socket has closed: posts are refused, and frames not yet written dropped."""
        self.closing = True
        self._outbox.clear()
        if self._writer is not None:
            self._writer.cancel()

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
