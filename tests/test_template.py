"""`papo serve --template` and `--handler … --route …` running a handler written
the plain boto3 way of AWS's own sample (tests/samples/simple_chat), unmodified."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from websockets.asyncio.client import connect

from papo.local.config import ApiConfig, Limits
from papo.local.server import Emulator
from papo.local.template import TemplateError, api_config
from tests.conftest import PapoServe

pytestmark = pytest.mark.usefixtures("no_pyenv_pythons")

SAMPLE = Path(__file__).parent / "samples" / "simple_chat"
TEMPLATE = SAMPLE / "template.yaml"
TABLE = "simplechat_connections"


def test_the_template_is_read_as_api_gateway_would_wire_it() -> None:
    config = api_config(TEMPLATE)
    assert config.route_selection_expression == "$request.body.action"
    assert {key: t.handler for key, t in config.routes.items()} == {
        "$connect": "app.on_connect",
        "$disconnect": "app.on_disconnect",
        "sendmessage": "app.send_message",
    }
    for target in config.routes.values():
        assert target.code_dir == str((SAMPLE / "src").resolve())
        assert target.environment["TABLE_NAME"] == TABLE  # Ref table → its TableName → parameter
    assert config.routes["sendmessage"].environment["GREETING"] == "hello from us-east-1"
    assert "GREETING" not in config.routes["$connect"].environment


STAGED = (
    "Parameters:\n"
    "  StageName: {Type: String, Default: prod}\n"
    "Resources:\n"
    "  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {ProtocolType: WEBSOCKET}}\n"
    "  Fn: {Type: AWS::Serverless::Function, Properties: {Handler: m.f, CodeUri: .}}\n"
    "  In: {Type: AWS::ApiGatewayV2::Integration,"
    " Properties: {ApiId: !Ref Api, IntegrationUri: !GetAtt Fn.Arn}}\n"
    "  Default: {Type: AWS::ApiGatewayV2::Route,"
    " Properties: {ApiId: !Ref Api, RouteKey: $default, Target: !Sub 'integrations/${In}'}}\n"
    "  Stage: {Type: AWS::ApiGatewayV2::Stage,"
    " Properties: {ApiId: !Ref Api, StageName: !Ref StageName, AutoDeploy: true}}\n"
)


def test_the_templates_stage_is_served_unless_one_is_given(tmp_path: Path) -> None:
    """The URL is the deployed API's: its path is the stage the template names."""
    path = tmp_path / "template.yaml"
    path.write_text(STAGED)
    assert api_config(path).stage == "prod"
    assert api_config(path, parameters={"StageName": "beta"}).stage == "beta"
    assert api_config(path, stage="dev").stage == "dev"
    path.write_text(STAGED.replace("  Stage: {", "  Unstaged: {").split("  Unstaged:")[0])
    assert api_config(path).stage == "dev"  # no stage in the template
    path.write_text(STAGED.replace("Default: prod", "Default: 'a b'"))
    with pytest.raises(TemplateError, match="no stage name"):
        api_config(path)


def test_papo_serve_serves_the_templates_stage(tmp_path: Path, papo_serve: PapoServe) -> None:
    (tmp_path / "template.yaml").write_text(STAGED)
    (tmp_path / "m.py").write_text("def f(event, context):\n    return {'statusCode': 200}\n")
    _, url = papo_serve("--template", "template.yaml", cwd=tmp_path)
    assert url.endswith("/prod")

    async def opens() -> bool:
        async with connect(url):
            return True

    assert asyncio.run(opens())


