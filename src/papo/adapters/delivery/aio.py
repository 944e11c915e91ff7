"""A keep-alive HTTP/1.1 client connection over asyncio, one request at a time.

A fan-out keeps many of these open on one event loop, one post in flight on
each: the same lean requests as `papo.adapters.delivery.http11`, whose
`AnswerReader` reads the answers, with no thread per connection. asyncio's
`Protocol` interface (callbacks, no stream objects) keeps the CPU a post
costs close to the blocking client's.
"""

from __future__ import annotations

import asyncio
import ssl

from papo.adapters.delivery.http11 import Answer, AnswerReader, NotSent, ProtocolError


class AsyncHttpConnection(asyncio.Protocol):
    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._reader = AnswerReader()
        self._waiter: asyncio.Future[Answer] | None = None
        self._served = 0

    @classmethod
    async def open(
        cls, host: str, port: int, *, tls: ssl.SSLContext | None, timeout_s: float
    ) -> AsyncHttpConnection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout_s):
                _, conn = await loop.create_connection(
                    cls, host, port, ssl=tls, server_hostname=host if tls else None
                )
        except (OSError, TimeoutError) as error:
            raise NotSent(f"could not connect: {error!r}") from error
        return conn

    @property
    def is_open(self) -> bool:
        return self._transport is not None

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def request(self, head: bytes, body: bytes, timeout_s: float) -> Answer:
        """Sends a request and waits for its answer: NotSent when sending it again
        is safe, another ProtocolError or TimeoutError when it may have been served."""
        transport = self._transport
        if transport is None or transport.is_closing():
            raise NotSent("the connection is closed")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Answer] = loop.create_future()
        self._waiter = waiter
        transport.write(head + body)
        timer = loop.call_later(timeout_s, self._time_out, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    def _time_out(self, waiter: asyncio.Future[Answer]) -> None:
        if not waiter.done():
            waiter.set_exception(TimeoutError("no answer in time"))
            self._waiter = None
            self.close()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        self._deliver(eof=False)

    def eof_received(self) -> bool:
        self._deliver(eof=True)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(self._dropped(exc))

    def _deliver(self, eof: bool) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            if eof or self._reader.started:  # bytes nobody asked for: not HTTP as expected
                self.close()
            return
        try:
            answer = self._reader.answer(eof=eof)
        except ProtocolError as error:
            self._waiter = None
            waiter.set_exception(error)
            self.close()
            return
        if answer is None:
            if eof:
                self._waiter = None
                waiter.set_exception(self._dropped(None))
                self.close()
            return
        self._waiter = None
        self._served += 1
        waiter.set_result(answer)
        if answer.close:
            self.close()

    def _dropped(self, exc: Exception | None) -> ProtocolError:
        if self._served and not self._reader.started:
            return NotSent("the kept-alive connection was closed by the server")
        return ProtocolError(f"connection closed before answering: {exc!r}")
