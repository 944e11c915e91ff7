"""The emulator listening beyond loopback: its Management API and Lambda's Invoke
API take only calls signed (SigV4) with the credentials its handlers get.

Tests never listen beyond loopback: which addresses are is a pure function,
tested as one, and what exposure turns on, `--require-signatures`, is tested
on 127.0.0.1, with boto3's own clients, handlers' own calls (the plain boto3
probe, papo's own client), and requests signed wrong."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.exceptions import ClientError
from starlette.requests import Request
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from papo.aws.handler import ROUTE_KEYS
from papo.local.app import ServeOptions
from papo.local.config import PAPO_HANDLER, ApiConfig
from papo.local.runtime import lambda_defaults
from papo.local.server import Emulator
from papo.local.signatures import Verifier, beyond_loopback
from tests.conftest import PapoServe
from tests.emulation import PROBE, PROBE_ROUTES

KEY, SECRET = "AKIDEXPOSED", "exposed-secret"
NO_RETRIES = Config(retries={"max_attempts": 1})


@pytest.fixture
def developer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A developer whose credentials are in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("PROBE_LOG", str(tmp_path / "probe.jsonl"))
    # boto3's default session keeps the credentials it found first in this process,
    # another test's; a Lambda container's process starts without any.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A developer without AWS credentials: handlers get papo's placeholder ones."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # as for `developer`
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("PROBE_LOG", str(tmp_path / "probe.jsonl"))


def signed_emulator(config: ApiConfig, tls: bool = False) -> Emulator:
    return Emulator(config, port=0, tls_port=0 if tls else None, require_signatures=True)


@pytest.fixture
def api(developer: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The probe over https: events name the https address as their domainName."""
    monkeypatch.setenv("PROBE_SCHEME", "https")
    config = ApiConfig.for_handler(PROBE, PROBE_ROUTES)
    with signed_emulator(config, tls=True).running() as running:
        yield running


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def management(url: str, **credentials: Any) -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=url,
        region_name="us-east-1",
        config=NO_RETRIES,
        **credentials,
    )


def error_code(call: Any) -> tuple[int, str]:
    with pytest.raises(ClientError) as failed:
        call()
    answer = failed.value.response
    return answer["ResponseMetadata"]["HTTPStatusCode"], answer["Error"]["Code"]


def unsigned(url: str, data: bytes = b"x") -> tuple[int, str, dict[str, Any]]:
    # urllib's own Content-Type is a form's, which is refused as a browser's.
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status), "", {}
    except urllib.error.HTTPError as error:
        return int(error.code), error.headers.get("x-amzn-ErrorType", ""), json.load(error)


# Which addresses reach past this machine


@pytest.mark.parametrize(
    ("host", "beyond"),
    [
        ("127.0.0.1", False),
        ("127.3.2.1", False),
        ("localhost", False),
        ("LOCALHOST.", False),
        ("::1", False),
        ("[::1]", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", True),
        ("::", True),
        ("192.168.1.20", True),
        ("10.0.0.5", True),
        ("fe80::1", True),
        ("papo.example.com", True),
        ("", True),
    ],
)
def test_which_hosts_are_beyond_loopback(host: str, beyond: bool) -> None:
    assert beyond_loopback(host) is beyond


def test_listening_beyond_loopback_requires_signatures() -> None:
    assert ServeOptions(host="0.0.0.0").signatures_required
    assert ServeOptions(host="192.168.1.20").signatures_required
    assert not ServeOptions(host="127.0.0.1").signatures_required
    assert ServeOptions(host="127.0.0.1", require_signatures=True).signatures_required
    # The emulator it makes checks them; made, not started: nothing listens.
    exposed = ServeOptions(host="0.0.0.0", tls_port=None).emulator()
    assert exposed.verifier is not None
    assert exposed.management.verifier is exposed.lambda_api.verifier is exposed.verifier
    assert ServeOptions(tls_port=None).emulator().verifier is None


# boto3's clients, signed right and wrong


def test_boto3_signed_with_handlers_credentials_is_answered_over_http_and_https(
    api: Emulator,
) -> None:
    async def scenario() -> None:
        async with connect(api.websocket_url) as ws:
            await ws.send("hi")
            cid = json.loads(await ws.recv())["event"]["requestContext"]["connectionId"]
            for url in api.management_urls[:2]:  # http, https
                client = management(url, verify=str(api.tls.ca_bundle) if api.tls else "")
                await asyncio.to_thread(client.post_to_connection, ConnectionId=cid, Data=b"ok")
                assert await ws.recv() == "ok"
                info = await asyncio.to_thread(client.get_connection, ConnectionId=cid)
                assert info["Identity"]["SourceIp"] == "127.0.0.1"
            gone = management(api.management_url)
            with pytest.raises(gone.exceptions.GoneException):
                await asyncio.to_thread(gone.get_connection, ConnectionId="VNRUSeldSwMCIRQ=")

    run(scenario())


def test_calls_signed_wrong_or_not_at_all_get_403_in_awss_shape(api: Emulator) -> None:
    wrong_secret = management(
        api.management_url, aws_access_key_id=KEY, aws_secret_access_key="guess"
    )
    unknown_key = management(
        api.management_url, aws_access_key_id="AKIDSTRANGER", aws_secret_access_key=SECRET
    )
    other_region = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=api.management_url,
        region_name="eu-west-1",
        config=NO_RETRIES,
    )
    post: dict[str, Any] = {"ConnectionId": "VNRUSeldSwMCIRQ=", "Data": b"x"}
    assert error_code(lambda: wrong_secret.post_to_connection(**post)) == (
        403,
        "InvalidSignatureException",
    )
    assert error_code(lambda: unknown_key.post_to_connection(**post)) == (
        403,
        "UnrecognizedClientException",
    )
    assert error_code(lambda: other_region.post_to_connection(**post)) == (
        403,
        "InvalidSignatureException",
    )
    status, kind, body = unsigned(f"{api.management_url}/@connections/VNRUSeldSwMCIRQ=")
    assert (status, kind, body) == (
        403,
        "MissingAuthenticationTokenException",
        {"message": "Missing Authentication Token"},
    )


