"""The connection store on DynamoDB: one on-demand table, one item collection.

Items (partition key `pk`, sort key `sk`, both strings):

- ``pk=ROOM#main, sk=C#<connectionId>``: a connection; ``name`` and
  ``joinedAt`` once it has a name.
- ``pk=ROOM#main, sk=N#<folded name>``: the claim on a name, holding
  ``connectionId``; a conditional write on it keeps names unique.
- ``pk=ROOM#main, sk=M#<ts, 13 digits>#<id>``: a public message of the log
  (``sender``, ``text``, ``byBot``), read newest first.
- ``pk=ROOM#main, sk=K#<counter>``: a limit's counter (``value``): the
  asker's turn, questions this minute, the day's bot tokens.
- ``pk=ROOM#main, sk=BOTMEMORY``: ``since``, where the bot's memory starts.

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
- ``sendPublic`` also logs the message: 1 write (PutItem, more above 1 KB).
- ``sendBot``: 3 counter updates (3 writes) and the log write, then the
  answer: 1 read of the memory + the log Query (some 4 KB a read), 1 log
  write, 2 counter updates.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from papo.clock import now_ms
from papo.ports import Claim, ClaimStatus, Connection, LoggedMessage, Member
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


def _seconds(ms: int) -> int:
    return -(-ms // 1000)


def _message_key(ts: int, msg_id: str) -> str:
    return f"M#{ts:013d}#{msg_id}"


class _RoomLogAndCounters:
    """The message log and the counters of `DynamoDbStore`."""

    _db: DynamoDBClient
    table: str
    _clock: Callable[[], int]

    def log(self, message: LoggedMessage, expires_at: int) -> None:
        self._db.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": ROOM},
                "sk": {"S": _message_key(message.ts, message.msg_id)},
                "sender": {"S": message.sender},
                "text": {"S": message.text},
                "byBot": {"BOOL": message.by_bot},
                "expiresAt": {"N": str(_seconds(expires_at))},
            },
        )

    def recent(self, limit: int, since: int = 0) -> list[LoggedMessage]:
        found: list[LoggedMessage] = []
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :room AND sk BETWEEN :from AND :to",
            "FilterExpression": "expiresAt > :now",
            "ExpressionAttributeValues": {
                ":room": {"S": ROOM},
                ":from": {"S": _message_key(since, "")},
                ":to": {"S": "M#~"},
                ":now": {"N": str(self._clock() // 1000)},
            },
            "ScanIndexForward": False,
            "Limit": limit,
        }
        while len(found) < limit:
            page = self._db.query(**query)
            for item in page.get("Items", []):
                _, ts, msg_id = item["sk"]["S"].split("#", 2)
                found.append(
                    LoggedMessage(
                        msg_id,
                        int(ts),
                        item["sender"]["S"],
                        item["text"]["S"],
                        item["byBot"]["BOOL"],
                    )
                )
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found[:limit][::-1]

    def bot_memory_start(self) -> int:
        item = self._db.get_item(
            TableName=self.table,
            Key={"pk": {"S": ROOM}, "sk": {"S": "BOTMEMORY"}},
            ConsistentRead=True,
        ).get("Item")
        return int(item["since"]["N"]) if item else 0

    def forget_bot_memory(self, at: int) -> None:
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.update_item(
                TableName=self.table,
                Key={"pk": {"S": ROOM}, "sk": {"S": "BOTMEMORY"}},
                UpdateExpression="SET since = :at",
                ConditionExpression="attribute_not_exists(since) OR since < :at",
                ExpressionAttributeValues={":at": {"N": str(at)}},
            )

    def add_to_counter(
        self, key: str, amount: int, *, limit: int, now: int, expires_at: int
    ) -> bool:
        item_key = {"pk": {"S": ROOM}, "sk": {"S": f"K#{key}"}}
        now_s = {"N": str(now // 1000)}
        failed = self._db.exceptions.ConditionalCheckFailedException
        if amount <= 0:
            with contextlib.suppress(failed):
                self._db.update_item(
                    TableName=self.table,
                    Key=item_key,
                    UpdateExpression="ADD #value :amount",
                    ConditionExpression="attribute_exists(sk) AND expiresAt > :now",
                    ExpressionAttributeNames={"#value": "value"},
                    ExpressionAttributeValues={":amount": {"N": str(amount)}, ":now": now_s},
                )
            return True
        if amount > limit:
            return False
        expiry = {"N": str(_seconds(expires_at))}
        for _ in range(_CLAIM_ATTEMPTS):
            try:
                self._db.update_item(
                    TableName=self.table,
                    Key=item_key,
                    UpdateExpression="ADD #value :amount SET expiresAt = :expiry",
                    ConditionExpression="attribute_exists(sk) AND expiresAt > :now"
                    " AND #value <= :room",
                    ExpressionAttributeNames={"#value": "value"},
                    ExpressionAttributeValues={
                        ":amount": {"N": str(amount)},
                        ":expiry": expiry,
                        ":now": now_s,
                        ":room": {"N": str(limit - amount)},
                    },
                )
                return True
            except failed:
                pass
            try:
                # Absent or expired: start it afresh, unless another writer just did.
                self._db.put_item(
                    TableName=self.table,
                    Item={**item_key, "value": {"N": str(amount)}, "expiresAt": expiry},
                    ConditionExpression="attribute_not_exists(sk) OR expiresAt <= :now",
                    ExpressionAttributeValues={":now": now_s},
                )
                return True
            except failed:
                item = self._db.get_item(
                    TableName=self.table, Key=item_key, ConsistentRead=True
                ).get("Item")
                live = item is not None and int(item["expiresAt"]["N"]) > now // 1000
                if live and item is not None and int(item["value"]["N"]) + amount > limit:
                    return False
        return False


class DynamoDbStore(_RoomLogAndCounters):
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
