"""Connections expire after API Gateway's 2-hour limit, in both stores."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from papo.adapters.store.dynamodb import DynamoDbStore
from papo.adapters.store.sqlite import _EXPIRING, SqliteStore
from papo.core.ports import ClaimStatus, ConnectionStore

HOUR_MS = 3_600_000


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(1_790_000_000_000)


@pytest.fixture
def expiring_stores(
    store_kind: str, clock: Clock, tmp_path: object, request: pytest.FixtureRequest
) -> Callable[..., ConnectionStore]:
    """Makes stores of the kind under test on `clock`, given what else to pass."""
    if store_kind == "sqlite":
        return lambda **options: SqliteStore(f"{tmp_path}/papo.sqlite3", clock=clock, **options)
    moto_url = request.getfixturevalue("moto_url")
    table = request.getfixturevalue("dynamodb_table")
    client = boto3.client("dynamodb", endpoint_url=moto_url)
    return lambda **options: DynamoDbStore(client, table, clock=clock, **options)


@pytest.fixture
def expiring_store(expiring_stores: Callable[..., ConnectionStore]) -> ConnectionStore:
    return expiring_stores()


def test_connections_expire_after_two_hours(expiring_store: ConnectionStore, clock: Clock) -> None:
    expiring_store.add("A=", clock.now)
    expiring_store.claim_name("A=", "Ana", clock.now)
    clock.now += 2 * HOUR_MS - 60_000
    assert [m.name for m in expiring_store.members()] == ["Ana"]
    clock.now += 5 * 60_000
    assert expiring_store.members() == []
    assert expiring_store.get("A=") is None
    assert expiring_store.find("Ana") is None
    expiring_store.add("B=", clock.now)
    assert expiring_store.claim_name("B=", "Ana", clock.now).status is ClaimStatus.CLAIMED


def test_both_stores_take_the_connection_lifetime_in_milliseconds(
    expiring_stores: Callable[..., ConnectionStore], clock: Clock
) -> None:
    store = expiring_stores(connection_ttl_ms=10 * 60_000)
    store.add("A=", clock.now)
    store.claim_name("A=", "Ana", clock.now)
    clock.now += 9 * 60_000
    assert store.get("A=") is not None
    clock.now += 2 * 60_000
    assert store.get("A=") is None
    assert store.members() == []


def test_sqlite_purges_every_expiring_table_by_an_index(tmp_path: Path) -> None:
    """The purge runs under the write lock at every join: no table is scanned."""
    SqliteStore(tmp_path / "papo.sqlite3")
    with sqlite3.connect(tmp_path / "papo.sqlite3") as db:
        for table in _EXPIRING:
            plan = db.execute(
                f"EXPLAIN QUERY PLAN DELETE FROM {table} WHERE expires_at <= 0"
            ).fetchall()
            assert any("USING" in step[-1] and "INDEX" in step[-1] for step in plan), (table, plan)