def test_lambda_invoke_takes_only_signed_calls(api: Emulator) -> None:
    endpoint = f"http://{api.host}:{api.port}"
    function = "tests-lambdas-probe"
    right = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1")
    assert right.invoke(FunctionName=function, InvocationType="DryRun")["StatusCode"] == 204
    wrong = boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key="guess",
        config=NO_RETRIES,
    )
    assert error_code(lambda: wrong.invoke(FunctionName=function, InvocationType="DryRun")) == (
        403,
        "InvalidSignatureException",
    )
    # Signed for the Management API is not signed for Lambda.
    status, _, _ = unsigned(f"{endpoint}/2015-03-31/functions/{function}/invocations", b"{}")
    assert status == 403


def test_on_loopback_without_the_option_nothing_changes(developer: None) -> None:
    config = ApiConfig.for_handler(PROBE, PROBE_ROUTES)
    with Emulator(config, port=0, tls_port=None).running() as api:
        status, _, _ = unsigned(f"{api.management_url}/@connections/VNRUSeldSwMCIRQ=")
    assert status == 410


# Handlers' own calls


def test_without_credentials_handlers_sign_with_ones_nobody_else_knows(
    no_credentials: None,
) -> None:
    """A developer without credentials: exposed, handlers get credentials made at
    this start, which the check takes; the placeholder `papo-local` that handlers
    get on loopback (it is in papo's source) signs nothing here."""

    async def scenario(api: Emulator) -> str:
        async with connect(api.websocket_url) as a, connect(api.websocket_url) as b:
            await b.send(json.dumps({"do": "echo"}))
            bid = json.loads(await b.recv())["event"]["requestContext"]["connectionId"]
            await a.send(json.dumps({"do": "post", "to": bid, "data": "signed"}))
            assert await asyncio.wait_for(b.recv(), 10) == "signed"
            return str(bid)

    config = ApiConfig.for_handler(PROBE, PROBE_ROUTES)
    with signed_emulator(config).running() as api:
        bid = run(scenario(api))
        placeholder = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=api.management_url,
            region_name="us-east-1",
            aws_access_key_id="papo-local",
            aws_secret_access_key="papo-local",
            config=NO_RETRIES,
        )
        with pytest.raises(ClientError) as refused:
            placeholder.get_connection(ConnectionId=bid)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert lambda_defaults("us-east-1")["AWS_SECRET_ACCESS_KEY"] == "papo-local"
    made = [lambda_defaults("us-east-1", exposed=True)["AWS_SECRET_ACCESS_KEY"] for _ in "ab"]
    assert "papo-local" not in made
    assert made[0] != made[1]


def test_handlers_in_workers_sign_with_the_developers_credentials(developer: None) -> None:
    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url) as ws:
            await ws.send(json.dumps({"do": "info"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 20))["Identity"]

    config = ApiConfig.for_handler(PROBE, PROBE_ROUTES, workers=1)
    with signed_emulator(config).running() as api:
        run(scenario(api))


@pytest.mark.parametrize("workers", [0, 2], ids=["in-process", "signed-by-papo-in-workers"])
def test_papos_own_handler_posts_through_the_check(
    developer: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    monkeypatch.delenv("PAPO_MANAGEMENT_ENDPOINT", raising=False)
    environment = {"PAPO_STORE": "sqlite", "PAPO_SQLITE_PATH": str(tmp_path / "papo.sqlite3")}
    config = ApiConfig.for_handler(PAPO_HANDLER, ROUTE_KEYS, workers=workers)

    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url) as ws:
            await ws.send(json.dumps({"action": "setName", "name": "Ana"}))
            frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
            assert frame.get("members") == ["Ana"]

    served = Emulator(config, port=0, tls_port=0, environment=environment, require_signatures=True)
    with served.running() as api:
        run(scenario(api))


# The check itself, on requests made by hand


def _request(
    *,
    region: str = "us-east-1",
    secret: str = SECRET,
    token: str | None = None,
    tamper: dict[str, str] | None = None,
) -> Request:
    """A POST to @connections as botocore signs it, then changed by `tamper`."""
    url = "http://127.0.0.1:8000/dev/%40connections/abc%3D"
    request = AWSRequest(method="POST", url=url, data=b"data")
    SigV4Auth(Credentials(KEY, secret, token), "execute-api", region).add_auth(request)
    headers = {**dict(request.headers.items()), "Host": "127.0.0.1:8000", **(tamper or {})}
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "path": "/dev/@connections/abc=",
        "raw_path": b"/dev/%40connections/abc%3D",
        "query_string": b"",
        "headers": [(k.lower().encode(), str(v).encode()) for k, v in headers.items()],
    }
    return Request(scope)


