"""Where the bot's key comes from: SSM Parameter Store or Secrets Manager (moto's
server mode), or the environment."""

from __future__ import annotations

import subprocess
import sys
import uuid

import boto3
import pytest

from papo.adapters.bot.api_key import api_key


@pytest.fixture
def aws(moto_url: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", moto_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_url)
    return moto_url


def test_from_an_ssm_secure_string(aws: str) -> None:
    name = f"/papo/{uuid.uuid4().hex}/openai-key"
    ssm = boto3.client("ssm", endpoint_url=aws)
    ssm.put_parameter(Name=name, Value="sk-from-ssm", Type="SecureString")
    assert api_key(name, None, {}) == "sk-from-ssm"
    ssm.put_parameter(Name=name, Value="sk-changed", Type="SecureString", Overwrite=True)
    assert api_key(name, None, {}) == "sk-from-ssm"  # read once per container


def test_from_secrets_manager(aws: str) -> None:
    name = f"papo-{uuid.uuid4().hex}"
    boto3.client("secretsmanager", endpoint_url=aws).create_secret(
        Name=name, SecretString="sk-from-secrets-manager\n"
    )
    assert api_key(None, name, {}) == "sk-from-secrets-manager"


def test_from_a_secret_of_key_value_pairs(aws: str) -> None:
    name = f"papo-{uuid.uuid4().hex}"
    boto3.client("secretsmanager", endpoint_url=aws).create_secret(
        Name=name, SecretString='{"OPENAI_API_KEY": "sk-from-pairs", "other": "x"}'
    )
    assert api_key(None, name, {}) == "sk-from-pairs"


def test_an_unreadable_parameter_leaves_the_bot_unconfigured(
    aws: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert api_key(f"/papo/{uuid.uuid4().hex}/missing", None, {}) is None
    assert "bot key unreadable" in caplog.text


def test_from_the_environment() -> None:
    assert api_key(None, None, {"OPENAI_API_KEY": " sk-local "}) == "sk-local"
    assert api_key(None, None, {"OPENAI_API_KEY": ""}) is None
    assert api_key(None, None, {}) is None


def test_the_sdk_is_not_imported_by_the_other_routes() -> None:
    """A cold start that serves `sendPublic` does not pay for the OpenAI SDK."""
    code = "import sys, papo.aws.handler; print('openai' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
