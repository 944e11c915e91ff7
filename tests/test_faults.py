"""Faults on demand and the account's throttle on `@connections`: what boto3
sees of them, what becomes of a connection a faulted 410 takes away, and a
seeded run that draws the same faults twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from websockets.asyncio.client import ClientConnection, connect

from papo.local.config import ApiConfig, Throttle
from papo.local.faults import FaultDraws, Faults, FaultsError
from papo.local.server import Emulator
from tests.conftest import ROOT, PapoServe

ECHO = "papo.conformance.echo:handler"
ROUTES = ("$connect", "$default", "echo")
ECHO_OPTIONS = ("--handler", ECHO, *(f"--route={key}" for key in ROUTES))
ECHO_OPTIONS += ("--route-response=$default", "--route-response=echo")
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@contextlib.contextmanager
def served(faults: Faults | None = None, throttle: Throttle | None = None) -> Iterator[Emulator]:
    config = ApiConfig.for_handler(ECHO, ROUTES, route_responses=frozenset({"$default", "echo"}))
    api = Emulator(config, port=0, tls_port=None, faults=faults, account_throttle=throttle)
    with api.running() as running:
        yield running


def management(url: str) -> Any:
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url=url, region_name="us-east-1", config=NO_RETRIES
    )


async def connection_id(ws: ClientConnection) -> str:
    await ws.send(json.dumps({"action": "echo"}))
    found: str = json.loads(await ws.recv())["connectionId"]
    return found


def failure(call: Any, **kwargs: str) -> ClientError:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value


def test_faulted_calls_raise_the_errors_boto3_raises_for_api_gateways(aws_env: None) -> None:
    async def scenario(api: Emulator, status: int) -> ClientError:
        async with connect(api.websocket_url) as ws:
            cid = await connection_id(ws)
            client = management(api.management_url)
            return await asyncio.to_thread(
                failure, client.post_to_connection, ConnectionId=cid, Data="x"
            )

    for status, kind, message in (
        (429, "LimitExceededException", "Too Many Requests"),
        (500, "InternalServerErrorException", "Internal server error"),
    ):
        with served(Faults({status: 1.0})) as api:
            error = asyncio.run(asyncio.wait_for(scenario(api, status), 20))
        client = management(api.management_url)
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
        assert error.response["Error"]["Code"] == kind
        assert error.response["Error"]["Message"] == message
        headers = error.response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["x-amzn-errortype"] == kind
        assert uuid.UUID(error.response["ResponseMetadata"]["RequestId"])
        if status == 429:
            assert isinstance(error, client.exceptions.LimitExceededException)


def test_a_faulted_410_closes_the_connection_which_stays_gone(aws_env: None) -> None:
    draws = Faults({410: 0.5}, seed=3)
    sequence = FaultDraws(draws)
    first_gone = next(i for i in range(50) if sequence.draw() == 410)

    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url) as ws:
            cid = await connection_id(ws)
            client = management(api.management_url)
            for _ in range(first_gone):
                await asyncio.to_thread(client.get_connection, ConnectionId=cid)
            error = await asyncio.to_thread(failure, client.get_connection, ConnectionId=cid)
            assert isinstance(error, client.exceptions.GoneException)
            await ws.wait_closed()
            assert ws.close_code == 1001
            assert ws.close_reason == "Going away"
            # Whatever the next draws, the connection is gone for good.
            for _ in range(5):
                again = await asyncio.to_thread(
                    failure, client.post_to_connection, ConnectionId=cid, Data="x"
                )
                assert again.response["ResponseMetadata"]["HTTPStatusCode"] in (410, 429, 500)
                assert again.response["ResponseMetadata"]["HTTPStatusCode"] != 200

    with served(draws) as api:
        asyncio.run(asyncio.wait_for(scenario(api), 30))


def _statuses(faults: Faults, calls: int) -> list[int]:
    async def scenario(api: Emulator) -> list[int]:
        async with connect(api.websocket_url) as ws:
            cid = await connection_id(ws)
            client = management(api.management_url)
            seen = []
            for _ in range(calls):
                try:
                    await asyncio.to_thread(client.get_connection, ConnectionId=cid)
                    seen.append(200)
                except ClientError as error:
                    seen.append(error.response["ResponseMetadata"]["HTTPStatusCode"])
            return seen

    with served(faults) as api:
        return asyncio.run(asyncio.wait_for(scenario(api), 60))


def test_a_seeded_run_draws_the_same_faults(aws_env: None) -> None:
    faults = Faults({429: 0.3, 500: 0.3}, seed=11)
    first = _statuses(faults, 30)
    assert set(first) == {200, 429, 500}
    assert _statuses(faults, 30) == first


def test_the_account_throttle_is_shared_by_every_call_and_answers_429(aws_env: None) -> None:
    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url) as one, connect(api.websocket_url) as two:
            ids = [await connection_id(one), await connection_id(two)]
            client = management(api.management_url)
            await asyncio.to_thread(client.get_connection, ConnectionId=ids[0])
            await asyncio.to_thread(client.post_to_connection, ConnectionId=ids[1], Data="hi")
            assert await two.recv() == "hi"
            await asyncio.to_thread(client.get_connection, ConnectionId=ids[1])
            for call, cid in ((client.get_connection, ids[0]), (client.delete_connection, ids[1])):
                error = await asyncio.to_thread(failure, call, ConnectionId=cid)
                assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 429
                assert error.response["Error"]["Code"] == "TooManyRequestsException"
                assert error.response["Error"]["Message"] == "Too Many Requests"

    # A burst of 3 and no refill: the fourth call of the account is throttled.
    with served(throttle=Throttle(burst=3, rate=0)) as api:
        asyncio.run(asyncio.wait_for(scenario(api), 20))


def test_faults_are_status_share_pairs_of_410_429_or_500() -> None:
    assert Faults.parse("410=0.01, 429=0.01,500=0.005").shares == {
        410: 0.01,
        429: 0.01,
        500: 0.005,
    }
    assert not Faults.parse("")
    for wrong in ("404=0.1", "429", "429=lots", "429=1.5", "429=0.6,500=0.6"):
        with pytest.raises(FaultsError):
            Faults.parse(wrong)


def test_papo_serve_takes_faults_and_the_account_throttle(
    papo_serve: PapoServe, aws_env: None, tmp_path: Any
) -> None:
    _, url = papo_serve(*ECHO_OPTIONS, "--faults", "500=1", "--account-throttle")

    async def scenario() -> None:
        async with connect(url) as ws:
            cid = await connection_id(ws)
            client = management(url.replace("ws://", "http://"))
            error = await asyncio.to_thread(failure, client.get_connection, ConnectionId=cid)
            assert error.response["Error"]["Code"] == "InternalServerErrorException"

    asyncio.run(asyncio.wait_for(scenario(), 30))
    banner = (tmp_path / "papo-serve.log").read_text()
    assert "faults          @connections calls answered 500 1" in banner
    assert "account         @connections calls throttled: burst 5000, rate 10000/s" in banner


def test_papo_serve_refuses_a_fault_it_cannot_draw() -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "papo", "serve", *ECHO_OPTIONS, "--faults", "404=0.1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "papo serve: --faults: a fault is one of 410, 429, 500" in refused.stderr
