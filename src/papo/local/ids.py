"""Ids and times in API Gateway's own forms."""

from __future__ import annotations

import base64
import secrets
import time


def connection_id() -> str:
    """Like `VNRUSeldSwMCIRQ=`: 11 random bytes, base64."""
    return base64.b64encode(secrets.token_bytes(11)).decode()


def request_id() -> str:
    """Like `VNRUSeldSwMCIRQ=` too."""
    return base64.b64encode(secrets.token_bytes(11)).decode()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def request_time(epoch_ms: int) -> str:
    """Like `13/Dec/2020:10:17:47 +0000`."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_ms / 1000))


def iso8601(epoch_ms: int) -> str:
    """Like `2020-12-13T10:17:47.123Z`, as `GET @connections` answers."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_ms / 1000))
    return f"{whole}.{epoch_ms % 1000:03d}Z"