def test_a_route_response_makes_its_route_two_way(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        "  Api: {Type: AWS::ApiGatewayV2::Api,"
        " Properties: {ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.op}}\n"
        "  Fn: {Type: AWS::Serverless::Function, Properties: {Handler: m.f, CodeUri: .}}\n"
        "  In: {Type: AWS::ApiGatewayV2::Integration,"
        " Properties: {ApiId: !Ref Api, IntegrationUri: !GetAtt Fn.Arn}}\n"
        "  Echo: {Type: AWS::ApiGatewayV2::Route,"
        " Properties: {ApiId: !Ref Api, RouteKey: echo, Target: !Sub 'integrations/${In}'}}\n"
        "  Quiet: {Type: AWS::ApiGatewayV2::Route,"
        " Properties: {ApiId: !Ref Api, RouteKey: quiet, Target: !Sub 'integrations/${In}'}}\n"
        "  EchoResponse: {Type: AWS::ApiGatewayV2::RouteResponse,"
        " Properties: {ApiId: !Ref Api, RouteId: !Ref Echo, RouteResponseKey: $default}}\n"
    )
    config = api_config(path)
    assert config.route_responses == frozenset({"echo"})
    assert set(config.routes) == {"echo", "quiet"}
    assert config.route_selection_expression == "$request.body.op"
    assert config.routes["echo"].handler == "m.f"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Resources: {}", "one WebSocket API"),
        (
            "Resources:\n  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {ProtocolType: HTTP}}",
            "one WebSocket API",
        ),
        (
            "Resources:\n"
            "  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {ProtocolType: WEBSOCKET}}\n"
            "  R: {Type: AWS::ApiGatewayV2::Route,"
            " Properties: {ApiId: !Ref Api, RouteKey: x, Target: integrations/abc}}",
            "targets no integration",
        ),
        ("- not a template", "has no Resources"),
    ],
)
def test_templates_papo_cannot_serve_say_why(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    with pytest.raises(TemplateError, match=problem):
        api_config(path)


@pytest.fixture
def connections_table(moto_url: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_url)
    client = boto3.client("dynamodb", endpoint_url=moto_url)
    if TABLE in client.list_tables()["TableNames"]:
        client.delete_table(TableName=TABLE)
    client.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return moto_url


def stored_ids(moto_url: str) -> set[str]:
    items = boto3.client("dynamodb", endpoint_url=moto_url).scan(TableName=TABLE)["Items"]
    return {item["connectionId"]["S"] for item in items}


async def chat_through(url: str, moto_url: str) -> None:
    """Two people and a stale id in the table: a message reaches both, the stale id goes."""
    async with connect(url) as a, connect(url) as b:
        table = boto3.client("dynamodb", endpoint_url=moto_url)
        table.put_item(TableName=TABLE, Item={"connectionId": {"S": "StaleStaleStal="}})
        await a.send(json.dumps({"action": "sendmessage", "data": "hello, sample"}))
        assert await asyncio.wait_for(a.recv(), 10) == "hello, sample"
        assert await asyncio.wait_for(b.recv(), 10) == "hello, sample"
        await until(lambda: len(stored_ids(moto_url)) == 2)  # the handler drops the stale id
        assert "StaleStaleStal=" not in stored_ids(moto_url)
    await until(lambda: not stored_ids(moto_url))  # each $disconnect deletes its id


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert condition()


def test_the_sample_from_its_template(connections_table: str) -> None:
    config = api_config(TEMPLATE, limits=Limits(integration_timeout_s=10))
    with Emulator(config, port=0, tls_port=0).running() as api:
        asyncio.run(chat_through(api.websocket_url, connections_table))


def test_the_sample_with_papo_serve_template(papo_serve: PapoServe, connections_table: str) -> None:
    _, url = papo_serve("--template", "template.yaml", cwd=SAMPLE)
    asyncio.run(chat_through(url, connections_table))


def test_the_sample_with_papo_serve_handler_and_route(
    papo_serve: PapoServe, connections_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_NAME", TABLE)
    _, url = papo_serve(
        "--handler",
        "app:handler",
        "--route",
        "$connect",
        "--route",
        "$disconnect",
        "--route",
        "sendmessage",
        cwd=SAMPLE / "src",
    )
    asyncio.run(chat_through(url, connections_table))


def two_functions(folder: Path, environment: bool = False) -> Path:
    """A template with routes `a` and `b`, each a function in its own folder;
    with `environment`, each sets `WHO` to its own name and `SAME` to `same`,
    and `a` alone sets `ONLY_A`."""
    text = (
        "Resources:\n  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {ProtocolType: WEBSOCKET}}\n"
    )
    for n in ("a", "b"):
        only = ", ONLY_A: 'yes'" if n == "a" else ""
        variables = (
            f", Environment: {{Variables: {{WHO: fn{n}, SAME: same{only}}}}}" if environment else ""
        )
        text += (
            f"  Fn{n}: {{Type: AWS::Serverless::Function,"
            f" Properties: {{Handler: app.handler, CodeUri: {n}/{variables}}}}}\n"
            f"  In{n}: {{Type: AWS::ApiGatewayV2::Integration,"
            f" Properties: {{ApiId: !Ref Api, IntegrationUri: !GetAtt Fn{n}.Arn}}}}\n"
            f"  Route{n}: {{Type: AWS::ApiGatewayV2::Route,"
            f" Properties: {{ApiId: !Ref Api, RouteKey: {n},"
            f" Target: !Sub 'integrations/${{In{n}}}'}}}}\n"
            f"  Response{n}: {{Type: AWS::ApiGatewayV2::RouteResponse,"
            f" Properties: {{ApiId: !Ref Api, RouteId: !Ref Route{n},"
            f" RouteResponseKey: $default}}}}\n"
        )
    (folder / "template.yaml").write_text(text)
    return folder / "template.yaml"


def ask_routes(config: ApiConfig, routes: tuple[str, ...]) -> list[str]:
    """What the API answers each route, asked one after another on one connection."""

    async def scenario(url: str) -> list[str]:
        async with connect(url) as ws:
            answers = []
            for route in routes:
                await ws.send(json.dumps({"action": route}))
                answers.append(str(await asyncio.wait_for(ws.recv(), 20)))
            return answers

    with Emulator(config, port=0).running() as api:
        return asyncio.run(scenario(api.websocket_url))


@pytest.mark.parametrize("workers", [0, 2])
def test_two_functions_each_run_their_own_app_py_and_its_siblings(
    tmp_path: Path, workers: int
) -> None:
    """Both folders hold an `app.py` that imports a `util.py` of its own."""
    template = two_functions(tmp_path)
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "util.py").write_text(f"WHO = 'util {name}'\n")
        (folder / "app.py").write_text(
            "import util\n\n\ndef handler(event, context):\n"
            f"    return {{'statusCode': 200, 'body': 'app {name}, ' + util.WHO}}\n"
        )

    answers = ask_routes(api_config(template, workers=workers), ("a", "b", "a", "b"))
    assert answers == ["app a, util a", "app b, util b"] * 2


@pytest.mark.parametrize("workers", [0, 2])
def test_two_functions_each_run_with_their_own_environment(tmp_path: Path, workers: int) -> None:
    """As on Lambda, each function sees its own `Environment`, where they
    contradict each other too, whichever runs first, and however often."""
    template = two_functions(tmp_path, environment=True)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(
            "import os\n\n\ndef handler(event, context):\n"
            f"    seen = '{name} sees ' + os.environ['WHO'] + ', ' + os.environ['SAME']\n"
            "    seen += ', ' + os.environ.get('ONLY_A', 'nothing of a')\n"
            "    return {'statusCode': 200, 'body': seen}\n"
        )

    answers = ask_routes(api_config(template, workers=workers), ("b", "a", "b", "a"))
    assert answers == ["b sees fnb, same, nothing of a", "a sees fna, same, yes"] * 2
