"""`papo serve` on a local DynamoDB (moto's server), as docs/local-dynamodb.md
says to run it: its commands as written there, on a laptop with no AWS
credentials; and the one line it says instead of starting where it cannot."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from websockets.asyncio.client import ClientConnection, connect

from papo.adapters.store.dynamodb_table import TABLE
from papo.local.template import load
from tests.conftest import ROOT, PapoServe, free_port

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient

PAGE = ROOT / "docs" / "local-dynamodb.md"
DOCUMENTED_ENDPOINT = "http://127.0.0.1:5000"


def documented_commands() -> list[list[str]]:
    """The `papo …` lines of the page's first shell block, without their comments."""
    block = re.search(r"```sh\n(.*?)```", PAGE.read_text(), re.S)
    assert block is not None, "the page has no shell block"
    lines = [line.split("#")[0].strip() for line in block[1].splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("papo ")]


@pytest.fixture
def new_laptop(
    moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """A developer's machine with no AWS credentials or configuration, and a
    table name of this test's own; runs `papo` there as a command."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("PAPO_TABLE", f"papo-{uuid.uuid4().hex[:8]}")

    def papo(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(ROOT / "src"), str(ROOT)))}
        return subprocess.run(
            [sys.executable, "-m", "papo", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    return papo


async def frame_where(ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool]) -> Any:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
        if wanted(frame):
            return frame


async def course_session(url: str) -> None:
    """The course's protocol: two people join, talk to everyone and to one."""
    async with connect(url) as ana, connect(url) as bruno:
        await ana.send(json.dumps({"action": "setName", "name": "Ana"}))
        await frame_where(ana, lambda f: f.get("systemMessage") == "Ana joined the chat")
        await bruno.send(json.dumps({"action": "setName", "name": "Bruno"}))
        for ws in (ana, bruno):
            await frame_where(ws, lambda f: f.get("members") == ["Ana", "Bruno"])
        await ana.send(json.dumps({"action": "sendPublic", "message": "hi"}))
        for ws in (ana, bruno):
            await frame_where(ws, lambda f: f.get("publicMessage") == "Ana: hi")
        await ana.send(json.dumps({"action": "sendPrivate", "to": "Bruno", "message": "psst"}))
        for ws in (bruno, ana):
            await frame_where(ws, lambda f: f.get("privateMessage") == "Ana: psst")


def test_the_template_declares_the_table_papo_creates() -> None:
    template = load(ROOT / "deploy" / "template.yaml")
    assert template["Resources"]["Table"]["Properties"] == TABLE


def test_papo_serve_runs_on_moto_from_the_pages_commands_alone(
    new_laptop: Callable[..., subprocess.CompletedProcess[str]],
    papo_serve: PapoServe,
    moto_url: str,
) -> None:
    create, serve = documented_commands()
    assert create[:2] == ["table", "create"]
    assert serve[:3] == ["serve", "--store", "dynamodb"]
    endpoint = [moto_url if arg == DOCUMENTED_ENDPOINT else arg for arg in create]
    made = new_laptop(*endpoint)
    assert made.returncode == 0, made.stderr
    assert new_laptop(*endpoint).returncode == 0  # once more: it is already there

    _, url = papo_serve(*(moto_url if arg == DOCUMENTED_ENDPOINT else arg for arg in serve[1:]))
    asyncio.run(course_session(url))

    # The conversation is in moto's table, in papo's items: DynamoDB was the store.
    dynamodb = moto(moto_url)
    items = dynamodb.scan(TableName=os.environ["PAPO_TABLE"])["Items"]
    assert any(item.get("text") == {"S": "hi"} for item in items)
    description = dynamodb.describe_time_to_live(TableName=os.environ["PAPO_TABLE"])
    assert description["TimeToLiveDescription"]["AttributeName"] == "expiresAt"


def moto(moto_url: str) -> DynamoDBClient:
    """A client of moto's DynamoDB, which takes any credentials."""
    return boto3.client(
        "dynamodb",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="any",
        aws_secret_access_key="any",
    )


def refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The one line `papo serve` says instead of starting."""
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def serve_args(endpoint: str) -> list[str]:
    return ["serve", "--store", "dynamodb", "--dynamodb-endpoint", endpoint, "--port", "0"]


def test_without_the_table_papo_serve_names_the_command_that_creates_it(
    new_laptop: Callable[..., subprocess.CompletedProcess[str]], moto_url: str
) -> None:
    said = refusal(new_laptop(*serve_args(moto_url)))
    assert f"has no table '{os.environ['PAPO_TABLE']}'" in said
    assert f"`papo table create --dynamodb-endpoint {moto_url}`" in said


def test_an_endpoint_nobody_answers_is_one_line_too(
    new_laptop: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    said = refusal(new_laptop(*serve_args(nobody)))
    assert said.startswith(f"papo serve: cannot reach DynamoDB at {nobody}")
    assert f"papo table create --dynamodb-endpoint {nobody}" in said


def test_the_endpoint_may_come_from_the_standard_variable(
    new_laptop: Callable[..., subprocess.CompletedProcess[str]],
    moto_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_url)
    said = refusal(new_laptop("serve", "--store", "dynamodb", "--port", "0"))
    assert f"DynamoDB at {moto_url} has no table" in said


def test_a_table_keyed_otherwise_is_refused(
    new_laptop: Callable[..., subprocess.CompletedProcess[str]], moto_url: str
) -> None:
    moto(moto_url).create_table(
        TableName=os.environ["PAPO_TABLE"],
        AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    said = refusal(new_laptop(*serve_args(moto_url)))
    assert "is keyed by connectionId (HASH), not by papo's pk (HASH) and sk (RANGE)" in said
    made = new_laptop("table", "create", "--dynamodb-endpoint", moto_url)
    assert made.returncode != 0
    assert "keyed by connectionId" in made.stderr


def test_a_table_of_another_name_is_named_in_the_command_to_run_next(
    new_laptop: Callable[..., subprocess.CompletedProcess[str]], moto_url: str
) -> None:
    other = f"other-{uuid.uuid4().hex[:8]}"
    made = new_laptop("table", "create", "--table", other, "--dynamodb-endpoint", moto_url)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().endswith(
        f"now: PAPO_TABLE={other} papo serve --store dynamodb --dynamodb-endpoint {moto_url}"
    )
    assert (
        moto(moto_url).describe_table(TableName=other)["Table"]["KeySchema"] == TABLE["KeySchema"]
    )
