"""`$connect`'s REQUEST authorizer (docs/promises.md: "No identity source, no
handshake", "The authorizer's event", "Its policy decides"), over real
WebSockets, run by the emulator from `tests/samples/request_authorizer`: a
third-party authorizer that decides by a token and answers an IAM policy, and a
function that notes what each event carries from it and answers a message with it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from papo.local import authorizers
from papo.local.app import ServeOptions
from papo.local.config import Authorizer, Limits, RouteTarget
from papo.local.server import Emulator
from papo.local.template import TemplateError, api_config

pytestmark = pytest.mark.usefixtures("no_pyenv_pythons")

SAMPLE = Path(__file__).parent / "samples" / "request_authorizer"
TEMPLATE = SAMPLE / "template.yaml"
ARN = "arn:aws:execute-api:us-east-1:000000000000:papolocal0/dev/$connect"


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Where the authorizer notes its events, and the function its own."""
    noted = tmp_path / "authorizer.jsonl", tmp_path / "events.jsonl"
    monkeypatch.setenv("AUTHORIZER_LOG", str(noted[0]))
    monkeypatch.setenv("EVENTS_LOG", str(noted[1]))
    return noted


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_for(path: Path, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while len(found := read(path)) < count:
        assert time.monotonic() < deadline, found
        time.sleep(0.02)
    return found


@pytest.fixture(params=[0, 2], ids=["in-threads", "in-2-workers"])
def api(logs: tuple[Path, Path], request: pytest.FixtureRequest) -> Iterator[Emulator]:
    config = api_config(TEMPLATE, workers=request.param, limits=Limits())
    with Emulator(config, port=0, tls_port=None).running() as running:
        yield running


@pytest.fixture
def threaded(logs: tuple[Path, Path]) -> Iterator[Emulator]:
    with Emulator(api_config(TEMPLATE), port=0, tls_port=None).running() as running:
        yield running


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 20))


async def refusal(url: str, **options: Any) -> int:
    """The status a handshake is refused with."""
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, **options):
            pass
    return refused.value.response.status_code


# The template


def test_the_template_guards_connect_with_its_authorizer_function() -> None:
    found = api_config(TEMPLATE).authorizer
    assert found is not None
    assert found.identity_sources == ("route.request.querystring.token",)
    assert (found.target.name, found.target.handler) == ("AuthorizerFunction", "authorizer.handler")
    assert found.target.code_dir == str(SAMPLE.resolve())
    assert found.target.timeout_s == 3


def test_the_authorizers_code_is_given_by_its_function_name(tmp_path: Path) -> None:
    """`--code NAME=PATH` takes the authorizer's FunctionName, as it takes a route's."""
    text = TEMPLATE.read_text().replace(
        "      Handler: authorizer.handler\n",
        "      Handler: authorizer.handler\n      FunctionName: papo-authorizer\n",
    )
    (tmp_path / "template.yaml").write_text(text)
    (tmp_path / "elsewhere").mkdir()
    config = api_config(
        tmp_path / "template.yaml", code={"papo-authorizer": tmp_path / "elsewhere"}
    )
    assert config.authorizer is not None
    assert config.authorizer.target.code_dir == str((tmp_path / "elsewhere").resolve())
    with pytest.raises(TemplateError, match="no function nobody"):
        api_config(tmp_path / "template.yaml", code={"nobody": tmp_path})


_GUARDED = """
Resources:
  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {ProtocolType: WEBSOCKET}}
  ConnectRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $connect
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref Checker
      Target: !Sub integrations/${Integration}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: !Ref Api, IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt App.Arn}
  App:
    Type: AWS::Serverless::Function
    Properties: {Handler: app.handler, CodeUri: .}
  CheckerFunction:
    Type: AWS::Serverless::Function
    Properties: {Handler: checker.handler, CodeUri: ., FunctionName: token-checker}
  Checker:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties: PROPERTIES
"""


def _with_authorizer(tmp_path: Path, uri: Any, sources: Any, kind: str = "REQUEST") -> Path:
    """A template whose `$connect` is guarded by an authorizer of these properties
    (JSON is YAML)."""
    properties = {"AuthorizerType": kind, "AuthorizerUri": uri, "IdentitySource": sources}
    path = tmp_path / "template.yaml"
    path.write_text(_GUARDED.replace("PROPERTIES", json.dumps(properties)))
    return path


