"""A local stand-in for API Gateway's Management API, for benchmarks.

One asyncio process on loopback answers `POST /{stage}/@connections/{id}`
after a delay per post (as API Gateway answers a Lambda 10 to 30 ms away),
plain or over TLS, with 429, 5xx or 410 at given rates. It checks what
arrives: every frame carries `"n"`, its number in its connection's
envelope, so frames that come twice or out of order are counted.
`GET /stats` answers what it saw (and `POST /stats` starts afresh).

It does not check signatures: its CPU is the bench's, not the client's.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field

_PATH = re.compile(rb"^(?:POST|GET|DELETE) /[^/]+/@connections/([^ ]+) HTTP/1\.1$")


@dataclass
class Behaviour:
    delay_s: float = 0.02
    errors: dict[int, float] = field(default_factory=dict)
    """Status → the share of posts answered with it (410: the connection is gone from then)."""
    seed: int = 1


@dataclass
class Seen:
    statuses: Counter[int] = field(default_factory=Counter)
    delivered: int = 0
    twice: int = 0
    out_of_order: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    connections: int = 0
    first_at: float = 0.0
    last_at: float = 0.0
    """time.monotonic() of the first and last delivery (system-wide on Linux)."""
    last_n: dict[bytes, int] = field(default_factory=dict)
    gone: set[bytes] = field(default_factory=set)
    cpu_at_start: float = field(default_factory=time.process_time)

    def summary(self) -> dict[str, object]:
        return {
            "statuses": dict(self.statuses),
            "delivered": self.delivered,
            "twice": self.twice,
            "out_of_order": self.out_of_order,
            "max_in_flight": self.max_in_flight,
            "connections": self.connections,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "gone": len(self.gone),
            "cpu_s": time.process_time() - self.cpu_at_start,
        }


class _Server(asyncio.Protocol):
    def __init__(self, behaviour: Behaviour, seen: Seen, rng: random.Random) -> None:
        self.behaviour, self.seen, self.rng = behaviour, seen, rng
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.seen.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buffer[:end])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            self._request(head.split(b"\r\n", 1)[0], body)

    def _request(self, line: bytes, body: bytes) -> None:
        if line.startswith(b"GET /stats"):
            self._answer(200, json.dumps(self.seen.summary()).encode())
            return
        if line.startswith(b"POST /stats"):
            self.seen.__init__()  # type: ignore[misc]
            self._answer(204, b"")
            return
        match = _PATH.match(line)
        if match is None:
            self._answer(404, b'{"message": "Not Found"}')
            return
        seen = self.seen
        seen.in_flight += 1
        seen.max_in_flight = max(seen.max_in_flight, seen.in_flight)
        loop = asyncio.get_running_loop()
        loop.call_later(self.behaviour.delay_s, self._answer_post, match[1], body)

    def _answer_post(self, connection: bytes, body: bytes) -> None:
        seen = self.seen
        seen.in_flight -= 1
        status = 410 if connection in seen.gone else self._scripted()
        if status == 410:
            seen.gone.add(connection)
        if status == 200:
            n = int(json.loads(body).get("n", 0))
            last = seen.last_n.get(connection, 0)
            if n == last:
                seen.twice += 1
            elif n < last:
                seen.out_of_order += 1
            seen.last_n[connection] = max(n, last)
            seen.delivered += 1
            seen.last_at = time.monotonic()
            seen.first_at = seen.first_at or seen.last_at
        seen.statuses[status] += 1
        self._answer(status, b"" if status == 200 else b'{"message": "scripted"}')

    def _scripted(self) -> int:
        roll = self.rng.random()
        for status, share in self.behaviour.errors.items():
            if roll < share:
                return status
            roll -= share
        return 200

    def _answer(self, status: int, body: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(
            b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (status, len(body), body)
        )

    def connection_lost(self, _: Exception | None) -> None:
        self.transport = None


def serve(
    behaviour: Behaviour,
    ready: object,
    tls_files: tuple[str, str] | None = None,
) -> None:
    """Serves on a free loopback port until killed; puts the port on `ready` (a queue)."""
    seen, rng = Seen(), random.Random(behaviour.seed)
    context = None
    if tls_files is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls_files)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Server(behaviour, seen, rng), "127.0.0.1", 0, ssl=context, backlog=4096
        )
        ready.put(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        await server.serve_forever()

    asyncio.run(main())
