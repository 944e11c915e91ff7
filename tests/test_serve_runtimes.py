"""`papo serve` says what it runs: each function's Python (docs/promises.md: "A
function runs on the Python its template names": the one its template names
where this machine has it, else which runs it instead), and the special routes
an API lacks, with how to add them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

import papo
from papo.local.app import ServeOptions
from papo.local.runtime import interpreter
from tests.conftest import ROOT, PapoServe

THIS = f"{sys.version_info[0]}.{sys.version_info[1]}"

ONE_FUNCTION = """Resources:
  Api: {{Type: AWS::ApiGatewayV2::Api, Properties: {{ProtocolType: WEBSOCKET}}}}
  Fn:
    Type: AWS::Serverless::Function
    Properties: {{Handler: app.handler, CodeUri: ., Runtime: {runtime}}}
  In: {{Type: AWS::ApiGatewayV2::Integration, Properties: {{ApiId: !Ref Api,
    IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt Fn.Arn}}}}
  Route: {{Type: AWS::ApiGatewayV2::Route, Properties: {{ApiId: !Ref Api, RouteKey: $default,
    Target: !Sub 'integrations/${{In}}'}}}}
  Response: {{Type: AWS::ApiGatewayV2::RouteResponse, Properties: {{ApiId: !Ref Api,
    RouteId: !Ref Route, RouteResponseKey: $default}}}}
"""
WHICH_PYTHON = """import sys

def handler(event, context):
    return {"statusCode": 200, "body": "%d.%d" % sys.version_info[:2]}
"""


def test_a_runtime_this_machine_lacks_runs_on_this_python_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `python3.99` that is not Python 3.99 (a pyenv shim of another version, say)
    does not count."""
    shim = tmp_path / "bin" / "python3.99"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    found = interpreter("python3.99")
    assert (found.found, found.foreign, found.path) == (False, False, sys.executable)
    assert found.describe() == (
        f"Python {THIS} ({sys.executable}) instead of python3.99, "
        "which is neither on PATH nor among pyenv's versions"
    )
    assert interpreter(f"python{THIS}").describe().startswith(f"Python {THIS} (")


def fake_python(path: Path, says: str) -> Path:
    """An executable at `path` that answers papo serve's question for its version
    with `says` (or fails, as a pyenv shim of a version not selected)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {says}\n" if says else "#!/bin/sh\nexit 127\n")
    path.chmod(0o755)
    return path


def test_a_runtime_is_found_among_pyenvs_versions_when_path_has_none_that_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyenv's shim on PATH runs a version only once selected; its versions are
    found where pyenv keeps them, the newest first, each asked which it is."""
    fake_python(tmp_path / "shims" / "python3.98", "")
    root = tmp_path / "pyenv"
    for version, says in (("3.98.2", "3.98"), ("3.98.10", "3.98"), ("3.98.11", "3.97")):
        fake_python(root / "versions" / version / "bin" / "python3.98", says)
    monkeypatch.setenv("PATH", f"{tmp_path / 'shims'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYENV_ROOT", str(root))
    found = interpreter("python3.98")
    assert (found.found, found.foreign, found.version) == (True, True, "3.98")
    assert found.path == str(root / "versions" / "3.98.10" / "bin" / "python3.98")
    assert found.describe() == f"python3.98 ({found.path}), in processes of its own"


def code_with_its_own_papo(folder: Path, runtime: str) -> Path:
    """A function whose code brings a papo of its own, as papo's Lambda zip does."""
    (folder / "papo").mkdir(parents=True)
    (folder / "papo" / "__init__.py").write_text('WHOSE = "the code\'s own"\n')
    (folder / "app.py").write_text(WHICH_PYTHON)
    (folder / "template.yaml").write_text(ONE_FUNCTION.format(runtime=runtime))
    return folder / "template.yaml"


