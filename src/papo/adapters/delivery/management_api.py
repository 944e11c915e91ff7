"""A lean client of API Gateway's Management API (`@connections`).

It speaks the same HTTP as boto3's `apigatewaymanagementapi` client, with
boto3's semantics (410 means the connection is gone; throttling and 5xx
answers are retried with backoff and jitter; a dropped keep-alive connection
is reopened), at a fraction of its CPU: one persistent connection per thread
(`papo.adapters.delivery.http11`) and a cached SigV4 signer. The client knows
only its transport: HTTP/1.1 over the network unless it is handed another.
"""

from __future__ import annotations

import logging
import os
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from papo.adapters.delivery.http11 import HttpConnection, NotSent, ProtocolError
from papo.adapters.delivery.sigv4 import SigV4Signer

logger = logging.getLogger(__name__)

_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_ATTEMPTS = 10
"""Tries of one call answered 429 or 5xx. More than boto3's 3: a big fan-out
meets the account's throttle (10,000 calls a second) for as long as it takes
to post to everyone, and every frame that can be delivered must be; with the
waits below, a frame is given up after some 11 s at the worst."""
_BASE_BACKOFF_S = 0.05
MAX_BACKOFF_S = 2.0
_CONTENT_TYPE = {"Content-Type": "application/json"}


def sent_again(status: int, attempt: int) -> bool:
    """Whether a call answered `status` at its `attempt`th try is sent again
    (after `backoff_s(attempt)`): throttling and 5xx, up to `MAX_ATTEMPTS` tries."""
    return status in _RETRYABLE_STATUS and attempt < MAX_ATTEMPTS


def backoff_s(attempt: int) -> float:
    """How long to wait before sending again after the `attempt`th answer was
    429 or 5xx: full jitter, as botocore's standard retry mode, up to
    `MAX_BACKOFF_S`, so that throttled callers spread out and none waits long."""
    return random.uniform(0, min(MAX_BACKOFF_S, _BASE_BACKOFF_S * 2**attempt))


class GoneError(Exception):
    """The connection is gone (410 GoneException)."""


class ManagementApiError(Exception):
    """Any other failed call; `status` is 0 when no answer came."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Endpoint:
    scheme: str
    host: str
    """The Host header: the name, and the port when the URL gives one."""
    hostname: str
    port: int
    base_path: str

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """`https://{domainName}/{stage}`, as a handler builds it from its event."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) endpoint: {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.netloc, parts.hostname, port, parts.path.rstrip("/"))

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{self.base_path}"

    def path(self, connection_id: str) -> str:
        return f"{self.base_path}/@connections/{quote(connection_id, safe='')}"


Transport = Callable[[str, str, bytes], tuple[int, bytes]]
"""How a call reaches the Management API: (method, connection id, body) ->
(status, answer body). A transport may raise `NotSent` when nothing was
served (the call is sent again), or another ProtocolError or an OSError when
no answer came and the call may have been served (it is not sent again)."""


class HttpTransport:
    """The Management API over the network: HTTP/1.1, one keep-alive
    connection per thread, each request signed when there is a signer."""

    def __init__(self, endpoint: Endpoint, signer: SigV4Signer | None, *, timeout_s: float) -> None:
        self.endpoint = endpoint
        self._signer = signer
        self.timeout_s = timeout_s
        self._local = threading.local()
        # One context for every thread's connection: building one loads the CA
        # bundle, some 30 ms of CPU. As boto3 does, AWS_CA_BUNDLE is trusted when set.
        self.tls = (
            ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or None)
            if endpoint.scheme == "https"
            else None
        )

    def __call__(self, method: str, connection_id: str, body: bytes) -> tuple[int, bytes]:
        conn = self._connection()
        try:
            return conn.request(self.head(method, connection_id, body), body)
        except NotSent:
            raise
        except (OSError, ProtocolError):
            conn.close()  # it may have been served: the next call opens another
            raise

    def head(self, method: str, connection_id: str, body: bytes) -> bytes:
        """A signed request's head, up to its blank line."""
        path = self.endpoint.path(connection_id)
        base = _CONTENT_TYPE if body else {}
        headers = base
        if self._signer is not None:
            headers = {**base, **self._signer.sign(method, self.endpoint.host, path, body, base)}
        return "".join(
            (
                f"{method} {path} HTTP/1.1\r\nHost: {self.endpoint.host}\r\n",
                f"Content-Length: {len(body)}\r\n" if body else "",
                *(f"{name}: {value}\r\n" for name, value in headers.items()),
                "\r\n",
            )
        ).encode()

    def close(self) -> None:
        conn: HttpConnection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()

    def _connection(self) -> HttpConnection:
        conn: HttpConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = HttpConnection(
                self.endpoint.hostname, self.endpoint.port, tls=self.tls, timeout_s=self.timeout_s
            )
            self._local.conn = conn
        return conn


class ManagementApiClient:
    """Calls to one Management API endpoint, with boto3's semantics whatever
    carries them: over the network by default (`HttpTransport`), or through
    the `transport` given (as httpx's `Client(transport=...)`), which is how
    `papo serve` hands its handlers its Management API in process."""

    def __init__(
        self,
        endpoint: Endpoint,
        signer: SigV4Signer | None,
        *,
        timeout_s: float = 10.0,
        transport: Transport | None = None,
        backoff: Callable[[int], float] = backoff_s,
    ) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.backoff = backoff
        """Seconds to wait before sending a call again after its `attempt`th try."""
        """How long a call may wait for its connection, and then for its answer."""
        self.http: HttpTransport | None = None
        """The transport over the network, when calls go that way (then a fan-out
        may keep many posts in flight on connections of its own); None when
        another transport was given."""
        if transport is None:
            transport = self.http = HttpTransport(endpoint, signer, timeout_s=timeout_s)
        self.transport = transport

    def post(self, connection_id: str, data: bytes) -> None:
        self._call("POST", connection_id, data)

    def delete(self, connection_id: str) -> None:
        self._call("DELETE", connection_id, b"")

    def get(self, connection_id: str) -> bytes:
        return self._call("GET", connection_id, b"")

    def close(self) -> None:
        if self.http is not None:
            self.http.close()

    def _call(self, method: str, connection_id: str, body: bytes) -> bytes:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                status, answer = self.transport(method, connection_id, body)
            except NotSent as error:
                if attempt == MAX_ATTEMPTS:
                    raise ManagementApiError(0, repr(error)) from error
                continue
            except (OSError, ProtocolError) as error:  # it may have been served: not sent again
                raise ManagementApiError(0, repr(error)) from error
            if not sent_again(status, attempt):
                return self.answer(connection_id, status, answer)
            time.sleep(self.backoff(attempt))
        raise AssertionError("unreachable")

    @staticmethod
    def answer(connection_id: str, status: int, answer: bytes) -> bytes:
        if status == 410:
            raise GoneError(connection_id)
        if 200 <= status < 300:
            return answer
        raise ManagementApiError(status, answer[:500].decode(errors="replace"))
