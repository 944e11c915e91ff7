"""A minimal keep-alive HTTP/1.1 client connection, for small JSON calls.

`http.client` spends most of a Management API call's client CPU building the
request piece by piece and parsing the answer's headers with the `email`
package (about 80 µs a call on this machine); this sends each request in one
write and reads only what a client of API Gateway needs from the answer:
the status, `Content-Length` or chunked framing, and `Connection: close`.
"""

from __future__ import annotations

import socket
import ssl


class ProtocolError(Exception):
    """The server's answer was not HTTP/1.1 as expected, or the connection dropped."""


_MAX_HEAD = 64 * 1024


class HttpConnection:
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
        self._buffer = bytearray()

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buffer.clear()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self._timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        self._sock = sock
        return sock

    def request(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        """Sends a request (`head` ends with the blank line) and reads the answer."""
        sock = self._sock or self._connect()
        sock.sendall(head + body if len(body) < 16384 else head)
        if len(body) >= 16384:
            sock.sendall(body)
        status, length, chunked, close = self._read_head(sock)
        if chunked:
            answer = self._read_chunked(sock)
        elif length is not None:
            answer = self._read_exact(sock, length)
        else:
            answer = self._read_to_close(sock)
            close = True
        if close:
            self.close()
        return status, answer

    def _fill(self, sock: socket.socket) -> None:
        data = sock.recv(65536)
        if not data:
            raise ProtocolError("connection closed by the server")
        self._buffer += data

    def _read_head(self, sock: socket.socket) -> tuple[int, int | None, bool, bool]:
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self._buffer) > _MAX_HEAD:
                raise ProtocolError("response head too large")
            self._fill(sock)
        lines = bytes(self._buffer[:end]).split(b"\r\n")
        del self._buffer[: end + 4]
        version, _, rest = lines[0].partition(b" ")
        if not version.startswith(b"HTTP/1.") or len(rest) < 3 or not rest[:3].isdigit():
            raise ProtocolError(f"bad status line {lines[0][:80]!r}")
        status = int(rest[:3])
        length: int | None = None
        chunked = False
        close = version == b"HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                token = value.strip().lower()
                close = token == b"close" or (close and token != b"keep-alive")
        if status in (204, 304) or 100 <= status < 200:
            length = 0
        return status, length, chunked, close

    def _read_exact(self, sock: socket.socket, length: int) -> bytes:
        while len(self._buffer) < length:
            self._fill(sock)
        data = bytes(self._buffer[:length])
        del self._buffer[:length]
        return data

    def _read_line(self, sock: socket.socket) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            self._fill(sock)
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    def _read_chunked(self, sock: socket.socket) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self._read_line(sock).split(b";")[0], 16)
            if size == 0:
                while self._read_line(sock):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self._read_exact(sock, size))
            self._read_exact(sock, 2)

    def _read_to_close(self, sock: socket.socket) -> bytes:
        while data := sock.recv(65536):
            self._buffer += data
        answer = bytes(self._buffer)
        self._buffer.clear()
        return answer
