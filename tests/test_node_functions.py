"""Node.js functions under `papo serve`: run by the node on PATH in containers of
their own, one invocation at a time each, loaded and reported as Lambda's
Node.js runtime does, with the AWS SDK for JavaScript v3 Lambda includes; and
AWS's own Node.js sample, simple-websockets-chat-app, from its template."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from papo.local.server import Emulator
from papo.local.template import api_config
from tests.conftest import ROOT, PapoServe

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js functions need node on PATH")

HANDLERS = Path(__file__).parent / "lambdas" / "node"
SAMPLE = Path(__file__).parent / "samples" / "simple_websockets_chat_app"

ONE_FUNCTION = """Resources:
  Api: {{Type: AWS::ApiGatewayV2::Api, Properties: {{ProtocolType: WEBSOCKET}}}}
  Fn:
    Type: AWS::Serverless::Function
    Properties: {{Handler: app.handler, CodeUri: {code}, Runtime: {runtime}, Timeout: 3}}
  In: {{Type: AWS::ApiGatewayV2::Integration, Properties: {{ApiId: !Ref Api,
    IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt Fn.Arn}}}}
  Route: {{Type: AWS::ApiGatewayV2::Route, Properties: {{ApiId: !Ref Api, RouteKey: $default,
    Target: !Sub 'integrations/${{In}}'}}}}
  Response: {{Type: AWS::ApiGatewayV2::RouteResponse, Properties: {{ApiId: !Ref Api,
    RouteId: !Ref Route, RouteResponseKey: $default}}}}
"""


def one_function(folder: Path, code: Path, runtime: str = "nodejs20.x") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    template = folder / "template.yaml"
    template.write_text(ONE_FUNCTION.format(code=code, runtime=runtime))
    return template


async def ask(ws: ClientConnection, body: str) -> str:
    await ws.send(body)
    return str(await asyncio.wait_for(ws.recv(), 30))


def log_of(tmp_path: Path) -> str:
    return (tmp_path / "papo-serve.log").read_text()


@pytest.mark.parametrize(("folder", "word"), [("callback", "callback"), ("esm", "module")])
def test_module_state_stays_warm_in_a_container_and_is_not_shared_between_two(
    papo_serve: PapoServe, tmp_path: Path, folder: str, word: str
) -> None:
    """A CommonJS callback handler and an ES module one: two invocations at once
    run in two containers, each counting from 1; one container's next invocation
    counts on from its own."""
    template = one_function(tmp_path / "api", HANDLERS / folder)
    _, url = papo_serve("--template", str(template), "--workers", "2", cwd=tmp_path)
    meeting = tmp_path / "meeting"
    meeting.mkdir()

    async def talk() -> tuple[list[str], list[str]]:
        async with connect(url) as a, connect(url) as b:
            at_once = await asyncio.gather(ask(a, f"meet:{meeting}"), ask(b, f"meet:{meeting}"))
            one_after_another = [await ask(a, "again"), await ask(a, "again")]
            return list(at_once), one_after_another

    at_once, one_after_another = asyncio.run(talk())
    assert at_once == [f"{word} 1", f"{word} 1"]
    assert one_after_another == [f"{word} 2", f"{word} 3"]
    log = log_of(tmp_path)
    assert log.count("Init Duration: ") == 2  # two cold starts, then warm
    assert "Fn runs on nodejs20.x on Node.js " in log


def test_the_context_and_console_lines_are_lambdas(papo_serve: PapoServe, tmp_path: Path) -> None:
    template = one_function(tmp_path / "api", HANDLERS / "callback")
    _, url = papo_serve("--template", str(template), cwd=tmp_path)

    async def talk() -> dict[str, object]:
        async with connect(url) as ws:
            fields: dict[str, object] = json.loads(await ask(ws, "context"))
            return fields

    fields = asyncio.run(talk())
    request_id = fields.pop("awsRequestId")
    remaining = fields.pop("remaining")
    assert isinstance(remaining, int)
    assert 0 < remaining <= 3000
    assert fields == {
        "functionName": "Fn",
        "functionVersion": "$LATEST",
        "memoryLimitInMB": "128",
        "invokedFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:Fn",
        "logGroupName": "/aws/lambda/Fn",
        "logStreamName": "papo-local",
        "callbackWaitsForEmptyEventLoop": True,
    }
    log = log_of(tmp_path)
    lines = log.splitlines()
    (printed,) = [line for line in lines if line.endswith("invocation 1 of this container")]
    stamp, said_id, level, _ = printed.split("\t")
    assert (said_id, level) == (request_id, "INFO")
    assert time.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    assert f"START RequestId: {request_id} Version: $LATEST" in lines
    (report,) = [line for line in lines if line.startswith(f"REPORT RequestId: {request_id}\t")]
    assert "\tMemory Size: 128 MB\tMax Memory Used: " in report
    assert "\tInit Duration: " in report


def test_a_timeout_is_reported_as_lambda_does_and_a_new_container_follows(
    papo_serve: PapoServe, tmp_path: Path
) -> None:
    template = one_function(tmp_path / "api", HANDLERS / "callback")
    _, url = papo_serve("--template", str(template), cwd=tmp_path)

    async def talk() -> list[str]:
        async with connect(url) as ws:
            return [await ask(ws, "one"), await ask(ws, "sleep"), await ask(ws, "after")]

    first, stopped, after = asyncio.run(talk())
    assert first == "callback 1"
    assert json.loads(stopped)["message"] == "Internal server error"
    assert after == "callback 1"  # a new container: its module starts again
    log = log_of(tmp_path)
    assert " Task timed out after 3.00 seconds" in log
    assert "\tStatus: timeout" in log
    assert log.count("Init Duration: ") == 2


def invoke(url: str, function: str) -> dict[str, object]:
    """Lambda's Invoke API of the papo serve at `url`, as the SDKs call it."""
    port = int(url.split(":")[2].split("/")[0])
    client = boto3.client(
        "lambda",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="papo-local",
        aws_secret_access_key="papo-local",
    )
    answer = client.invoke(FunctionName=function, Payload=json.dumps({"body": "fail"}).encode())
    return {"error": answer.get("FunctionError"), **json.loads(answer["Payload"].read())}


