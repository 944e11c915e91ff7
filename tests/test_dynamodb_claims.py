"""A name claim on DynamoDB that lost a race is tried again after a pause, as
botocore's standard retry mode waits: writers that collided spread out."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

from papo.adapters.store.backoff import Backoff
from papo.adapters.store.dynamodb import DynamoDbStore
from papo.core.ports import Claim, ClaimStatus

T0 = time.time_ns() // 1_000_000


class Renamer:
    """Renames the connection through another store, in the moment between the
    claim's read of it and its transaction: the transaction finds it changed."""

    def __init__(self, other: DynamoDbStore, connection_id: str, times: int) -> None:
        self.other, self.connection_id, self.times = other, connection_id, times
        self.renamed: list[str] = []

    def __call__(self, **_: Any) -> None:
        if len(self.renamed) < self.times:
            name = f"Bia{len(self.renamed)}"
            assert self.other.claim_name(self.connection_id, name, T0).status is ClaimStatus.CLAIMED
            self.renamed.append(name)


def stores(
    moto_url: str, table: str, backoff: Backoff, renamed: int = 0
) -> tuple[DynamoDbStore, DynamoDbStore, Renamer]:
    """The store under test (with `backoff`), another container's, and what
    renames connection A= under the first `renamed` transactions of the first."""
    other = DynamoDbStore(boto3.client("dynamodb", endpoint_url=moto_url), table)
    client = boto3.client("dynamodb", endpoint_url=moto_url)
    renamer = Renamer(other, "A=", times=renamed)
    client.meta.events.register("before-call.dynamodb.TransactWriteItems", renamer)
    return DynamoDbStore(client, table, backoff=backoff), other, renamer


def test_a_claim_that_found_its_connection_changed_pauses_then_reads_it_again(
    dynamodb_table: str, moto_url: str
) -> None:
    pauses: list[float] = []
    backoff = Backoff(sleep=pauses.append, random=lambda: 1)
    store, _, renamer = stores(moto_url, dynamodb_table, backoff, renamed=2)
    store.add("A=", T0)

    assert store.claim_name("A=", "Ana", T0 + 1) == Claim(ClaimStatus.CLAIMED, "Bia1")
    assert renamer.renamed == ["Bia0", "Bia1"]
    assert pauses == [0.025, 0.05]  # one before each attempt after the first, doubling
    assert [m.name for m in store.members()] == ["Ana"]


def test_the_pauses_are_drawn_at_random_below_a_bound_that_doubles_up_to_a_cap(
    dynamodb_table: str, moto_url: str
) -> None:
    pauses: list[float] = []
    draws = iter([0.5, 0.1, 1.0, 1.0, 1.0])
    backoff = Backoff(attempts=6, sleep=pauses.append, random=lambda: next(draws))
    store, _, renamer = stores(moto_url, dynamodb_table, backoff, renamed=6)  # every attempt
    store.add("A=", T0)

    claim = store.claim_name("A=", "Ana", T0 + 1)
    assert claim.status is not ClaimStatus.CLAIMED
    assert len(renamer.renamed) == 6
    # Bounds of 25, 50, 100 and 200 ms, then 200 again: the cap.
    assert pauses == pytest.approx([0.0125, 0.005, 0.1, 0.2, 0.2])
    assert store.get("A=").name == "Bia5"  # type: ignore[union-attr]


def test_a_name_another_holds_is_refused_at_once(dynamodb_table: str, moto_url: str) -> None:
    pauses: list[float] = []
    store, other, _ = stores(moto_url, dynamodb_table, Backoff(sleep=pauses.append))
    other.add("B=", T0)
    other.claim_name("B=", "Ana", T0)
    store.add("A=", T0)
    assert store.claim_name("A=", "ana", T0 + 1) == Claim(ClaimStatus.TAKEN, None)
    assert pauses == []