@pytest.mark.parametrize(
    "uri",
    [
        {
            "Fn::Join": [
                "",
                [
                    "arn:aws:apigateway:",
                    {"Ref": "AWS::Region"},
                    ":lambda:path/2015-03-31/functions/",
                    {"Fn::GetAtt": ["CheckerFunction", "Arn"]},
                    "/invocations",
                ],
            ]
        },
        {
            "Fn::Sub": [
                "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn}/invocations",
                {"Fn": {"Fn::GetAtt": ["CheckerFunction", "Arn"]}},
            ]
        },
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:123456789012:function:token-checker/invocations",
    ],
    ids=["join-getatt", "sub-with-variables", "literal-arn"],
)
def test_the_usual_forms_of_authorizer_uri(tmp_path: Path, uri: Any) -> None:
    path = _with_authorizer(tmp_path, uri, "route.request.header.Auth, route.request.querystring.t")
    found = api_config(path).authorizer
    assert found is not None
    assert found.target.handler == "checker.handler"
    assert found.identity_sources == ("route.request.header.Auth", "route.request.querystring.t")


@pytest.mark.parametrize(
    ("uri", "sources", "kind", "complaint"),
    [
        ("arn:aws:lambda:us-east-1:1:function:elsewhere", [], "REQUEST", "invokes no function"),
        ({"Fn::GetAtt": ["CheckerFunction", "Arn"]}, [], "JWT", "of type REQUEST"),
        ({"Fn::GetAtt": ["CheckerFunction", "Arn"]}, ["$request.header.x"], "REQUEST", "reads"),
    ],
)
def test_authorizers_papo_cannot_run_are_refused_saying_why(
    tmp_path: Path, uri: Any, sources: Any, kind: str, complaint: str
) -> None:
    path = _with_authorizer(tmp_path, uri, sources, kind)
    with pytest.raises(TemplateError, match=complaint):
        api_config(path)


# Point 20: the identity sources, before anything runs


@pytest.mark.parametrize("query", ["", "?other=1", "?token=", "?Token=allow:ana"])
def test_20_a_missing_or_empty_identity_source_is_401_and_runs_nothing(
    threaded: Emulator, logs: tuple[Path, Path], query: str
) -> None:
    assert run(refusal(threaded.websocket_url + query)) == 401
    time.sleep(0.2)
    assert read(logs[0]) == []
    assert read(logs[1]) == []


def test_20_a_header_identity_source_matches_whatever_its_case(
    logs: tuple[Path, Path],
) -> None:
    """`papo serve --authorizer MODULE:FUNCTION --identity-source route.request.header.Auth`."""
    options = ServeOptions(
        handler="tests.samples.request_authorizer.app:handler",
        routes=("$connect", "$default", "$disconnect"),
        route_responses=frozenset({"$default"}),
        authorizer="tests.samples.request_authorizer.authorizer:handler",
        identity_sources=("route.request.header.auth",),
        port=0,
        tls_port=None,
    )

    async def scenario(url: str) -> None:
        assert await refusal(url) == 401
        assert await refusal(url + "?token=allow:ana") == 401  # a query string is not a header
        for name in ("Auth", "auth", "AUTH"):
            async with connect(url, additional_headers={name: "allow:bea"}) as ws:
                await ws.send("hi")
                answer = json.loads(await ws.recv())
                assert answer["authorizer"]["principalId"] == "bea"

    with options.emulator().running() as api:
        run(scenario(api.websocket_url))


# Point 21: the authorizer's event


def test_21_the_authorizers_event(threaded: Emulator, logs: tuple[Path, Path]) -> None:
    async def scenario() -> None:
        url = f"{threaded.websocket_url}?token=allow:ana&room=a&room=b"
        async with connect(url, additional_headers={"X-Trace": "t1"}, user_agent_header="ua/2"):
            pass

    run(scenario())
    (event,) = read(logs[0])
    connect_event = wait_for(logs[1], 1)[0]["event"]
    assert event["type"] == "REQUEST"
    assert event["methodArn"] == ARN
    assert event["headers"] == connect_event["headers"]
    assert event["headers"]["X-Trace"] == "t1"
    assert event["multiValueHeaders"] == connect_event["multiValueHeaders"]
    assert event["queryStringParameters"] == {"token": "allow:ana", "room": "b"}
    assert event["multiValueQueryStringParameters"] == {"token": ["allow:ana"], "room": ["a", "b"]}
    assert event["stageVariables"] == {}
    context = dict(connect_event["requestContext"])
    del context["authorizer"]
    assert event["requestContext"] == context
    assert context["eventType"] == "CONNECT"
    assert context["identity"]["userAgent"] == "ua/2"