@pytest.mark.parametrize(
    ("folder", "kind", "frame"),
    [("esm", "RangeError", "app.mjs:"), ("callback", "TypeError", "app.js:")],
)
def test_a_thrown_error_is_reported_as_lambda_does(
    papo_serve: PapoServe, tmp_path: Path, folder: str, kind: str, frame: str
) -> None:
    template = one_function(tmp_path / "api", HANDLERS / folder)
    _, url = papo_serve("--template", str(template), cwd=tmp_path)
    answer = invoke(url, "Fn")
    trace = answer.pop("trace")
    assert answer == {
        "error": "Unhandled",
        "errorType": kind,
        "errorMessage": "the message asked for an error",
    }
    assert isinstance(trace, list)
    assert trace[0] == f"{kind}: the message asked for an error"
    assert frame in trace[1]
    (line,) = [line for line in log_of(tmp_path).splitlines() if "\tERROR\tInvoke Error \t" in line]
    logged = json.loads(line.split("\tInvoke Error \t")[1])
    assert logged == {
        "errorType": kind,
        "errorMessage": "the message asked for an error",
        "stack": trace,
    }


def test_a_module_that_cannot_load_is_reported_as_lambda_does(
    papo_serve: PapoServe, tmp_path: Path
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.js").write_text("const sdk = require('no-such-package');\n")
    template = one_function(tmp_path / "api", code)
    _, url = papo_serve("--template", str(template), cwd=tmp_path)
    answer = invoke(url, "Fn")
    assert answer["errorType"] == "Runtime.ImportModuleError"
    assert str(answer["errorMessage"]).startswith("Error: Cannot find module 'no-such-package'")
    assert "\tError Type: Runtime.ImportModuleError" in log_of(tmp_path)


def test_a_handler_and_runtime_on_the_command_line_run_in_node(
    papo_serve: PapoServe, tmp_path: Path
) -> None:
    _, url = papo_serve(
        "--handler",
        "app.handler",
        "--runtime",
        "nodejs22.x",
        "--route-response",
        "$default",
        cwd=HANDLERS / "esm",
    )

    async def talk() -> list[str]:
        async with connect(url) as ws:
            return [await ask(ws, "one"), await ask(ws, "two")]

    assert asyncio.run(talk()) == ["module 1", "module 2"]


def test_a_retired_runtime_runs_on_the_machines_node_and_the_banner_says_so(
    papo_serve: PapoServe, tmp_path: Path
) -> None:
    template = one_function(tmp_path / "api", HANDLERS / "esm", runtime="nodejs12.x")
    _, url = papo_serve("--template", str(template), cwd=tmp_path)

    async def talk() -> str:
        async with connect(url) as ws:
            return await ask(ws, "one")

    assert asyncio.run(talk()) == "module 1"
    version = subprocess.run(
        [str(NODE), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert (
        f"    Fn runs on Node.js {version.lstrip('v')} ({NODE}) instead of nodejs12.x, "
        "which Lambda has retired\n"
    ) in log_of(tmp_path)


def test_without_node_papo_serve_says_so_in_one_line_and_does_not_start(tmp_path: Path) -> None:
    template = one_function(tmp_path / "api", HANDLERS / "esm")
    no_node = tmp_path / "bin"
    no_node.mkdir()
    shown = subprocess.run(
        [sys.executable, "-m", "papo", "serve", "--template", str(template), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PATH": str(no_node), "PYTHONPATH": str(ROOT / "src")},
    )
    assert shown.returncode != 0
    assert shown.stderr.strip() == (
        "papo serve: Fn names nodejs20.x, and papo serve runs Node.js functions on the node "
        "on PATH, which must be Node.js 20.6 or newer: none is there (install it from "
        "https://nodejs.org or your package manager)"
    )


def sample_as_built(folder: Path) -> Path:
    """The sample, copied as published, with each function's declared dependencies
    installed in its folder, as `sam build` does."""
    shutil.copytree(SAMPLE, folder)
    for function in ("onconnect", "ondisconnect", "sendmessage"):
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder / function,
            check=True,
            timeout=300,
        )
    return folder / "template.yaml"


def connection_ids(moto_url: str, table: str) -> set[str]:
    items = boto3.client("dynamodb", endpoint_url=moto_url).scan(TableName=table)["Items"]
    return {item["connectionId"]["S"] for item in items}


async def until(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert condition()


def test_aws_nodejs_sample_chats_unmodified_from_its_template(
    papo_serve: PapoServe, tmp_path: Path, moto_url: str, aws_env: None
) -> None:
    """Its functions reach DynamoDB (moto's) through AWS_ENDPOINT_URL_DYNAMODB, and
    the Management API through the API's AWS address, which sendmessage builds
    from the event's apiId and its region."""
    table = "simplechat_" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:10])
    boto3.client("dynamodb", endpoint_url=moto_url).create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    template = sample_as_built(tmp_path / "sample")
    _, url = papo_serve(
        "--template",
        str(template),
        "--parameter",
        f"TableName={table}",
        "--dynamodb-endpoint",
        moto_url,
        cwd=tmp_path / "sample",
    )
    assert url.endswith("/Prod")

    async def chat() -> None:
        async with connect(url) as a:
            async with connect(url) as b:
                await until(lambda: len(connection_ids(moto_url, table)) == 2)
                await a.send(json.dumps({"action": "sendmessage", "data": "hello, sample"}))
                assert await asyncio.wait_for(a.recv(), 30) == "hello, sample"
                assert await asyncio.wait_for(b.recv(), 30) == "hello, sample"
            await until(lambda: len(connection_ids(moto_url, table)) == 1)  # b's $disconnect

    asyncio.run(chat())
    log = log_of(tmp_path)
    for function in ("OnConnectFunction", "OnDisconnectFunction", "SendMessageFunction"):
        assert f"    {function} runs on nodejs20.x on Node.js " in log


AUTHORIZER_SAMPLE = Path(__file__).parent / "samples" / "request_authorizer"


@pytest.mark.usefixtures("no_pyenv_pythons")  # its Python function on papo serve's own
def test_a_nodejs_request_authorizer_guards_connect(tmp_path: Path) -> None:
    """The REQUEST authorizer sample's template, its authorizer written in
    Node.js (`tests/lambdas/node/authorizer`): its Allow lets the handshake in,
    with its context stringified in every event as API Gateway gives it; its
    Deny refuses it (403), and so does its `Unauthorized` thrown (401)."""
    template = (AUTHORIZER_SAMPLE / "template.yaml").read_text()
    python_function = "      CodeUri: .\n      Handler: app.handler\n"
    node_authorizer = (
        "      CodeUri: .\n      Handler: authorizer.handler\n      Runtime: python3.12\n"
    )
    assert python_function in template
    assert node_authorizer in template
    template = template.replace(
        python_function, f"      CodeUri: {AUTHORIZER_SAMPLE}\n      Handler: app.handler\n"
    ).replace(
        node_authorizer,
        f"      CodeUri: {HANDLERS / 'authorizer'}\n      Handler: authorizer.handler\n"
        "      Runtime: nodejs20.x\n",
    )
    (tmp_path / "template.yaml").write_text(template)

    async def scenario(url: str) -> tuple[dict[str, Any], list[int]]:
        async with connect(f"{url}?token=allow:ana") as ws:
            await ws.send("who am I?")
            seen = dict(json.loads(await asyncio.wait_for(ws.recv(), 30))["authorizer"])
        refused = []
        for token in ("deny", "unauthorized", "none-such"):
            with pytest.raises(InvalidStatus) as refusal:
                async with connect(f"{url}?token={token}"):
                    pass
            refused.append(refusal.value.response.status_code)
        return seen, refused

    config = api_config(tmp_path / "template.yaml")
    with Emulator(config, port=0, tls_port=None).running() as api:
        seen, refused = asyncio.run(asyncio.wait_for(scenario(api.websocket_url), 60))
    assert isinstance(seen.pop("integrationLatency"), int)
    assert seen == {"principalId": "ana", "name": "ana", "level": "3", "admin": "true"}
    assert refused == [403, 401, 500]
