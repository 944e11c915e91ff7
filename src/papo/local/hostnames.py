"""The API's own AWS address, `{apiId}.execute-api.{region}.amazonaws.com`, leading
to the emulator inside the processes that run handlers.

Code written for AWS may build the Management API's address from the event's
`apiId` and the function's region rather than from its `domainName`; Chalice
does (`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`), and so
does a handler that hard-codes its deployed API's id. Under `papo serve` that
name resolves, in handlers' processes only, to the emulator's https address:
papo wraps `socket.getaddrinfo` there, and answers this one name on port 443
with the emulator's TLS host and port. The certificate papo makes names the
host, and handlers trust it through `AWS_CA_BUNDLE`, so TLS verifies as on
AWS. Every other name, and this name on any other port, resolves as before.

Why name resolution and not an HTTPS proxy given through `HTTPS_PROXY`: every
HTTP client reads that variable (boto3, requests, urllib, httpx and so the
openai SDK, and any subprocess), so every https call of a handler, to OpenAI
or to real AWS services, would pass through papo, with papo's latency and
failure modes; a developer's own proxy would be replaced; and `NO_PROXY` is
read differently by each client. The wrapper changes the answer for one name
and nothing else observes it. What it does not reach: a subprocess of a
handler (the AWS CLI, say) and clients with a resolver of their own (aiodns,
curl), which see the real name, as they would without papo.

`socket.getaddrinfo` belongs to the whole process; so does this table. Each
emulator adds its name while it serves and takes it away when it stops; the
newest entry for a name wins, and the wrapper leaves once the table is empty.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

Address = tuple[str, int]

HTTPS_PORT = 443

_lock = threading.Lock()
_entries: list[tuple[str, Address]] = []
_ORIGINAL: Callable[..., Any] = socket.getaddrinfo
_system: Callable[..., Any] | None = None
"""`socket.getaddrinfo` as it was before the wrapper, while the wrapper is in place."""


def execute_api_host(api_id: str, region: str) -> str:
    """The host API Gateway gives an API, as Chalice and AWS's SDKs build it."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{api_id}.execute-api.{region}.{suffix}".lower()


def _port_number(port: object) -> int | None:
    if isinstance(port, bytes):
        port = port.decode("ascii", "replace")
    if isinstance(port, int):
        return port
    if isinstance(port, str):
        if port.isdigit():
            return int(port)
        if port == "https":
            return HTTPS_PORT
    return None


def address_for(host: object, port: object) -> Address | None:
    """The emulator's address for `host` on `port`, when an emulator claims it."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str) or _port_number(port) != HTTPS_PORT:
        return None
    name = host.lower().rstrip(".")
    for claimed, address in reversed(_entries):
        if claimed == name:
            return address
    return None


def _getaddrinfo(
    host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
) -> Any:
    system = _system or _ORIGINAL
    target = address_for(host, port)
    if target is not None:
        host, port = target
    return system(host, port, family, type, proto, flags)


def claim(host: str, address: Address) -> Callable[[], None]:
    """Resolves `host`, port 443, to `address` in this process; returns what undoes it."""
    global _system
    entry = (host.lower().rstrip("."), address)
    with _lock:
        if _system is None:
            _system = socket.getaddrinfo
            socket.getaddrinfo = _getaddrinfo
        _entries.append(entry)

    def release() -> None:
        global _system
        with _lock:
            if entry in _entries:
                _entries.remove(entry)
            if not _entries and _system is not None and socket.getaddrinfo is _getaddrinfo:
                socket.getaddrinfo = _system
                _system = None

    return release