# Point 22: what its answer means


def test_22_allow_runs_connect_and_every_event_carries_the_authorizer(
    api: Emulator, logs: tuple[Path, Path]
) -> None:
    async def scenario() -> dict[str, Any]:
        async with connect(f"{api.websocket_url}?token=allow:ana") as ws:
            await ws.send("who am I?")
            return dict(json.loads(await ws.recv())["authorizer"])

    seen = run(scenario())
    latency = seen.pop("integrationLatency")
    assert isinstance(latency, int)
    assert latency >= 0
    # API Gateway stringifies the context's values (its documentation on Lambda
    # authorizers' output): the number 3 arrives as "3", true as "true".
    assert seen == {
        "principalId": "ana",
        "name": "ana",
        "level": "3",
        "admin": "true",
        "ratio": "0.5",
    }
    events = wait_for(logs[1], 3)
    assert [e["route"] for e in events] == ["$connect", "$default", "$disconnect"]
    for entry in events:
        assert entry["event"]["requestContext"]["authorizer"] == {
            **seen,
            "integrationLatency": latency,
        }
    assert len(read(logs[0])) == 1


def test_22_a_wildcard_resource_allows(threaded: Emulator) -> None:
    async def scenario() -> str:
        async with connect(f"{threaded.websocket_url}?token=wildcard") as ws:
            await ws.send("hi")
            return str(json.loads(await ws.recv())["authorizer"]["principalId"])

    assert run(scenario()) == "anyone"


@pytest.mark.parametrize(
    ("token", "status"),
    [
        ("deny", 403),
        ("elsewhere", 403),  # an Allow on another stage's ARN allows nothing here
        ("unauthorized", 401),
        ("not-quite", 500),  # the message must be exactly "Unauthorized"
        ("anything-else", 500),  # the function raises
        ("no-principal", 500),
        ("nested", 500),
        ("no-policy", 500),
        ("slow", 500),  # past the function's Timeout (3 s)
    ],
)
def test_22_refusals(threaded: Emulator, logs: tuple[Path, Path], token: str, status: int) -> None:
    started = time.monotonic()
    assert run(refusal(f"{threaded.websocket_url}?token={token}")) == status
    if token == "slow":  # refused at the Timeout, not at once (its Allow came too late)
        assert time.monotonic() - started > 2.9
    assert len(read(logs[0])) == 1
    time.sleep(0.1)
    assert read(logs[1]) == []  # $connect never ran, nor $disconnect


def test_22_in_worker_processes_the_authorizers_refusals_are_the_same(
    logs: tuple[Path, Path],
) -> None:
    config = api_config(TEMPLATE, workers=1)

    async def scenario(url: str) -> list[int]:
        return [await refusal(f"{url}?token={t}") for t in ("deny", "unauthorized", "nested")]

    with Emulator(config, port=0, tls_port=None).running() as api:
        assert run(scenario(api.websocket_url)) == [403, 401, 500]


# The policy, without sockets


@pytest.mark.parametrize(
    ("statements", "allowed"),
    [
        ([{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN}], True),
        ([{"Effect": "Allow", "Action": ["execute-api:*"], "Resource": ["x", ARN]}], True),
        ([{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:execute-api:*"}], True),
        ([{"Effect": "Allow", "Action": "EXECUTE-API:invoke", "Resource": "*/dev/$connect"}], True),
        ([{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN[:-2] + "??"}], True),
        ([{"Effect": "Allow", "Action": "execute-api:ManageConnections", "Resource": ARN}], False),
        ([{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN + "x"}], False),
        (
            [
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
                {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": ARN},
            ],
            False,
        ),
    ],
)
def test_the_policy_is_read_as_iam_reads_it(statements: list[Any], allowed: bool) -> None:
    answer = {"principalId": "p", "policyDocument": {"Statement": statements}}
    verdict = authorizers.verdict(answer, ARN, 0)
    assert isinstance(verdict, dict) == allowed
    if not allowed:
        assert isinstance(verdict, authorizers.Refused)
        assert verdict.status == 403


def test_the_identity_sources_of_an_option_are_checked() -> None:
    with pytest.raises(ValueError, match=r"route\.request\.header\.NAME"):
        Authorizer(RouteTarget("a:b"), ("method.request.header.Auth",))
