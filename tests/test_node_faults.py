"""Faults on demand and the account's throttle, as the AWS SDK for JavaScript
meets them: a Node.js handler posts with `@aws-sdk/client-apigatewaymanagementapi`
to the endpoint its event names, as AWS's samples do, and answers with what the
SDK raised and the request id it read. The SDK must raise what it raises for
API Gateway's answers: the exception classes its model defines
(`GoneException`, `LimitExceededException`), else its service exception named
by the answer's `x-amzn-ErrorType`; and its default retries (3 attempts in
all) must meet the same faults again."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from papo.local.faults import FaultDraws, Faults
from tests.conftest import PapoServe

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None, reason="Node.js functions need node on PATH"
)

FAULTED = Path(__file__).parent / "lambdas" / "node" / "faulted"
SERVE: tuple[str, ...] = ("--handler", "app.handler", "--runtime", "nodejs20.x")
SERVE += ("--route-response", "$default")
SERVE += ("--timeout", "10")  # the SDK's backoffs between its attempts take up to 3 s
SDK_ATTEMPTS = 3
"""The SDK's default: `maxAttempts` 3, in its standard retry mode."""


async def frames_until_answer(ws: ClientConnection, message: dict[str, str]) -> list[Any]:
    """What the connection receives after `message`, up to and with the
    handler's answer (a frame the handler posts to its own connection arrives
    before its answer)."""
    await ws.send(json.dumps(message))
    received: list[Any] = []
    while not received or not isinstance(received[-1], dict):
        frame = str(await asyncio.wait_for(ws.recv(), 30))
        received.append(json.loads(frame) if frame.startswith("{") else frame)
    # As on AWS, every answer names its request; the SDK reads it from there.
    assert uuid.UUID(received[-1].pop("requestId"))
    return received


def posts_to_itself(url: str, times: int) -> list[list[Any]]:
    async def talk() -> list[list[Any]]:
        async with connect(url) as ws:
            return [await frames_until_answer(ws, {"post": "hello"}) for _ in range(times)]

    return asyncio.run(talk())


def raised(name: str, kind: str, status: int, fault: str, attempts: int) -> dict[str, Any]:
    return {
        "name": name,
        "class": kind,
        "httpStatusCode": status,
        "fault": fault,
        "attempts": attempts,
    }


SERVICE_EXCEPTION = "ApiGatewayManagementApiServiceException"
"""What the SDK raises for an error its model has no class for."""


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        (
            "429=1",
            raised("LimitExceededException", "LimitExceededException", 429, "client", SDK_ATTEMPTS),
        ),
        (
            "500=1",
            raised("InternalServerErrorException", SERVICE_EXCEPTION, 500, "server", SDK_ATTEMPTS),
        ),
    ],
)
def test_the_sdk_raises_its_own_exceptions_for_faults_after_its_retries(
    papo_serve: PapoServe, faults: str, error: dict[str, Any]
) -> None:
    """A 429 and a 500 are errors the SDK sends again: every attempt is
    faulted, so it raises after its three, and nothing reached the connection."""
    _, url = papo_serve(*SERVE, "--faults", faults, cwd=FAULTED)
    assert posts_to_itself(url, 1) == [[error]]


def test_the_sdks_retry_of_a_429_is_served_once_the_faults_let_it_through(
    papo_serve: PapoServe,
) -> None:
    """With a seed whose draws are 429, 429, then none, the SDK's third attempt
    posts the frame, which arrives once."""
    seed = next(seed for seed in range(100) if _draws(seed, 3) == [429, 429, None])
    _, url = papo_serve(*SERVE, "--faults", "429=0.5", "--faults-seed", str(seed), cwd=FAULTED)
    assert posts_to_itself(url, 1) == [["hello", {"ok": True, "attempts": SDK_ATTEMPTS}]]


def _draws(seed: int, calls: int) -> list[int | None]:
    draws = FaultDraws(Faults({429: 0.5}, seed))
    return [draws.draw() for _ in range(calls)]


def test_the_sdk_raises_gone_for_a_faulted_410_which_closes_the_connection(
    papo_serve: PapoServe,
) -> None:
    """The handler, invoked on one connection, posts to another: the SDK raises
    `GoneException` at once (a 410 is not sent again), the other connection is
    closed as gone, and the answer is read on the first."""
    _, url = papo_serve(*SERVE, "--faults", "410=1", cwd=FAULTED)

    async def talk() -> tuple[list[Any], int | None, str | None]:
        async with connect(url) as asking, connect(url) as posted_to:
            await posted_to.send("whoami")
            target = str(await asyncio.wait_for(posted_to.recv(), 30))
            received = await frames_until_answer(asking, {"post": "hello", "to": target})
            await asyncio.wait_for(posted_to.wait_closed(), 30)
            return received, posted_to.close_code, posted_to.close_reason

    received, code, reason = asyncio.run(talk())
    assert received == [raised("GoneException", "GoneException", 410, "client", 1)]
    assert (code, reason) == (1001, "Going away")


def test_the_sdk_raises_too_many_requests_past_the_accounts_throttle(
    papo_serve: PapoServe,
) -> None:
    """A burst of 1 and no refill: the first post goes through, the second is
    throttled at each of the SDK's attempts, and is not delivered."""
    _, url = papo_serve(
        *SERVE, "--account-throttle-burst", "1", "--account-throttle-rate", "0", cwd=FAULTED
    )
    assert posts_to_itself(url, 2) == [
        ["hello", {"ok": True, "attempts": 1}],
        [raised("TooManyRequestsException", SERVICE_EXCEPTION, 429, "client", SDK_ATTEMPTS)],
    ]
