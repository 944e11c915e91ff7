"""The API's own AWS address, `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`,
leads handlers run by the emulator to its Management API (and nowhere else does)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from websockets.asyncio.client import connect

from papo.local import hostnames
from papo.local.hostnames import address_for, claim, execute_api_host
from tests.conftest import PapoServe
from tests.emulation import emulator

pytestmark = pytest.mark.usefixtures("no_pyenv_pythons")

HANDLER = "tests.lambdas.aws_address:handler"
HARDCODED = Path(__file__).parent / "samples" / "hardcoded_api"
ERROR_FRAME = re.compile(r'\{"message": "Internal server error", "connectionId":".*"\}')


@pytest.fixture(autouse=True)
def no_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """A call that cannot connect fails at once, rather than after boto3's retries."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


@pytest.fixture
def claimed() -> Iterator[None]:
    release = claim("papolocal0.execute-api.us-east-1.amazonaws.com", ("127.0.0.1", 9443))
    yield
    release()


def test_the_address_is_built_as_chalice_builds_it() -> None:
    assert execute_api_host("a1b2c3d4e5", "eu-west-1") == (
        "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
    )
    assert execute_api_host("a1b2c3d4e5", "cn-north-1") == (
        "a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn"
    )


@pytest.mark.usefixtures("claimed")
def test_only_the_claimed_name_on_port_443_is_answered() -> None:
    name = "papolocal0.execute-api.us-east-1.amazonaws.com"
    answered: list[tuple[object, object]] = [
        (name, 443),
        (name.upper() + ".", "443"),
        (name.encode(), "https"),
    ]
    for host, port in answered:
        assert address_for(host, port) == ("127.0.0.1", 9443)
    unanswered: list[tuple[object, object]] = [
        (name, 80),
        (name, 8443),
        (name, None),
        ("otherapi00.execute-api.us-east-1.amazonaws.com", 443),
        ("papolocal0.execute-api.eu-west-1.amazonaws.com", 443),
        ("xpapolocal0.execute-api.us-east-1.amazonaws.com", 443),
        (name + ".example.com", 443),
        ("localhost", 443),
        (None, 443),
    ]
    for host, port in unanswered:
        assert address_for(host, port) is None, (host, port)


@pytest.mark.usefixtures("claimed")
def test_the_name_resolves_to_the_emulator_and_others_as_before() -> None:
    found = socket.getaddrinfo(
        "papolocal0.execute-api.us-east-1.amazonaws.com", 443, type=socket.SOCK_STREAM
    )
    assert {info[4][:2] for info in found} == {("127.0.0.1", 9443)}
    assert {info[4][:2] for info in socket.getaddrinfo("localhost", 443)} <= {
        ("127.0.0.1", 443),
        ("::1", 443),
    }


def test_the_wrapper_leaves_with_its_last_name() -> None:
    system = socket.getaddrinfo
    first = claim("one.example", ("127.0.0.1", 1))
    second = claim("one.example", ("127.0.0.1", 2))
    assert address_for("one.example", 443) == ("127.0.0.1", 2)  # the newest emulator's
    second()
    assert address_for("one.example", 443) == ("127.0.0.1", 1)
    assert socket.getaddrinfo is not system
    first()
    assert socket.getaddrinfo is system
    assert hostnames._entries == []


async def post_via(url: str, endpoint: str | None = None) -> str:
    async with connect(url) as ws:
        await ws.send(json.dumps({"endpoint": endpoint}))
        return str(await asyncio.wait_for(ws.recv(), 15))


@pytest.mark.parametrize("workers", [0, 2])
def test_a_handler_building_the_address_from_api_id_and_region_posts(workers: int) -> None:
    with emulator(HANDLER, ("$default",), tls_port=0, workers=workers) as api:
        answer = json.loads(asyncio.run(post_via(api.websocket_url)))
    assert answer == {"via": "https://papolocal0.execute-api.us-east-1.amazonaws.com/dev"}
    assert socket.getaddrinfo is hostnames._ORIGINAL  # given back when the emulator stops


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("workers", [0, 2])
def test_a_handler_posting_anywhere_else_fails_as_it_would_without_papo(workers: int) -> None:
    nowhere = "https://localhost/dev"  # port 443, where nothing listens here
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=nowhere,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        client.post_to_connection(ConnectionId="VNRUSeldSwMCIRQ=", Data=b"x")  # without papo
    with emulator(HANDLER, ("$default",), tls_port=0, workers=workers) as api:
        assert ERROR_FRAME.fullmatch(asyncio.run(post_via(api.websocket_url, nowhere)))


def test_a_handler_hard_coding_its_api_id_runs_with_api_id(papo_serve: PapoServe) -> None:
    _, url = papo_serve("--handler", "app:handler", "--api-id", "a1b2c3d4e5", cwd=HARDCODED)
    assert asyncio.run(post_via(url)) == "hello from a1b2c3d4e5"


def test_a_template_names_its_api_id_in_metadata(papo_serve: PapoServe, tmp_path: Path) -> None:
    _, url = papo_serve("--template", "template.yaml", "--workers", "1", cwd=HARDCODED)
    assert asyncio.run(post_via(url)) == "hello from a1b2c3d4e5"
    assert "API id a1b2c3d4e5" in (tmp_path / "papo-serve.log").read_text()


def test_an_api_id_that_cannot_be_one_is_refused(papo_serve: PapoServe) -> None:
    with pytest.raises(AssertionError, match="an API id has lowercase letters and digits only"):
        papo_serve("--api-id", "Not_An.Id")