def test_code_with_its_own_papo_is_not_run_on_papo_serves_python_in_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """papo serve's Python has imported papo: run there, the function would get
    that papo, not its own, silently. papo serve says so, and what to install."""
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    template = code_with_its_own_papo(tmp_path / "app", "python3.99")
    with pytest.raises(ValueError, match=r"install Python 3\.99") as refused:
        ServeOptions(template=template).api_config()
    assert "Fn names python3.99" in str(refused.value)
    assert "its code has its own papo" in str(refused.value)

    shown = subprocess.run(
        [sys.executable, "-m", "papo", "serve", "--template", str(template), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert shown.returncode != 0
    assert shown.stderr.strip() == f"papo serve: {refused.value}"


def test_papos_own_source_runs_on_papo_serves_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The papo papo serve has imported is that very code: nothing runs in its place."""
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    source = Path(papo.__file__).resolve().parent.parent
    template = tmp_path / "template.yaml"
    template.write_text(
        ONE_FUNCTION.format(runtime="python3.99").replace("CodeUri: .", f"CodeUri: {source}")
    )
    (target,) = ServeOptions(template=template).api_config().routes.values()
    assert (target.code_dir, target.runtime) == (str(source), "python3.99")
    assert not interpreter("python3.99").found


def test_the_banner_names_the_python_that_runs_each_function(
    papo_serve: PapoServe, tmp_path: Path
) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "template.yaml").write_text(ONE_FUNCTION.format(runtime="python3.99"))
    (folder / "app.py").write_text(WHICH_PYTHON)
    _, url = papo_serve("--template", "template.yaml", cwd=folder)

    async def ask() -> str:
        async with connect(url) as ws:
            await ws.send("which?")
            return str(await asyncio.wait_for(ws.recv(), 10))

    assert asyncio.run(ask()) == THIS
    banner = (tmp_path / "papo-serve.log").read_text()
    assert f"Fn runs on Python {THIS} ({sys.executable}) instead of python3.99" in banner
    assert (
        "no $connect route: connections are accepted without invoking a function; add an "
        "AWS::ApiGatewayV2::Route with RouteKey: $connect in the template"
    ) in banner


LAMBDA_CHAT = """import json

def lambda_handler(event, context):
    print(json.dumps({"route": event["requestContext"]["routeKey"]}))
    return {"statusCode": 200}
"""


def test_a_handler_without_its_connection_routes_is_told_how_to_add_them(
    papo_serve: PapoServe, tmp_path: Path
) -> None:
    """AWS's own chat sample keeps its connections in `$connect` and `$disconnect`:
    served with `--route sendmessage` alone, it would hear of no connection."""
    folder = tmp_path / "chat"
    folder.mkdir()
    (folder / "lambda_chat.py").write_text(LAMBDA_CHAT)
    _, url = papo_serve(
        "--handler", "lambda_chat:lambda_handler", "--route", "sendmessage", cwd=folder
    )
    log = tmp_path / "papo-serve.log"
    banner = log.read_text()
    for key, consequence in (
        ("$connect", "connections are accepted without invoking a function"),
        ("$disconnect", "no function hears that a connection ended"),
        ("$default", 'a message that names no route gets {"message": "Forbidden"}'),
    ):
        assert f"  no {key} route: {consequence}; add --route '{key}'" in banner

    async def talk() -> str:
        async with connect(url) as ws:
            await ws.send(json.dumps({"action": "sendmessage", "data": "hi"}))
            await ws.send("no action")
            await ws.send("still none")
            return str(await asyncio.wait_for(ws.recv(), 10))

    assert json.loads(asyncio.run(talk()))["message"] == "Forbidden"
    deadline = time.monotonic() + 10
    expected = ("no $disconnect route", '{"route": "sendmessage"}')
    while not all(e in log.read_text().partition("Ctrl-C stops.")[2] for e in expected):
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    events = log.read_text().partition("Ctrl-C stops.")[2]
    assert events.count("no $connect route: connections are accepted") == 1
    assert events.count("no $default route") == 1  # the first unrouted message only
    assert "add it: --route '$default'" in events
