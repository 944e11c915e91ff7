"""A minimal keep-alive HTTP/1.1 client, for small JSON calls.

`http.client` spends most of a Management API call's client CPU building the
request piece by piece and parsing the answer's headers with the `email`
package (about 80 µs a call on this machine); this sends each request in one
write and reads only what a client of API Gateway needs from the answer:
the status, `Content-Length` or chunked framing, and `Connection: close`.

`AnswerReader` reads answers from bytes as they come, with no I/O of its own:
the blocking `HttpConnection` here and the asyncio one
(`papo.adapters.delivery.aio`) both feed it.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass


class ProtocolError(Exception):
    """The server's answer was not HTTP/1.1 as expected, or the connection dropped."""


class BadAnswer(ProtocolError):
    """An answer came, but not one that can be read: the request did arrive,
    so sending it again could repeat it."""


class NotSent(ProtocolError):
    """The request cannot have been served: it could not be written whole, or
    a kept-alive connection closed before a byte of the answer came (the
    server had closed it as idle). Sending it again repeats nothing."""


_MAX_HEAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    close: bool
    """The server closes the connection after this answer."""


def _length(value: bytes, base: int = 10) -> int:
    """A `Content-Length` or chunk size, or BadAnswer if it is not one."""
    try:
        length = int(value.strip(), base)
    except ValueError:
        raise BadAnswer(f"bad length {value[:40]!r}") from None
    if length < 0:
        raise BadAnswer(f"bad length {value[:40]!r}")
    return length


@dataclass(frozen=True, slots=True)
class _Head:
    status: int
    length: int | None
    chunked: bool
    close: bool


def _parse_head(head: bytes) -> _Head:
    lines = head.split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    if not version.startswith(b"HTTP/1.") or len(rest) < 3 or not rest[:3].isdigit():
        raise BadAnswer(f"bad status line {lines[0][:80]!r}")
    status = int(rest[:3])
    length: int | None = None
    chunked = False
    close = version == b"HTTP/1.0"
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = _length(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            token = value.strip().lower()
            close = token == b"close" or (close and token != b"keep-alive")
    if status in (204, 304) or 100 <= status < 200:
        length = 0
    return _Head(status, length, chunked, close)


def _chunked(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    """The body of a chunked answer from `start`, and where it ends; None when
    not all of it has come."""
    parts: list[bytes] = []
    at = start
    while True:
        end = buffer.find(b"\r\n", at)
        if end < 0:
            return None
        size = _length(bytes(buffer[at:end]).split(b";")[0], 16)
        at = end + 2
        if size == 0:
            while True:  # trailers, up to the blank line
                end = buffer.find(b"\r\n", at)
                if end < 0:
                    return None
                blank, at = end == at, end + 2
                if blank:
                    return b"".join(parts), at
        if len(buffer) < at + size + 2:
            return None
        parts.append(bytes(buffer[at : at + size]))
        at += size + 2


class AnswerReader:
    """Answers, one after another, from the bytes of a connection as they come."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._head: _Head | None = None
        self._body_at = 0

    @property
    def started(self) -> bool:
        """Whether any byte of the next answer has come."""
        return bool(self._buffer)

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def clear(self) -> None:
        self._buffer.clear()
        self._head = None

    def answer(self, eof: bool = False) -> Answer | None:
        """The next whole answer, taken from what was fed; None until it has all
        come. `eof`: the server has closed the connection. Raises BadAnswer."""
        buffer = self._buffer
        if self._head is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_HEAD:
                    raise BadAnswer("response head too large")
                if eof and buffer:
                    raise BadAnswer("connection closed within the answer")
                return None
            self._head, self._body_at = _parse_head(bytes(buffer[:end])), end + 4
        head, start = self._head, self._body_at
        if head.chunked:
            found = _chunked(buffer, start)
            if found is None:
                return self._incomplete(eof)
            body, end = found
        elif head.length is not None:
            end = start + head.length
            if len(buffer) < end:
                return self._incomplete(eof)
            body = bytes(buffer[start:end])
        elif eof:
            body, end = bytes(buffer[start:]), len(buffer)
        else:
            return None
        del buffer[:end]
        self._head = None
        return Answer(head.status, body, head.close or (head.length is None and not head.chunked))

    @staticmethod
    def _incomplete(eof: bool) -> None:
        if eof:
            raise BadAnswer("connection closed within the answer")


class HttpConnection:
    """One keep-alive connection, blocking, used by one thread at a time."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self._tls = tls
        self._timeout_s = timeout_s
        self._sock: socket.socket | None = None
        self._reader = AnswerReader()
        self._served = 0
        """Answers read on the open connection: after one, it is a kept-alive one."""

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._reader.clear()
        self._served = 0

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self._timeout_s)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except OSError as error:
            raise NotSent(f"could not connect: {error!r}") from error
        self._sock = sock
        return sock

    def request(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        """Sends a request (`head` ends with the blank line) and reads the answer.

        Raises NotSent when sending it again is safe, another ProtocolError
        or an OSError (a timeout) when it may have been served."""
        sock = self._sock or self._connect()
        try:
            sock.sendall(head + body if len(body) < 16384 else head)
            if len(body) >= 16384:
                sock.sendall(body)
        except OSError as error:
            self.close()
            raise NotSent(f"could not send: {error!r}") from error
        try:
            answer = self._read(sock)
        except BaseException:
            self.close()
            raise
        self._served += 1
        if answer.close:
            self.close()
        return answer.status, answer.body

    def _read(self, sock: socket.socket) -> Answer:
        reader = self._reader
        try:
            while (answer := reader.answer()) is None:
                data = sock.recv(65536)
                if not data:
                    answer = reader.answer(eof=True)
                    if answer is None:
                        raise self._dropped()
                    return answer
                reader.feed(data)
        except ConnectionResetError as error:
            if reader.started:
                raise
            raise self._dropped() from error
        return answer

    def _dropped(self) -> ProtocolError:
        if self._served:
            return NotSent("the kept-alive connection was closed by the server")
        return ProtocolError("connection closed by the server before answering")
