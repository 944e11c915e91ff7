"""The `@connections` Management API: POST, GET and DELETE a connection.

One set of rules, two ways in: HTTP (any client, boto3 included) and, for
handlers running in the emulator's own threads, an in-process transport that
skips HTTP but answers the same, handed to them in their Lambda context
(`papo.local.worker.LambdaContext.in_process_management_api`). Both ways meet
the account's throttle and the faults asked for (`papo.local.faults`) before
a call is served.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import deque
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from papo.local import admission, ids
from papo.local.config import ApiConfig, Throttle
from papo.local.connections import LiveConnection, Registry
from papo.local.faults import AccountThrottle, FaultDraws, Faults
from papo.local.signatures import Verifier

log = logging.getLogger("papo.local")

Answer = tuple[int, dict[str, str], bytes]
"""(status, headers, body)"""

_JSON = {"Content-Type": "application/json"}


def _error(status: int, error_type: str, message: str | None) -> Answer:
    """An error in the shape boto3 maps to `client.exceptions.<error_type>`."""
    body = json.dumps({"message": message}).encode()
    return status, {**_JSON, "x-amzn-ErrorType": error_type}, body


GONE = _error(410, "GoneException", None)
THROTTLED = _error(429, "TooManyRequestsException", "Too Many Requests")
"""The account's throttle, as API Gateway answers a throttled request."""
FAULTS: dict[int, Answer] = {
    410: GONE,
    429: _error(429, "LimitExceededException", "Too Many Requests"),
    500: _error(500, "InternalServerErrorException", "Internal server error"),
}
"""A faulted call's answer: the exceptions the Management API's model names
(boto3's `client.exceptions.LimitExceededException`), else API Gateway's own."""
GOING_AWAY = (1001, "Going away")


def _frame(data: bytes) -> str | bytes:
    """Posted data goes out as a text frame when it is UTF-8, else as binary."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data


class ManagementApi:
    def __init__(
        self,
        config: ApiConfig,
        registry: Registry,
        verifier: Verifier | None = None,
        *,
        faults: Faults | None = None,
        account_throttle: Throttle | None = None,
    ) -> None:
        self.config = config
        self.registry = registry
        self.verifier = verifier
        """When set, HTTP calls must be signed (`papo.local.signatures`)."""
        self._draws = FaultDraws(faults) if faults else None
        self._throttle = AccountThrottle(account_throttle) if account_throttle is not None else None

    def refusal(self, connection_id: str) -> tuple[Answer, LiveConnection | None] | None:
        """The answer to a call the account's throttle or a fault stops before it
        is served, with the connection a faulted 410 takes away (to be closed:
        on AWS a 410 means the connection is gone, and it stays gone); None
        when the call goes on (safe from any thread)."""
        if self._throttle is not None and not self._throttle.allow():
            return THROTTLED, None
        status = self._draws.draw() if self._draws is not None else None
        if status is None:
            return None
        return FAULTS[status], self.registry.get(connection_id) if status == 410 else None

    def check_post(self, connection_id: str, data: bytes) -> LiveConnection | Answer:
        """The connection to post to, or the error answer (safe from any thread)."""
        connection = self.registry.get(connection_id)
        if connection is None:
            return GONE
        if len(data) > self.config.limits.max_message_bytes:
            return _error(413, "PayloadTooLargeException", "Payload too large")
        return connection

    async def handle(self, method: str, connection_id: str, data: bytes) -> Answer:
        """One call, on the event loop."""
        refused = self.refusal(connection_id)
        if refused is None:
            return await self.serve(method, connection_id, data)
        answer, gone = refused
        if gone is not None:
            await gone.close(*GOING_AWAY)
        return answer

    async def serve(self, method: str, connection_id: str, data: bytes) -> Answer:
        """One call the throttle and the faults let through, on the event loop."""
        if method == "POST":
            found = self.check_post(connection_id, data)
            if isinstance(found, tuple):
                return found
            return (200, {}, b"") if found.post(_frame(data)) else GONE
        connection = self.registry.get(connection_id)
        if connection is None:
            return GONE
        if method == "DELETE":
            await connection.close(1000)
            return 204, {}, b""
        info: dict[str, Any] = {
            "connectedAt": ids.iso8601(connection.peer.connected_at),
            "identity": {
                "sourceIp": connection.peer.source_ip,
                "userAgent": connection.peer.user_agent,
            },
            "lastActiveAt": ids.iso8601(connection.last_active_at),
        }
        return 200, _JSON, json.dumps(info).encode()

    async def endpoint(self, request: Request) -> Response:
        data = await request.body()
        refused = admission.refusal(request, data, self.verifier, "execute-api")
        if refused is not None:
            status, headers, body = refused
        elif request.path_params["stage"] != self.config.stage:
            status, headers, body = _error(403, "ForbiddenException", "Forbidden")
        else:
            status, headers, body = await self.handle(
                request.method, request.path_params["connection_id"], data
            )
        # API Gateway names each answer, errors included; the SDKs read it as
        # the call's request id (boto3's `RequestId`, the JavaScript SDK's
        # `$metadata.requestId`).
        headers = {**headers, "x-amzn-RequestId": str(uuid.uuid4())}
        return Response(body, status_code=status, headers=headers)

    def in_process(self, loop: asyncio.AbstractEventLoop) -> InProcessTransport:
        return InProcessTransport(self, loop)


class InProcessTransport:
    """The Management API for handlers in the emulator's threads, without HTTP.

    A POST is checked on the caller's thread and queued for the event loop
    without waiting (the hot path of every fan-out); posts are handed over in
    batches, one wake-up of the loop for all that arrived meanwhile, in the
    order they were made. GET and DELETE wait for the loop's answer.

    The queue takes no lock: a deque is safe to append to from any thread, and
    a post that finds a hand-over already due leaves its frame to it (the loop
    clears `_due` before it takes the frames). With a lock, the posting threads
    and the loop took it from each other at every frame.
    """

    def __init__(self, api: ManagementApi, loop: asyncio.AbstractEventLoop) -> None:
        self.api = api
        self.loop = loop
        self._pending: deque[tuple[LiveConnection, str | bytes]] = deque()
        self._due = False

    def _hand_over(self) -> None:
        self._due = False
        pending = self._pending
        while pending:
            connection, frame = pending.popleft()
            try:
                connection.post(frame)
            except Exception:  # one connection's failure must not hold back the others' frames
                log.exception("writing a posted frame to %s failed", connection.connection_id)

    def __call__(self, method: str, connection_id: str, data: bytes) -> tuple[int, bytes]:
        refused = self.api.refusal(connection_id)
        if refused is not None:
            (status, _, body), gone = refused
            if gone is not None:
                closing = gone.close(*GOING_AWAY)
                asyncio.run_coroutine_threadsafe(closing, self.loop).result(timeout=30)
            return status, body
        if method == "POST":
            found = self.api.check_post(connection_id, data)
            if isinstance(found, tuple):
                return found[0], found[2]
            self._pending.append((found, _frame(data)))
            if not self._due:
                self._due = True
                self.loop.call_soon_threadsafe(self._hand_over)
            return 200, b""
        future = asyncio.run_coroutine_threadsafe(
            self.api.serve(method, connection_id, data), self.loop
        )
        status, _, body = future.result(timeout=30)
        return status, body
