"""The tests' moto server: a transaction that fails leaves every item as it was,
and a request at a time."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


def item(pk: str, sk: str, **attributes: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in attributes.items()}}


def test_a_failed_transaction_gives_back_what_it_changed_and_nothing_else(
    moto_url: str, dynamodb_table: str
) -> None:
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_url)
    dynamodb.put_item(TableName=dynamodb_table, Item=item("ROOM#a", "kept", value="before"))
    dynamodb.put_item(TableName=dynamodb_table, Item=item("ROOM#a", "other", value="untouched"))
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": dynamodb_table, "Item": item("ROOM#b", "new", value="x")}},
                {
                    "Update": {
                        "TableName": dynamodb_table,
                        "Key": item("ROOM#a", "kept"),
                        "UpdateExpression": "SET #v = :v",
                        "ExpressionAttributeNames": {"#v": "value"},
                        "ExpressionAttributeValues": {":v": {"S": "after"}},
                    }
                },
                {"Delete": {"TableName": dynamodb_table, "Key": item("ROOM#a", "other")}},
                {
                    "ConditionCheck": {
                        "TableName": dynamodb_table,
                        "Key": item("ROOM#a", "absent"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    scanned = dynamodb.scan(TableName=dynamodb_table, ConsistentRead=True)["Items"]
    assert sorted((i["sk"]["S"], i["value"]["S"]) for i in scanned) == [
        ("kept", "before"),
        ("other", "untouched"),
    ]


def test_a_transaction_that_succeeds_writes_everything(moto_url: str, dynamodb_table: str) -> None:
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_url)
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": dynamodb_table, "Item": item("ROOM#a", "one", value="1")}},
            {"Put": {"TableName": dynamodb_table, "Item": item("ROOM#a", "two", value="2")}},
        ]
    )
    scanned = dynamodb.scan(TableName=dynamodb_table, ConsistentRead=True)["Items"]
    assert sorted(i["sk"]["S"] for i in scanned) == ["one", "two"]


def test_a_query_reads_its_partition_in_order_whatever_else_the_table_holds(
    moto_url: str, dynamodb_table: str
) -> None:
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_url)
    for pk in ("ROOM#a", "ROOM#b", "ROOM#c"):
        for sk in ("E#2", "E#1", "N#x", "E#3"):
            dynamodb.put_item(TableName=dynamodb_table, Item=item(pk, sk, value=f"{pk} {sk}"))

    def query(**asked: Any) -> list[str]:
        found = dynamodb.query(
            TableName=dynamodb_table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": "ROOM#b"}, ":prefix": {"S": "E#"}},
            **asked,
        )
        return [i["value"]["S"] for i in found["Items"]]

    assert query() == ["ROOM#b E#1", "ROOM#b E#2", "ROOM#b E#3"]
    assert query(ScanIndexForward=False, Limit=2) == ["ROOM#b E#3", "ROOM#b E#2"]
    assert (
        dynamodb.query(
            TableName=dynamodb_table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "ROOM#none"}},
        )["Items"]
        == []
    )
    assert len(dynamodb.scan(TableName=dynamodb_table)["Items"]) == 12