def check(
    request: Request, body: bytes = b"data", *, token: str | None = None, late_s: float = 0
) -> str | None:
    """None when the check takes `request`, else its refusal's message; the
    emulator's clock `late_s` seconds after the signer's."""
    verifier = Verifier(
        lambda: [ReadOnlyCredentials(KEY, SECRET, token)],
        "us-east-1",
        clock=lambda: time.time() + late_s,
    )
    refused = verifier.check(request, body, "execute-api")
    return None if refused is None else json.loads(refused[2])["message"]


def test_the_check_takes_botocores_signature_and_refuses_each_change() -> None:
    assert check(_request()) is None
    assert "does not match" in str(check(_request(), body=b"other data"))
    assert "does not match" in str(check(_request(secret="guess")))
    assert "region" in str(check(_request(region="eu-west-1")))
    assert "expired" in str(check(_request(), late_s=600))
    assert "expired" in str(check(_request(), late_s=-600))
    assert check(_request(), late_s=120) is None
    assert "sha256" in str(
        check(_request(tamper={"X-Amz-Content-SHA256": hashlib.sha256(b"no").hexdigest()}))
    )
    assert "does not match" in str(check(_request(tamper={"Host": "elsewhere:8000"})))
    assert "Credential" in str(check(_request(tamper={"Authorization": "Bearer x"})))
    assert "security token" in str(check(_request(), token="session"))
    assert check(_request(token="session"), token="session") is None


# papo serve's banner


def test_the_banner_says_where_signatures_are_checked(
    papo_serve: PapoServe, tmp_path: Path
) -> None:
    _, url = papo_serve(
        "--handler",
        "tests.samples.request_authorizer.app:handler",
        "--authorizer",
        "tests.samples.request_authorizer.authorizer:handler",
        "--identity-source",
        "route.request.querystring.token",
        "--throttle-burst",
        "5",
        "--require-signatures",
    )

    async def refused() -> int:
        try:
            async with connect(url):
                return 101
        except InvalidStatus as error:
            return int(error.response.status_code)

    assert run(refused()) == 401
    management_url = url.replace("ws:", "http:") + "/@connections/VNRUSeldSwMCIRQ="
    assert unsigned(management_url)[:2] == (403, "MissingAuthenticationTokenException")
    banner = (tmp_path / "papo-serve.log").read_text()
    assert "authorizer      tests-samples-request_authorizer-authorizer" in banner
    assert "route.request.querystring.token" in banner
    assert "throttling      each route: burst 5, rate 10000/s" in banner
    assert "signatures      required" in banner


def test_each_functions_own_credentials_sign_for_it(developer: None) -> None:
    """Two functions whose Environments set different keys: calls signed with
    either are taken; a key neither sets is not."""
    base = ApiConfig.for_handler(PROBE, PROBE_ROUTES)
    own = {
        route: dataclasses.replace(
            target,
            environment={
                "AWS_ACCESS_KEY_ID": f"AKID{route.strip('$').upper()}",
                "AWS_SECRET_ACCESS_KEY": f"secret-{route}",
            },
        )
        for route, target in base.routes.items()
        if route in ("$connect", "$default")
    }
    config = dataclasses.replace(base, routes={**base.routes, **own})
    post: dict[str, Any] = {"ConnectionId": "VNRUSeldSwMCIRQ=", "Data": b"x"}
    with signed_emulator(config).running() as api:
        for route in own:
            client = management(
                api.management_url,
                aws_access_key_id=f"AKID{route.strip('$').upper()}",
                aws_secret_access_key=f"secret-{route}",
            )
            assert error_code(lambda c=client: c.post_to_connection(**post)) == (
                410,
                "GoneException",
            )
        stranger = management(
            api.management_url, aws_access_key_id="AKIDSTRANGER", aws_secret_access_key="x"
        )
        assert error_code(lambda: stranger.post_to_connection(**post))[0] == 403
