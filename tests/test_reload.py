"""`papo serve --reload` keeps the sockets (docs/promises.md: "A reload keeps
the connections"): a function whose code changes runs its new code from its
next invocation on, in threads or in containers, while the connections that
are open stay open and keep their ids; the log says which functions were
reloaded."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import PapoServe

HANDLER = """import json

import greeting

SAYS = "the first version"


def handler(event, context):
    ctx = event["requestContext"]
    if ctx["routeKey"] != "$default":
        return {"statusCode": 200}
    said = {"says": SAYS, "greets": greeting.GREETING, "connectionId": ctx["connectionId"]}
    return {"statusCode": 200, "body": json.dumps(said)}
"""
GREETING = 'GREETING = "hello"\n'


def reloaded(log: Path, count: int) -> str:
    """The log once it has said `count` reloads (papo serve writes it as it reloads)."""
    deadline = time.monotonic() + 60
    while len(re.findall(r"^reload: .* changed: reloaded ", text := log.read_text(), re.M)) < count:
        assert time.monotonic() < deadline, text
        time.sleep(0.05)
    return text


async def ask(ws: ClientConnection) -> dict[str, str]:
    await ws.send("which version?")
    answer: dict[str, str] = json.loads(await asyncio.wait_for(ws.recv(), 30))
    return answer


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_changed_handler_runs_on_the_same_connection(
    papo_serve: PapoServe, tmp_path: Path, workers: str
) -> None:
    """In threads (a Timeout past the integration timeout keeps it there) and in
    two containers; the handler's own module and a module it imports change."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    (code / "greeting.py").write_text(GREETING)
    _, url = papo_serve(
        "--handler",
        "app:handler",
        "--route-response",
        "$default",
        "--timeout",
        "60",
        "--workers",
        workers,
        "--reload",
        cwd=code,
    )
    log = tmp_path / "papo-serve.log"
    assert "reload          on: a changed .py file reloads its functions" in log.read_text()

    async def scenario() -> None:
        async with connect(url) as ws:
            first = await ask(ws)
            assert (first["says"], first["greets"]) == ("the first version", "hello")
            (code / "app.py").write_text(HANDLER.replace("the first version", "the second one"))
            assert "app.py changed: reloaded app; connections stay open" in reloaded(log, 1)
            second = await ask(ws)
            assert (second["says"], second["greets"]) == ("the second one", "hello")
            (code / "greeting.py").write_text('GREETING = "hello again"\n')
            assert "greeting.py changed: reloaded app" in reloaded(log, 2)
            third = await ask(ws)
            assert (third["says"], third["greets"]) == ("the second one", "hello again")
            assert first["connectionId"] == second["connectionId"] == third["connectionId"]

    asyncio.run(scenario())


TWO_FOLDERS = """Resources:
  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {ProtocolType: WEBSOCKET}}
  Counting:
    Type: AWS::Serverless::Function
    Properties: {Handler: app.handler, CodeUri: counting/, Timeout: 60}
  Counted:
    Type: AWS::Serverless::Function
    Properties: {Handler: app.handler, CodeUri: counted/, Timeout: 60}
  CountingIn: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Api,
    IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt Counting.Arn}}
  CountedIn: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Api,
    IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt Counted.Arn}}
  CountingRoute: {Type: AWS::ApiGatewayV2::Route, Properties: {ApiId: !Ref Api,
    RouteKey: counting, Target: !Sub 'integrations/${CountingIn}'}}
  CountedRoute: {Type: AWS::ApiGatewayV2::Route, Properties: {ApiId: !Ref Api,
    RouteKey: counted, Target: !Sub 'integrations/${CountedIn}'}}
  CountingResponse: {Type: AWS::ApiGatewayV2::RouteResponse, Properties: {ApiId: !Ref Api,
    RouteId: !Ref CountingRoute, RouteResponseKey: $default}}
  CountedResponse: {Type: AWS::ApiGatewayV2::RouteResponse, Properties: {ApiId: !Ref Api,
    RouteId: !Ref CountedRoute, RouteResponseKey: $default}}
"""
COUNTING = """import json

NAME = "FOLDER"
invocations = 0


def handler(event, context):
    global invocations
    invocations += 1
    return {"statusCode": 200, "body": json.dumps([NAME, invocations])}
"""


def test_only_the_functions_of_the_changed_folder_are_reloaded(
    papo_serve: PapoServe, tmp_path: Path
) -> None:
    """Each function its own folder: the one whose code changed starts cold, the
    other keeps its warm module state. Both on papo serve's Python, in threads."""
    project = tmp_path / "project"
    for folder in ("counting", "counted"):
        (project / folder).mkdir(parents=True)
        (project / folder / "app.py").write_text(COUNTING.replace("FOLDER", folder))
    (project / "template.yaml").write_text(TWO_FOLDERS)
    _, url = papo_serve("--template", "template.yaml", "--reload", cwd=project)
    log = tmp_path / "papo-serve.log"

    async def count(ws: ClientConnection, route: str) -> list[object]:
        await ws.send(json.dumps({"action": route}))
        answer: list[object] = json.loads(await asyncio.wait_for(ws.recv(), 30))
        return answer

    async def scenario() -> None:
        async with connect(url) as ws:
            assert await count(ws, "counting") == ["counting", 1]
            assert await count(ws, "counted") == ["counted", 1]
            changed = COUNTING.replace("FOLDER", "counting, changed")
            (project / "counting" / "app.py").write_text(changed)
            assert "counting/app.py changed: reloaded Counting;" in reloaded(log, 1)
            assert await count(ws, "counting") == ["counting, changed", 1]
            assert await count(ws, "counted") == ["counted", 2]

    asyncio.run(scenario())


def test_papos_own_handler_reloads_from_papos_package_but_not_the_emulator() -> None:
    """papo's handler and authorizer are reloaded from papo's package, with the
    chat's modules; papo serve's own (papo.local, the command line) are not
    imported anew, and a change to them is told apart, to be said to need a restart."""
    import papo.aws.handler
    import papo.cli
    import papo.local.gateway
    from papo.local.config import PAPO_HANDLER, ApiConfig, Authorizer
    from papo.local.reload import PAPOS_PACKAGE, StaleModules, Watched

    config = ApiConfig.for_handler(PAPO_HANDLER, ("$default",), authorizer=Authorizer.papos())
    watched = Watched.of(config)
    assert watched.folders == {PAPOS_PACKAGE: ("papo-aws-handler", "papo-aws-authorizer")}
    chat, emulator = PAPOS_PACKAGE / "core" / "chat.py", PAPOS_PACKAGE / "local" / "gateway.py"
    assert watched.emulators_own([chat, emulator]) == [emulator]
    assert watched.changed_folders([emulator]) == []
    assert watched.changed_folders([chat, emulator]) == [PAPOS_PACKAGE]
    stale = StaleModules((PAPOS_PACKAGE,))
    assert stale(papo.aws.handler)
    assert not any(stale(module) for module in (papo, papo.cli, papo.local.gateway))
