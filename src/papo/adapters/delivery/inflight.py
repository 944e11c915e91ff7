"""Many posts in flight on one asyncio loop, each on its own keep-alive connection.

Each post is a round trip to API Gateway (10 to 30 ms from Lambda), nearly all
of it waiting, so a fan-out's time is its round trips divided by the posts
in flight. Here they wait on an asyncio loop of its own (a thread, kept with
its connections for the container's next invocations), with no thread per
post: `bench/aws_fanout.py` measures this against as many threads
(docs/benchmarks.md). Imported at the first fan-out, so that invocations that post to
one connection or none never load asyncio.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from papo.adapters.delivery.aio import AsyncHttpConnection
from papo.adapters.delivery.http11 import NotSent, ProtocolError
from papo.adapters.delivery.management_api import MAX_ATTEMPTS, HttpTransport, sent_again
from papo.core.ports import Envelope

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Recipient:
    envelope: Envelope
    next_frame: int = 0
    attempts: int = 0
    """Attempts at its next frame so far."""


class _Work:
    """The recipients of one fan-out: those ready to post, and those waiting out
    a backoff, which hold no connection meanwhile."""

    def __init__(self, envelopes: Sequence[Envelope]) -> None:
        self.ready = deque(_Recipient(e) for e in envelopes)
        self.unfinished = len(envelopes)
        self.gone: set[str] = set()
        self._idle: deque[asyncio.Future[None]] = deque()

    async def take(self) -> _Recipient | None:
        """The next recipient ready to post, or None when every one is done."""
        while not self.ready:
            if not self.unfinished:
                return None
            idle = asyncio.get_running_loop().create_future()
            self._idle.append(idle)
            await idle
        return self.ready.popleft()

    def later(self, recipient: _Recipient, delay_s: float) -> None:
        asyncio.get_running_loop().call_later(delay_s, self._back, recipient)

    def done(self, _: _Recipient) -> None:
        self.unfinished -= 1
        if not self.unfinished:
            while self._idle:
                self._wake()

    def _back(self, recipient: _Recipient) -> None:
        self.ready.append(recipient)
        self._wake()

    def _wake(self) -> None:
        while self._idle:
            idle = self._idle.popleft()
            if not idle.done():
                idle.set_result(None)
                return


class InFlight:
    """Posts batches of envelopes with up to `max_in_flight` posts at once.

    An envelope's frames go out in order, each after the last was answered.
    A recipient whose post is throttled (429) or fails (5xx) waits out its
    backoff holding no connection, so nobody else waits for it; a connection
    found gone (410) gets no more; any other failure is logged and skips only
    that frame. A post that may have been served (a timeout, an unreadable
    answer) is never sent again.
    """

    def __init__(
        self,
        http: HttpTransport,
        max_in_flight: int,
        *,
        timeout_s: float,
        backoff: Callable[[int], float],
    ) -> None:
        self.http = http
        self._max_in_flight = max_in_flight
        self._timeout_s = timeout_s
        self._backoff = backoff
        self._idle: list[AsyncHttpConnection] = []
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="papo-fanout", daemon=True).start()

    def send(self, envelopes: Sequence[Envelope]) -> set[str]:
        """Posts them all (from any thread but the loop's); returns the connections found gone."""
        return asyncio.run_coroutine_threadsafe(self._fanout(envelopes), self._loop).result()

    def shutdown(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close_all(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _close_all(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()

    async def _fanout(self, envelopes: Sequence[Envelope]) -> set[str]:
        work = _Work(envelopes)
        workers = min(self._max_in_flight, len(envelopes))
        await asyncio.gather(*(self._worker(work) for _ in range(workers)))
        return work.gone

    async def _worker(self, work: _Work) -> None:
        conn = self._idle.pop() if self._idle else None
        try:
            while (recipient := await work.take()) is not None:
                conn = await self._post(recipient, conn, work)
        finally:
            if conn is not None and conn.is_open and len(self._idle) < self._max_in_flight:
                self._idle.append(conn)

    async def _post(
        self, recipient: _Recipient, conn: AsyncHttpConnection | None, work: _Work
    ) -> AsyncHttpConnection | None:
        """Posts the recipient's frames in order until they are all out, the
        connection is gone, or a backoff sends it to wait; returns the HTTP
        connection to go on with."""
        http, envelope = self.http, recipient.envelope
        cid = envelope.connection_id
        while recipient.next_frame < len(envelope.frames):
            frame = envelope.frames[recipient.next_frame]
            recipient.attempts += 1
            try:
                if conn is None or not conn.is_open:
                    conn = None
                    conn = await AsyncHttpConnection.open(
                        http.endpoint.hostname,
                        http.endpoint.port,
                        tls=http.tls,
                        timeout_s=self._timeout_s,
                    )
                answer = await conn.request(http.head("POST", cid, frame), frame, self._timeout_s)
            except NotSent as error:
                if recipient.attempts < MAX_ATTEMPTS:
                    continue
                self._skip(recipient, 0, repr(error))
                continue
            except (OSError, ProtocolError) as error:
                if conn is not None:
                    conn.close()
                self._skip(recipient, 0, repr(error))
                continue
            except Exception:
                logger.exception("post failed", extra={"connection_id": cid})
                self._skip(recipient, None, "")
                continue
            status = answer.status
            if 200 <= status < 300:
                recipient.next_frame += 1
                recipient.attempts = 0
            elif status == 410:
                work.gone.add(cid)
                break
            elif sent_again(status, recipient.attempts):
                work.later(recipient, self._backoff(recipient.attempts))
                return conn
            else:
                self._skip(recipient, status, answer.body[:500].decode(errors="replace"))
        work.done(recipient)
        return conn

    @staticmethod
    def _skip(recipient: _Recipient, status: int | None, detail: str) -> None:
        if status is not None:
            _failed(recipient.envelope.connection_id, status, detail)
        recipient.next_frame += 1
        recipient.attempts = 0


def _failed(connection_id: str, status: int, detail: str) -> None:
    logger.warning(
        "post failed", extra={"connection_id": connection_id, "status": status, "detail": detail}
    )
