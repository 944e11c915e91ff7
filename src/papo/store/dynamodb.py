"""The connection store on DynamoDB: one on-demand table, one item collection.

Items (partition key `pk`, sort key `sk`, both strings):

- ``pk=ROOM#main, sk=C#<connectionId>``: a connection; ``name`` and
  ``joinedAt`` once it has a name.
- ``pk=ROOM#main, sk=N#<folded name>``: the claim on a name, holding
  ``connectionId``; a conditional write on it keeps names unique.

Both carry ``expiresAt`` (epoch seconds), the table's TTL attribute, set past
API Gateway's 2-hour connection limit; reads skip expired items, since TTL
deletes lazily. What each route costs (on-demand units, items under 1 KB):

- ``$connect``: 1 write (PutItem).
- ``$disconnect``: 1 write, 2 when named (DeleteItem, DeleteItem).
- ``setName``: 1 read (GetItem) + a transaction of 2 or 3 items (4 or 6
  writes) + the member list.
- ``sendPublic``: 1 read + the member list, a strongly consistent Query of
  about 1 read per 4 KB (some 40 connections).
- ``sendPrivate``: 2 reads (GetItem, GetItem).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from papo.clock import now_ms
from papo.ports import Claim, ClaimStatus, Connection, Member
from papo.rules import name_key

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient

ROOM = "ROOM#main"
CONNECTION_TTL_S = 2 * 60 * 60 + 60
_CLAIM_ATTEMPTS = 5


def _connection_key(connection_id: str) -> dict[str, Any]:
    return {"pk": {"S": ROOM}, "sk": {"S": f"C#{connection_id}"}}


def _name_key(key: str) -> dict[str, Any]:
    return {"pk": {"S": ROOM}, "sk": {"S": f"N#{key}"}}


def _connection(item: dict[str, Any]) -> Connection:
    return Connection(
        connection_id=item["sk"]["S"][2:],
        connected_at=int(item["connectedAt"]["N"]),
        name=item["name"]["S"] if "name" in item else None,
        joined_at=int(item["joinedAt"]["N"]) if "joinedAt" in item else None,
    )


class DynamoDbStore:
    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        ttl_s: int = CONNECTION_TTL_S,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._db = client
        self.table = table
        self._ttl_s = ttl_s
        self._clock = clock

    def _now_s(self) -> int:
        return self._clock() // 1000

    def _live(self, item: dict[str, Any]) -> bool:
        return int(item["expiresAt"]["N"]) > self._now_s()

    def add(self, connection_id: str, connected_at: int) -> None:
        self._db.put_item(
            TableName=self.table,
            Item={
                **_connection_key(connection_id),
                "connectedAt": {"N": str(connected_at)},
                "expiresAt": {"N": str(connected_at // 1000 + self._ttl_s)},
            },
        )

    def get(self, connection_id: str) -> Connection | None:
        item = self._db.get_item(
            TableName=self.table, Key=_connection_key(connection_id), ConsistentRead=True
        ).get("Item")
        return _connection(item) if item and self._live(item) else None

    def remove(self, connection_id: str) -> Connection | None:
        item = self._db.delete_item(
            TableName=self.table, Key=_connection_key(connection_id), ReturnValues="ALL_OLD"
        ).get("Attributes")
        if not item:
            return None
        removed = _connection(item)
        if removed.name is not None:
            # The name may since have been claimed by someone else: then it stays.
            with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
                self._db.delete_item(
                    TableName=self.table,
                    Key=_name_key(name_key(removed.name)),
                    ConditionExpression="connectionId = :me",
                    ExpressionAttributeValues={":me": {"S": connection_id}},
                )
        return removed

    def claim_name(self, connection_id: str, name: str, now: int) -> Claim:
        for _ in range(_CLAIM_ATTEMPTS):
            current = self.get(connection_id)
            if current is None:
                return Claim(ClaimStatus.NO_CONNECTION)
            try:
                self._claim(current, name, now)
            except self._db.exceptions.TransactionCanceledException as error:
                reasons = error.response.get("CancellationReasons", [])
                if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                    return Claim(ClaimStatus.TAKEN, current.name)
                continue  # the connection changed under us: read it again
            return Claim(ClaimStatus.CLAIMED, current.name)
        return Claim(ClaimStatus.NO_CONNECTION)

    def _claim(self, current: Connection, name: str, now: int) -> None:
        key, expires = name_key(name), str(current.connected_at // 1000 + self._ttl_s)
        me = {"S": current.connection_id}
        claim: dict[str, Any] = {
            "Put": {
                "TableName": self.table,
                "Item": {
                    **_name_key(key),
                    "connectionId": me,
                    "name": {"S": name},
                    "expiresAt": {"N": expires},
                },
                "ConditionExpression": "attribute_not_exists(sk) OR connectionId = :me"
                " OR expiresAt < :now",
                "ExpressionAttributeValues": {":me": me, ":now": {"N": str(self._now_s())}},
            }
        }
        unchanged = "attribute_not_exists(#name)" if current.name is None else "#name = :previous"
        values: dict[str, Any] = {":name": {"S": name}, ":now": {"N": str(now)}}
        if current.name is not None:
            values[":previous"] = {"S": current.name}
        rename: dict[str, Any] = {
            "Update": {
                "TableName": self.table,
                "Key": _connection_key(current.connection_id),
                "UpdateExpression": "SET #name = :name, joinedAt = if_not_exists(joinedAt, :now)",
                "ConditionExpression": f"attribute_exists(sk) AND {unchanged}",
                "ExpressionAttributeNames": {"#name": "name"},
                "ExpressionAttributeValues": values,
            }
        }
        items: list[Any] = [claim, rename]
        if current.name is not None and name_key(current.name) != key:
            items.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": _name_key(name_key(current.name)),
                        "ConditionExpression": "connectionId = :me",
                        "ExpressionAttributeValues": {":me": me},
                    }
                }
            )
        self._db.transact_write_items(TransactItems=items)

    def members(self) -> list[Member]:
        paginator = self._db.get_paginator("query")
        found: list[tuple[int, str, str]] = []
        for page in paginator.paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :room AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":room": {"S": ROOM}, ":prefix": {"S": "C#"}},
            ProjectionExpression="sk, #name, joinedAt, expiresAt",
            ExpressionAttributeNames={"#name": "name"},
            ConsistentRead=True,
        ):
            for item in page.get("Items", []):
                if "name" in item and self._live(item):
                    found.append(
                        (int(item["joinedAt"]["N"]), item["sk"]["S"][2:], item["name"]["S"])
                    )
        found.sort()
        return [Member(connection_id, name) for _, connection_id, name in found]

    def find(self, name: str) -> Member | None:
        item = self._db.get_item(
            TableName=self.table, Key=_name_key(name_key(name)), ConsistentRead=True
        ).get("Item")
        if not item or not self._live(item):
            return None
        return Member(item["connectionId"]["S"], item["name"]["S"])


def create_table(client: DynamoDBClient, table: str) -> None:
    """Creates papo's table (on demand, with TTL on `expiresAt`), for local use and tests.

    On AWS the deployment template creates it.
    """
    client.create_table(
        TableName=table,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table)
    client.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"},
    )
