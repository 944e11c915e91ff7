"""The Lambda zip, as it would run on AWS: built here for this machine's architecture,
served from `deploy/template.yaml` by `papo serve --template`, its function run by
the template's runtime (Python 3.12) in processes that have nothing but the zip and
what Lambda's runtime has (boto3), against DynamoDB and SSM (moto), the bot's own
asynchronous invocation (papo serve's Lambda API) and the fake OpenAI server.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from deploy import lambda_runtime, lambda_zip, sam_deploy
from papo.local.runtime import find_python
from papo.local.template import load
from tests.bot_room import KEY, Person, is_final
from tests.conftest import ROOT, PapoServe
from tests.fake_openai import FakeOpenAi

TEMPLATE = ROOT / "deploy" / "template.yaml"
RUNTIME = "3.12"
ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
    platform.machine().lower()
)


@pytest.fixture(scope="session")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip `make lambda` builds, for this machine's architecture."""
    if ARCH is None:
        pytest.skip(f"Lambda has no {platform.machine()} architecture")
    return lambda_zip.build(ARCH, tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def lambda_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with `python3.12` whose only package is boto3, as Lambda's runtime
    has: what `make serve-lambda` puts first on PATH."""
    if find_python(RUNTIME) is None:
        missing = "no Python 3.12 on PATH or in pyenv: the zip runs on Lambda's Python 3.12"
        if os.environ.get("CI"):  # where the zip must be proven before it ships
            pytest.fail(missing)
        pytest.skip(missing)
    return lambda_runtime.create(tmp_path_factory.mktemp("lambda-runtime") / "venv")


@pytest.fixture
def aws(moto_url: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The template's table in moto, as it declares it, and the bot's key in SSM."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", moto_url)
    table = load(TEMPLATE)["Resources"]["Table"]["Properties"]
    name = "Table"  # no TableName: CloudFormation names it, papo serve says its logical id
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_url)
    if name in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=name)
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
        BillingMode=table["BillingMode"],
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification=table["TimeToLiveSpecification"]
    )
    parameter = f"/papo-test/{uuid.uuid4().hex[:8]}/openai-api-key"
    ssm = boto3.client("ssm", endpoint_url=moto_url)
    ssm.put_parameter(Name=parameter, Value=KEY, Type="SecureString")
    yield {"table": name, "parameter": parameter}
    ssm.delete_parameter(Name=parameter)


def serve_artifact(
    papo_serve: PapoServe,
    monkeypatch: pytest.MonkeyPatch,
    lambda_python: Path,
    code: Path,
    *parameters: str,
) -> str:
    monkeypatch.setenv("PATH", f"{lambda_python}{os.pathsep}{os.environ['PATH']}")
    arguments = ["--template", str(TEMPLATE), "--code", f"ChatFunction={code}"]
    for parameter in parameters:
        arguments += ["--parameter", parameter]
    _, url = papo_serve(*arguments, "--integration-timeout", "20")
    return url


def log_lines(tmp_path: Path) -> list[dict[str, Any]]:
    """papo's JSON log lines in papo serve's output."""
    lines = (tmp_path / "papo-serve.log").read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith('{"timestamp"')]


def routes_done(tmp_path: Path, expected: set[str]) -> set[str]:
    """The routes whose invocations logged their end, once `expected` are among
    them or 10 s have passed: an invocation logs its end after its last post."""
    deadline = time.monotonic() + 10
    while True:
        done = [line for line in log_lines(tmp_path) if line["message"] == "route done"]
        routes = {line["route"] for line in done}
        if expected <= routes or time.monotonic() > deadline:
            return routes
        time.sleep(0.05)


async def conversation(url: str) -> dict[str, list[dict[str, Any]]]:
    """Ana and Bruno join, talk in public and in private, ask the bot, and ping."""
    async with connect(url) as ana_ws, connect(url) as bruno_ws:
        ana, bruno = Person(ana_ws, "Ana"), Person(bruno_ws, "Bruno")
        await ana.say("setName", name="Ana")
        await ana.until(lambda f: f.get("event") == "joined")
        await bruno.say("setName", name="Bruno")
        for person in (ana, bruno):
            await person.until(lambda f: f.get("event") == "joined" and f["name"] == "Bruno")
        await ana.say("sendPublic", message="hi all")
        for person in (ana, bruno):
            await person.until(lambda f: f.get("publicMessage") == "Ana: hi all")
        await bruno.say("sendPrivate", to="Ana", message="psst")
        await ana.until(lambda f: f.get("privateMessage") == "Bruno: psst")
        await bruno.until(lambda f: f.get("type") == "private")
        await ana.say("sendBot", message="What is papo?")
        answers = {"Ana": await ana.answer(30), "Bruno": await bruno.answer(30)}
        await bruno.say("ping")
        answers["pong"] = await bruno.until(lambda f: f.get("type") == "pong")
        return answers


def test_the_zip_serves_the_whole_conversation_from_its_template(
    artifact: Path,
    lambda_python: Path,
    aws: dict[str, str],
    fake: FakeOpenAi,
    papo_serve: PapoServe,
    moto_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url = serve_artifact(
        papo_serve,
        monkeypatch,
        lambda_python,
        artifact,
        f"OpenAiKeyParameter={aws['parameter']}",
        f"BotBaseUrl={fake.url}",
        "BotModel=papo-test-model",
    )
    heard = asyncio.run(conversation(url))

    for name in ("Ana", "Bruno"):
        final = heard[name][-1]
        assert is_final(final)
        assert final["publicMessage"] == "Bot: Hello from the bot."
        assert final["status"] == "complete"
        assert any(f.get("type") == "botDelta" for f in heard[name])
    assert heard["pong"][-1] == {"type": "pong"}
    # The bot's key came from SSM, the model and the server from the template's parameters.
    assert fake.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert fake.requests[0].body["model"] == "papo-test-model"
    # The template's table holds the room (PAPO_STORE and PAPO_TABLE as the template sets them).
    items = boto3.client("dynamodb", endpoint_url=moto_url).scan(TableName=aws["table"])["Items"]
    said = {item.get("text", {}).get("S") for item in items if item["sk"]["S"].startswith("E#")}
    assert {"hi all", "Hello from the bot."} <= said
    # Each action came through its own route, the answer through the function's own
    # asynchronous invocation, all on the template's Python, from the zip.
    expected = {"$connect", "setName", "sendPublic", "sendPrivate", "sendBot", "papoAnswer"}
    routes = routes_done(tmp_path, expected)
    assert expected <= routes
    assert "ping" not in routes  # API Gateway answers it: no invocation
    output = (tmp_path / "papo-serve.log").read_text()
    assert f"runs on python3.12 ({lambda_python / 'python3.12'})" in output
    assert KEY not in output


def without(artifact: Path, folder: str, tmp_path: Path) -> Path:
    """The zip less one top-level folder."""
    broken = tmp_path / f"without-{folder}.zip"
    with zipfile.ZipFile(artifact) as source, zipfile.ZipFile(broken, "w") as target:
        for entry in source.infolist():
            if entry.filename.partition("/")[0] != folder:
                target.writestr(entry, source.read(entry))
    return broken


def test_a_zip_that_lacks_what_the_handler_imports_fails_as_it_would_on_aws(
    artifact: Path,
    lambda_python: Path,
    aws: dict[str, str],
    papo_serve: PapoServe,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Without msgspec the function cannot start: API Gateway refuses the handshake
    (502), and the log says which module is missing. So the test above runs the
    zip, not papo's own source or its virtual environment."""
    url = serve_artifact(
        papo_serve, monkeypatch, lambda_python, without(artifact, "msgspec", tmp_path)
    )

    async def handshake() -> None:
        async with connect(url):
            pass

    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(handshake())
    assert refused.value.response.status_code == 502
    output = (tmp_path / "papo-serve.log").read_text()
    assert "Unable to import module 'papo.aws.handler': No module named 'msgspec'" in output


def test_the_zip_runs_on_pyenvs_python_312_where_path_has_none(
    artifact: Path,
    lambda_python: Path,
    aws: dict[str, str],
    papo_serve: PapoServe,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """`make serve-lambda` on a machine whose Python 3.12 is one of pyenv's, not
    selected (its shim on PATH does not run it): that Python runs the zip."""
    root = tmp_path / "pyenv"
    (root / "versions").mkdir(parents=True)
    (root / "versions" / "3.12.99").symlink_to(lambda_python.parent, target_is_directory=True)
    monkeypatch.setenv("PYENV_ROOT", str(root))
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    arguments = ["--template", str(TEMPLATE), "--code", f"ChatFunction={artifact}"]
    _, url = papo_serve(*arguments, "--integration-timeout", "20")

    async def join() -> None:
        async with connect(url) as ws:
            ana = Person(ws, "Ana")
            await ana.say("setName", name="Ana")
            await ana.until(lambda f: f.get("event") == "joined")

    asyncio.run(join())
    python = root / "versions" / "3.12.99" / "bin" / "python3.12"
    assert (
        f"runs on python3.12 ({python}), in processes of its own"
        in (tmp_path / "papo-serve.log").read_text()
    )
    assert routes_done(tmp_path, {"$connect", "setName"}) >= {"$connect", "setName"}


def test_without_python_312_the_zip_is_refused_not_run_on_papo_serves_own(
    artifact: Path, tmp_path: Path
) -> None:
    """papo serve's Python has imported papo: the zip run there would run that papo,
    not its own, and its 3.12 wheels would not load. papo serve says so and stops."""
    environ = {
        **os.environ,
        "PATH": str(Path(sys.executable).parent),
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
        "PYTHONPATH": str(ROOT / "src"),
    }
    command = [sys.executable, "-m", "papo", "serve", "--template", str(TEMPLATE)]
    command += ["--code", f"ChatFunction={artifact}", "--port", "0"]
    shown = subprocess.run(
        command, capture_output=True, text=True, env=environ, timeout=60, check=False
    )
    assert shown.returncode != 0
    (line,) = shown.stderr.strip().splitlines()
    assert line.startswith("papo serve: papo-local-chat names python3.12, which is neither on PATH")
    own = line.partition(", and its code has its own ")[2].partition(", which")[0]
    assert "papo" in own.split(", ")
    assert line.endswith(
        "install Python 3.12 (pyenv install 3.12, or put a virtual environment of it on PATH)"
    )


def test_the_zip_holds_papo_without_its_emulator_nor_what_lambda_has(artifact: Path) -> None:
    with zipfile.ZipFile(artifact) as opened:
        names = opened.namelist()
        modes = {entry.external_attr >> 16 for entry in opened.infolist()}
    tops = {name.partition("/")[0] for name in names}
    assert "papo/aws/handler.py" in names
    assert {"msgspec", "openai", "aws_lambda_powertools"} <= tops
    assert not tops & {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil"}
    assert not [n for n in names if n.startswith("papo/local/") or n in LEFT_OUT_FILES]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert modes == {0o100644}
    assert artifact.stat().st_size < 15e6  # README: 12.3 MB (arm64), 12.5 MB (x86_64)


LEFT_OUT_FILES = ("papo/cli.py", "papo/__main__.py")


def test_the_same_sources_make_the_same_zip(artifact: Path, tmp_path: Path) -> None:
    again = lambda_zip.build(ARCH or "x86_64", tmp_path)
    assert again.read_bytes() == artifact.read_bytes()


def test_make_lambda_builds_what_the_template_deploys() -> None:
    """make deploy copies the zip of its ARCH where the template takes its code."""
    resources = load(TEMPLATE)["Resources"]
    code = resources["ChatFunction"]["Properties"]["CodeUri"]
    assert (TEMPLATE.parent / code).resolve() == sam_deploy.DEPLOYED.resolve()
    assert sam_deploy.DEPLOYED.parent == lambda_zip.zip_path("arm64").parent
    assert resources["ChatFunction"]["Properties"]["Handler"] == lambda_zip.HANDLER
