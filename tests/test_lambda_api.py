"""Lambda's Invoke API as `papo serve` answers it: boto3's own client, unchanged."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from websockets.asyncio.client import connect

from tests.emulation import emulator, probe_log

HANDLER = "tests.lambdas.invokable:handler"
FUNCTION = "tests-lambdas-invokable"


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "probe.jsonl"


def test_boto3_invokes_a_function_of_the_api(
    log_path: Path, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with emulator(HANDLER, ("$default",), environment={"PROBE_LOG": str(log_path)}) as api:
        client = boto3.client(
            "lambda",
            endpoint_url=f"http://{api.host}:{api.port}",
            config=Config(retries={"max_attempts": 1}),
        )
        answered = client.invoke(FunctionName=FUNCTION, Payload=b'{"n": 1}')
        assert answered["StatusCode"] == 200
        assert json.loads(answered["Payload"].read()) == {"echo": {"n": 1}}
        assert "FunctionError" not in answered

        arn = f"arn:aws:lambda:us-east-1:000000000000:function:{FUNCTION}"
        queued = client.invoke(FunctionName=arn, InvocationType="Event", Payload=b'{"n": 2}')
        assert queued["StatusCode"] == 202
        assert [e["event"] for e in probe_log(log_path, 2)] == [{"n": 1}, {"n": 2}]

        failed = client.invoke(FunctionName=FUNCTION, Payload=b'{"fail": true}')
        assert failed["FunctionError"] == "Unhandled"
        error = json.loads(failed["Payload"].read())
        assert error == {"errorMessage": "asked to fail", "errorType": "ValueError"}

        dry = client.invoke(FunctionName=FUNCTION, InvocationType="DryRun")
        assert dry["StatusCode"] == 204

        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.invoke(FunctionName="no-such-function", Payload=b"{}")


def test_a_handler_invokes_itself_with_code_unchanged_from_aws(log_path: Path) -> None:
    """The handler names no endpoint: `papo serve` gives it AWS_ENDPOINT_URL_LAMBDA."""

    async def scenario(url: str) -> None:
        async with connect(url) as ws:
            await ws.send("for later")

    with emulator(HANDLER, ("$default",), environment={"PROBE_LOG": str(log_path)}) as api:
        asyncio.run(scenario(api.websocket_url))
        (entry,) = probe_log(log_path, 1)
    assert entry == {"event": {"later": "for later"}, "function": FUNCTION}
