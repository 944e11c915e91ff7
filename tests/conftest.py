from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from papo.ports import ConnectionStore
from papo.store.dynamodb import DynamoDbStore, create_table
from papo.store.sqlite import SqliteStore


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """DynamoDB through moto's server mode, on a free loopback port."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDPAPOTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "papo-test-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "papo-test-token")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def dynamodb_table(moto_url: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_url)
    table = f"papo-{uuid.uuid4().hex[:8]}"
    create_table(boto3.client("dynamodb", endpoint_url=moto_url), table)
    return table


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def store(store_kind: str, request: pytest.FixtureRequest, tmp_path: object) -> ConnectionStore:
    if store_kind == "sqlite":
        return SqliteStore(f"{tmp_path}/papo.sqlite3")
    table = request.getfixturevalue("dynamodb_table")
    moto_url = request.getfixturevalue("moto_url")
    return DynamoDbStore(boto3.client("dynamodb", endpoint_url=moto_url), table)
