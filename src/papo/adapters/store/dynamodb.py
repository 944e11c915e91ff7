"""The store on DynamoDB: one on-demand table, each room one partition.

Every item carries `expiresAt` (epoch seconds), the table's TTL attribute;
reads skip expired items, since TTL deletes them lazily. The items, and what
each route reads and writes of them, are described in docs/store-costs.md,
with the bench that measures them (`make bench-costs`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from papo.adapters.store.backoff import Backoff
from papo.adapters.store.base import (
    CONNECTION_TTL_MS,
    PICKED,
    BaseStore,
    decode_message,
    decode_reactions,
    encode_message,
    encode_reactions,
    owner_condition_values,
)
from papo.adapters.store.bounded_cache import BoundedCache
from papo.core.clock import now_ms
from papo.core.ports import (
    Claim,
    ClaimStatus,
    Connection,
    KeptLine,
    LineChange,
    LoggedMessage,
    Member,
    PaceWindow,
    Session,
)
from papo.core.rules import name_key

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from types_boto3_dynamodb.client import DynamoDBClient

CLAIM_BACKOFF = Backoff()
"""Pauses between attempts at claiming a name: up to 5 attempts, the last
after at most 25 + 50 + 100 + 200 ms of pauses."""
_COUNTER_ATTEMPTS = 5
"""Reads of a counter that another writer changed meanwhile, before giving up."""


def _room_pointer_key(connection_id: str) -> dict[str, Any]:
    """The item naming a connection's room (`room`): the one item outside a
    room's partition, read once a process (a connection never changes room)."""
    return {"pk": {"S": f"CONN#{connection_id}"}, "sk": {"S": "ROOM"}}


def _connection(item: dict[str, Any]) -> Connection:
    return Connection(
        connection_id=item["sk"]["S"][2:],
        connected_at=int(item["connectedAt"]["N"]),
        name=item["name"]["S"] if "name" in item else None,
        joined_at=int(item["joinedAt"]["N"]) if "joinedAt" in item else None,
        session=item["session"]["S"] if "session" in item else None,
        away_since=int(item["awaySince"]["N"]) if "awaySince" in item else None,
        language=item["language"]["S"] if "language" in item else None,
        principal=item["principal"]["S"] if "principal" in item else None,
        idle="idle" in item,
    )


def _member(item: dict[str, Any]) -> Member:
    away = int(item["awaySince"]["N"]) if "awaySince" in item else None
    session = item["session"]["S"] if "session" in item else None
    language = item["language"]["S"] if "language" in item else None
    return Member(
        item["sk"]["S"][2:],
        item["name"]["S"],
        away is not None,
        away,
        session,
        language,
        "idle" in item,
    )


def _epoch_seconds(ms: int) -> int:
    """An expiry in epoch seconds (the TTL attribute's unit), rounded up: an
    item is never taken for expired before its time."""
    return -(-ms // 1000)


def _event_key(offset: int) -> str:
    return f"E#{offset:012d}"


def _message(item: dict[str, Any]) -> LoggedMessage:
    """The public message an `E#` item carries."""
    return LoggedMessage(
        item["msgId"]["S"],
        int(item["ts"]["N"]),
        item["sender"]["S"],
        item["text"]["S"],
        item["byBot"]["BOOL"],
        int(item["sk"]["S"][2:]),
        item["author"]["S"] if "author" in item else None,
        int(item["editedAt"]["N"]) if "editedAt" in item else None,
        item.get("deleted", {}).get("BOOL", False),
        decode_reactions(bytes(item["reactions"]["B"]) if "reactions" in item else None),
    )


_LINE_ATTEMPTS = 20
"""Writes of a changed line that another change overtook, before giving up."""


def _failed_condition(error: ClientError, item: int) -> bool:
    """Whether a cancelled transaction's `item` (its index) failed its condition."""
    reasons = error.response.get("CancellationReasons", [])
    return len(reasons) > item and reasons[item].get("Code") == "ConditionalCheckFailed"


def _kept_line(offset: int, item: dict[str, Any]) -> KeptLine:
    return KeptLine(offset, bytes(item["frame"]["B"]), _message(item) if "sender" in item else None)


class DynamoDbStore(BaseStore):
    """The store in one DynamoDB table; its room views share its client and caches."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        connection_ttl_ms: int = CONNECTION_TTL_MS,
        clock: Callable[[], int] = now_ms,
        backoff: Backoff = CLAIM_BACKOFF,
    ) -> None:
        super().__init__(connection_ttl_ms=connection_ttl_ms, clock=clock)
        self._db = client
        self.table = table
        self._backoff = backoff
        self._members: BoundedCache[str, tuple[int, list[tuple[int, Member]]]] = BoundedCache()
        """Each room's members as last read, with their expiry, by the room's
        version then: reused while the version is the same."""

    # The room's partition: ROOM#<room>, each item under a key of its kind

    @property
    def _pk(self) -> dict[str, str]:
        return {"S": f"ROOM#{self.room}"}

    def _key(self, sk: str) -> dict[str, Any]:
        """An item of this room's partition."""
        return {"pk": self._pk, "sk": {"S": sk}}

    def _connection_key(self, connection_id: str) -> dict[str, Any]:
        """A connection: `connectedAt`; `name` and `joinedAt` once named, `session`
        when resumable, `awaySince` while its person may resume it."""
        return self._key(f"C#{connection_id}")

    def _name_claim_key(self, key: str) -> dict[str, Any]:
        """The claim on a folded name (`connectionId`, `name`): a conditional
        write on it keeps names unique."""
        return self._key(f"N#{key}")

    def _owner_key(self, key: str) -> dict[str, Any]:
        """Who (`principal`) owns a folded name, when an authorizer lets people
        in: in a partition of its own, as a name is its owner's in every room."""
        return {"pk": {"S": "OWNERS"}, "sk": {"S": f"O#{key}"}}

    def _session_key(self, session_id: str) -> dict[str, Any]:
        """A resumable session: `tokenHash`, `name`, `connectionId`, and
        `lastPrivate`, the newest offset of its private stream."""
        return self._key(f"S#{session_id}")

    def _now_s(self) -> int:
        return self._clock() // 1000

    def _unexpired(self, item: dict[str, Any]) -> bool:
        return int(item["expiresAt"]["N"]) > self._now_s()

    # Connections and names

    def _read_room(self, connection_id: str) -> str | None:
        item = self._db.get_item(
            TableName=self.table, Key=_room_pointer_key(connection_id), ConsistentRead=True
        ).get("Item")
        return item["room"]["S"] if item and self._unexpired(item) else None

    def _insert_connection(
        self,
        connection_id: str,
        connected_at: int,
        expires_at: int,
        language: str | None,
        principal: str | None,
    ) -> None:
        item: dict[str, Any] = {
            **self._connection_key(connection_id),
            "connectedAt": {"N": str(connected_at)},
            "expiresAt": {"N": str(_epoch_seconds(expires_at))},
        }
        if language is not None:
            item["language"] = {"S": language}
        if principal is not None:
            item["principal"] = {"S": principal}
        self._db.put_item(
            TableName=self.table,
            Item={
                **_room_pointer_key(connection_id),
                "room": {"S": self.room},
                "expiresAt": item["expiresAt"],
            },
        )
        self._db.put_item(TableName=self.table, Item=item)

    def _write_owner(self, key: str, stored: str, expires_at: int) -> bool:
        own, picked, over_picks = owner_condition_values(stored)
        condition = "attribute_not_exists(sk) OR principal IN (:me, :picked) OR expiresAt <= :now"
        values = {":me": {"S": own}, ":picked": {"S": picked}, ":now": {"N": str(self._now_s())}}
        if over_picks:
            condition += " OR begins_with(principal, :mark)"
            values[":mark"] = {"S": PICKED}
        try:
            self._db.put_item(
                TableName=self.table,
                Item={
                    **self._owner_key(key),
                    "principal": {"S": stored},
                    "expiresAt": {"N": str(_epoch_seconds(expires_at))},
                },
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _read_owner(self, key: str) -> str | None:
        item = self._db.get_item(
            TableName=self.table, Key=self._owner_key(key), ConsistentRead=True
        ).get("Item")
        return item["principal"]["S"] if item and self._unexpired(item) else None

    def get(self, connection_id: str) -> Connection | None:
        item = self._db.get_item(
            TableName=self.table, Key=self._connection_key(connection_id), ConsistentRead=True
        ).get("Item")
        return _connection(item) if item and self._unexpired(item) else None

    def _delete_connection(self, connection_id: str) -> Connection | None:
        item = self._db.delete_item(
            TableName=self.table, Key=self._connection_key(connection_id), ReturnValues="ALL_OLD"
        ).get("Attributes")
        if not item:
            return None
        self._db.delete_item(TableName=self.table, Key=_room_pointer_key(connection_id))
        removed = _connection(item)
        if removed.name is not None:
            # The name may since have been claimed by someone else: then it stays.
            with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
                self._db.delete_item(**self._release_name(removed)["Delete"])
            self._members_changed()
        return removed

    def claim_name(
        self,
        connection_id: str,
        name: str,
        now: int,
        session: str | None = None,
        language: str | None = None,
    ) -> Claim:
        """The connection as read, then one transaction that claims the name and
        renames the connection, on condition that it is still as read. Cancelled
        for another reason than the name being another's (the connection
        changed meanwhile, another transaction held one of its items), it is
        tried again after a pause (`Backoff`)."""
        for _ in self._backoff:
            current = self.get(connection_id)
            if current is None:
                return Claim(ClaimStatus.NO_CONNECTION)
            try:
                self._claim(current, name, now, session, language)
            except self._db.exceptions.TransactionCanceledException as error:
                if _failed_condition(error, 0):
                    return Claim(ClaimStatus.TAKEN, current.name)
                continue
            return Claim(ClaimStatus.CLAIMED, current.name)
        return Claim(ClaimStatus.NO_CONNECTION)

    def _claim(
        self,
        current: Connection,
        name: str,
        now: int,
        session: str | None,
        language: str | None,
    ) -> None:
        key = name_key(name)
        expires = str(_epoch_seconds(self._connection_expiry(current.connected_at)))
        me = {"S": current.connection_id}
        claim: dict[str, Any] = {
            "Put": {
                "TableName": self.table,
                "Item": {
                    **self._name_claim_key(key),
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
        update = "SET #name = :name, joinedAt = if_not_exists(joinedAt, :now)"
        if session is not None:
            update += ", #session = :session"
            values[":session"] = {"S": session}
        if language is not None:
            update += ", #language = :language"
            values[":language"] = {"S": language}
        rename: dict[str, Any] = {
            "Update": {
                "TableName": self.table,
                "Key": self._connection_key(current.connection_id),
                "UpdateExpression": update,
                "ConditionExpression": f"attribute_exists(sk) AND {unchanged}",
                "ExpressionAttributeNames": {"#name": "name"}
                | ({"#session": "session"} if session is not None else {})
                | ({"#language": "language"} if language is not None else {}),
                "ExpressionAttributeValues": values,
            }
        }
        items: list[Any] = [claim, rename]
        if current.name is not None and name_key(current.name) != key:
            items.append(self._release_name(current))
        self._db.transact_write_items(TransactItems=items)
        self._members_changed()

    def _release_name(self, holder: Connection) -> dict[str, Any]:
        """The delete of `holder`'s name claim, unless another connection holds
        the name since."""
        assert holder.name is not None
        return {
            "Delete": {
                "TableName": self.table,
                "Key": self._name_claim_key(name_key(holder.name)),
                "ConditionExpression": "connectionId = :me",
                "ExpressionAttributeValues": {":me": {"S": holder.connection_id}},
            }
        }

    def _members_changed(self) -> None:
        """Tells every process that the room's members changed: the room's
        `MEMBERS` item (`version`) is raised after the change, by a write of its
        own; inside the change's transaction, one item that every join writes
        would make concurrent joins cancel each other."""
        self._db.update_item(
            TableName=self.table,
            Key=self._key("MEMBERS"),
            UpdateExpression="ADD #version :one",
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    def members(self) -> list[Member]:
        """One strongly consistent read of the room's members version (1 read
        unit); the whole list is queried only when it changed since this
        container last read it."""
        item = self._db.get_item(
            TableName=self.table, Key=self._key("MEMBERS"), ConsistentRead=True
        ).get("Item")
        version = int(item["version"]["N"]) if item else 0
        cached = self._members.get(self.room)
        if cached is None or cached[0] != version:
            cached = self._members[self.room] = (version, self._query_members())
        now_s = self._now_s()
        return [member for expires, member in cached[1] if expires > now_s]

    def _query_members(self) -> list[tuple[int, Member]]:
        paginator = self._db.get_paginator("query")
        found: list[tuple[int, str, int, Member]] = []
        for page in paginator.paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :room AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":room": self._pk, ":prefix": {"S": "C#"}},
            ProjectionExpression="sk, #name, joinedAt, expiresAt, awaySince, #session, #language,"
            " idle",
            ExpressionAttributeNames={
                "#name": "name",
                "#session": "session",
                "#language": "language",
            },
            ConsistentRead=True,
        ):
            for item in page.get("Items", []):
                if "name" in item and self._unexpired(item):
                    expires = int(item["expiresAt"]["N"])
                    found.append(
                        (int(item["joinedAt"]["N"]), item["sk"]["S"], expires, _member(item))
                    )
        found.sort(key=lambda joined: joined[:2])
        return [(expires, member) for _, _, expires, member in found]

    def _read_member(self, key: str) -> Member | None:
        item = self._db.get_item(
            TableName=self.table, Key=self._name_claim_key(key), ConsistentRead=True
        ).get("Item")
        if not item or not self._unexpired(item):
            return None
        holder = self.get(item["connectionId"]["S"])
        if holder is None or holder.name is None:
            return None
        return Member(
            holder.connection_id,
            holder.name,
            holder.away_since is not None,
            holder.away_since,
            holder.session,
            holder.language,
            holder.idle,
        )

    def set_away(self, connection_id: str, at: int) -> bool:
        try:
            self._db.update_item(
                TableName=self.table,
                Key=self._connection_key(connection_id),
                UpdateExpression="SET awaySince = :at",
                ConditionExpression="attribute_exists(sk) AND attribute_exists(#session)"
                " AND attribute_not_exists(awaySince)",
                ExpressionAttributeNames={"#session": "session"},
                ExpressionAttributeValues={":at": {"N": str(at)}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        self._members_changed()
        return True

    def take_over(
        self, connection_id: str, previous_id: str, name: str, session: str, now: int
    ) -> Claim:
        current = self.get(connection_id)
        if current is None:
            return Claim(ClaimStatus.NO_CONNECTION)
        previous = None if previous_id == connection_id else self.get(previous_id)
        joined_at = previous.joined_at if previous and previous.joined_at else now
        me = {"S": connection_id}
        items: list[Any] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        **self._name_claim_key(name_key(name)),
                        "connectionId": me,
                        "name": {"S": name},
                        "expiresAt": {
                            "N": str(_epoch_seconds(self._connection_expiry(current.connected_at)))
                        },
                    },
                    "ConditionExpression": "attribute_not_exists(sk) OR connectionId IN (:me,"
                    " :previous) OR expiresAt < :now",
                    "ExpressionAttributeValues": {
                        ":me": me,
                        ":previous": {"S": previous_id},
                        ":now": {"N": str(self._now_s())},
                    },
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self._connection_key(connection_id),
                    "UpdateExpression": "SET #name = :name, joinedAt = :joined,"
                    " #session = :session REMOVE awaySince",
                    "ConditionExpression": "attribute_exists(sk)",
                    "ExpressionAttributeNames": {"#name": "name", "#session": "session"},
                    "ExpressionAttributeValues": {
                        ":name": {"S": name},
                        ":joined": {"N": str(joined_at)},
                        ":session": {"S": session},
                    },
                }
            },
        ]
        if current.name is not None and name_key(current.name) != name_key(name):
            items.append(self._release_name(current))
        if previous is not None:
            items.append(
                {"Delete": {"TableName": self.table, "Key": self._connection_key(previous_id)}}
            )
        try:
            self._db.transact_write_items(TransactItems=items)
        except self._db.exceptions.TransactionCanceledException as error:
            if _failed_condition(error, 0):
                return Claim(ClaimStatus.TAKEN, previous.name if previous else None)
            return Claim(ClaimStatus.NO_CONNECTION)
        self._members_changed()
        return Claim(ClaimStatus.CLAIMED, previous.name if previous else None)

    # The room's stream

    def append_next(
        self,
        build: Callable[[int], bytes],
        expires_at: int,
        message: LoggedMessage | None = None,
    ) -> tuple[int, bytes]:
        offset = self._next_offset()
        frame = build(offset)
        self._append(offset, frame, expires_at, message)
        return offset, frame

    def _next_offset(self) -> int:
        """The room's `OFFSET` item (`value`), an atomic counter (`UpdateItem ADD`)."""
        answer = self._db.update_item(
            TableName=self.table,
            Key=self._key("OFFSET"),
            UpdateExpression="ADD #value :one",
            ExpressionAttributeNames={"#value": "value"},
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["value"]["N"])

    def last_offset(self) -> int:
        item = self._db.get_item(
            TableName=self.table,
            Key=self._key("OFFSET"),
            ConsistentRead=True,
        ).get("Item")
        return int(item["value"]["N"]) if item else 0

    def _append(
        self, offset: int, frame: bytes, expires_at: int, message: LoggedMessage | None = None
    ) -> None:
        """An item `E#<offset, 12 digits>`: the frame, and a public message's
        fields, which history and the bot's memory read."""
        item: dict[str, Any] = {
            "pk": self._pk,
            "sk": {"S": _event_key(offset)},
            "frame": {"B": frame},
            "expiresAt": {"N": str(_epoch_seconds(expires_at))},
        }
        if message is not None:
            item.update(
                msgId={"S": message.msg_id},
                ts={"N": str(message.ts)},
                sender={"S": message.sender},
                text={"S": message.text},
                byBot={"BOOL": message.by_bot},
            )
            if message.author is not None:
                item["author"] = {"S": message.author}
        self._db.put_item(TableName=self.table, Item=item)

    def _events(
        self, first: str, last: str, *, newest_first: bool, public: bool, limit: int
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :room AND sk BETWEEN :from AND :to",
            "FilterExpression": "expiresAt > :now"
            + (" AND attribute_exists(sender)" if public else ""),
            "ExpressionAttributeValues": {
                ":room": self._pk,
                ":from": {"S": first},
                ":to": {"S": last},
                ":now": {"N": str(self._now_s())},
            },
            "ScanIndexForward": not newest_first,
            "Limit": limit,
            # Another container may have written a moment ago (the question, a frame).
            "ConsistentRead": True,
        }
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            page = self._db.query(**query)
            found.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found[:limit]

    def frames_after(self, offset: int, limit: int) -> list[tuple[int, bytes]]:
        items = self._events(
            _event_key(offset + 1), "E#~", newest_first=False, public=False, limit=limit
        )
        return [(int(i["sk"]["S"][2:]), bytes(i["frame"]["B"])) for i in items]

    def frames_before(self, offset: int, limit: int) -> list[tuple[int, bytes]]:
        if offset <= 1:
            return []
        # Keys sort as text: past the twelve digits of a key, every offset is below.
        last = _event_key(min(offset - 1, 10**12 - 1))
        items = self._events(_event_key(1), last, newest_first=True, public=False, limit=limit)
        return [(int(i["sk"]["S"][2:]), bytes(i["frame"]["B"])) for i in reversed(items)]

    def recent(self, limit: int, after: int = 0, until: int | None = None) -> list[LoggedMessage]:
        last = "E#~" if until is None else _event_key(until)
        items = self._events(
            _event_key(after + 1), last, newest_first=True, public=True, limit=limit
        )
        return [_message(i) for i in reversed(items)]

    # Lines that change: an `E#` item is rewritten in place; `version` counts
    # its changes, and each write is conditional on the version it read.

    def line(self, offset: int) -> KeptLine | None:
        item = self._db.get_item(
            TableName=self.table, Key=self._key(_event_key(offset)), ConsistentRead=True
        ).get("Item")
        if not item or not self._unexpired(item):
            return None
        return _kept_line(offset, item)

    def offset_of(self, msg_id: str) -> int | None:
        """Reads the room's stream back from the newest line until it finds the
        message: edits and deletes name recent lines, and naming one by its
        offset costs one read."""
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :room AND sk BETWEEN :from AND :to",
            "FilterExpression": "msgId = :id AND expiresAt > :now",
            "ExpressionAttributeValues": {
                ":room": self._pk,
                ":from": {"S": _event_key(1)},
                ":to": {"S": "E#~"},
                ":id": {"S": msg_id},
                ":now": {"N": str(self._now_s())},
            },
            "ProjectionExpression": "sk",
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        while True:
            page = self._db.query(**query)
            for item in page.get("Items", []):
                return int(item["sk"]["S"][2:])
            if "LastEvaluatedKey" not in page:
                return None
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def change_line(
        self, offset: int, change: Callable[[KeptLine], LineChange]
    ) -> LineChange | None:
        """The item as read, then a write on condition that its `version` is
        still the one read; overtaken, it is read and changed again. A change
        that keeps the earlier version writes it (`V#<offset>#<version>`) in the
        same transaction."""
        key = self._key(_event_key(offset))
        failed = self._db.exceptions.ConditionalCheckFailedException
        for _ in range(_LINE_ATTEMPTS):
            item = self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
            if not item or not self._unexpired(item):
                return None
            line = _kept_line(offset, item)
            changed = change(line)
            version = int(item["version"]["N"]) if "version" in item else 0
            update = self._line_update(key, changed, version)
            try:
                if changed.keeps_earlier and line.message is not None:
                    earlier: Any = {
                        "Put": {
                            "TableName": self.table,
                            "Item": {
                                **self._key(f"V#{offset:012d}#{version:06d}"),
                                "message": {"B": encode_message(line.message)},
                                "expiresAt": item["expiresAt"],
                            },
                        }
                    }
                    self._db.transact_write_items(TransactItems=[{"Update": update}, earlier])
                else:
                    self._db.update_item(**update)
            except (failed, self._db.exceptions.TransactionCanceledException):
                continue
            return changed
        raise RuntimeError(f"{_LINE_ATTEMPTS} changes at once overtook a change of line {offset}")

    def _line_update(self, key: dict[str, Any], changed: LineChange, version: int) -> Any:
        m = changed.message
        values: dict[str, Any] = {
            ":frame": {"B": changed.frame},
            ":text": {"S": m.text},
            ":deleted": {"BOOL": m.deleted},
            ":next": {"N": str(version + 1)},
        }
        sets = "frame = :frame, #text = :text, deleted = :deleted, #version = :next"
        removes = []
        if m.edited_at is not None:
            sets += ", editedAt = :edited"
            values[":edited"] = {"N": str(m.edited_at)}
        else:
            removes.append("editedAt")
        reactions = encode_reactions(m.reactions)
        if reactions is not None:
            sets += ", reactions = :reactions"
            values[":reactions"] = {"B": reactions}
        else:
            removes.append("reactions")
        if version:
            condition = "#version = :version"
            values[":version"] = {"N": str(version)}
        else:
            condition = "attribute_exists(sk) AND attribute_not_exists(#version)"
        expression = f"SET {sets}"
        if removes:
            expression += f" REMOVE {', '.join(removes)}"
        return {
            "TableName": self.table,
            "Key": key,
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#text": "text", "#version": "version"},
            "ExpressionAttributeValues": values,
        }

    def earlier_versions(self, offset: int) -> list[LoggedMessage]:
        prefix = f"V#{offset:012d}#"
        items = self._events(
            f"{prefix}000000", f"{prefix}~", newest_first=False, public=False, limit=10_000
        )
        return [decode_message(bytes(i["message"]["B"])) for i in items]

    def raise_mark(self, name: str, value: int, by_at_least: int = 1) -> bool:
        """The room's item `MARK#<name>` (`value`)."""
        try:
            self._db.update_item(
                TableName=self.table,
                Key=self._key(f"MARK#{name}"),
                UpdateExpression="SET #value = :value",
                ConditionExpression="attribute_not_exists(#value) OR #value <= :below",
                ExpressionAttributeNames={"#value": "value"},
                ExpressionAttributeValues={
                    ":value": {"N": str(value)},
                    ":below": {"N": str(value - by_at_least)},
                },
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def mark(self, name: str) -> int:
        item = self._db.get_item(
            TableName=self.table, Key=self._key(f"MARK#{name}"), ConsistentRead=True
        ).get("Item")
        return int(item["value"]["N"]) if item else 0

    # Who is looking, and how far each person has read

    def set_idle(self, connection_id: str, idle: bool) -> bool:
        """The connection's `idle` attribute, there while its person is not looking."""
        try:
            if idle:
                self._db.update_item(
                    TableName=self.table,
                    Key=self._connection_key(connection_id),
                    UpdateExpression="SET idle = :yes",
                    ConditionExpression="attribute_exists(sk) AND attribute_not_exists(idle)",
                    ExpressionAttributeValues={":yes": {"BOOL": True}},
                )
            else:
                self._db.update_item(
                    TableName=self.table,
                    Key=self._connection_key(connection_id),
                    UpdateExpression="REMOVE idle",
                    ConditionExpression="attribute_exists(idle)",
                )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        self._members_changed()
        return True

    def _read_marker_key(self, reader: str) -> dict[str, Any]:
        """A person's read marker (`offset`): a session or a principal."""
        return self._key(f"R#{reader}")

    def read_marker(self, reader: str) -> int:
        item = self._db.get_item(
            TableName=self.table, Key=self._read_marker_key(reader), ConsistentRead=True
        ).get("Item")
        return int(item["offset"]["N"]) if item and self._unexpired(item) else 0

    def raise_read_marker(self, reader: str, offset: int, expires_at: int) -> bool:
        try:
            self._db.update_item(
                TableName=self.table,
                Key=self._read_marker_key(reader),
                UpdateExpression="SET #offset = :offset, expiresAt = :expires",
                ConditionExpression="attribute_not_exists(#offset) OR #offset < :offset"
                " OR expiresAt <= :now",
                ExpressionAttributeNames={"#offset": "offset"},
                ExpressionAttributeValues={
                    ":offset": {"N": str(offset)},
                    ":expires": {"N": str(_epoch_seconds(expires_at))},
                    ":now": {"N": str(self._now_s())},
                },
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # Notes

    def _note_key(self, key: str) -> dict[str, Any]:
        """A note (`value`, bytes) one invocation leaves for another."""
        return self._key(f"NOTE#{key}")

    def put_note(self, key: str, value: bytes, expires_at: int) -> None:
        self._db.put_item(
            TableName=self.table,
            Item={
                **self._note_key(key),
                "value": {"B": value},
                "expiresAt": {"N": str(_epoch_seconds(expires_at))},
                "expiresAtMs": {"N": str(expires_at)},
            },
        )

    def note(self, key: str) -> bytes | None:
        item = self._db.get_item(
            TableName=self.table, Key=self._note_key(key), ConsistentRead=True
        ).get("Item")
        if not item or int(item["expiresAtMs"]["N"]) <= self._clock():
            return None
        return bytes(item["value"]["B"])

    # Sessions and their private streams

    def save_session(self, session: Session) -> None:
        self._db.update_item(
            TableName=self.table,
            Key=self._session_key(session.session_id),
            UpdateExpression="SET tokenHash = :hash, #name = :name, connectionId = :cid,"
            " expiresAt = :expires, expiresAtMs = :expiresMs",
            ExpressionAttributeNames={"#name": "name"},
            ExpressionAttributeValues={
                ":hash": {"S": session.token_hash},
                ":name": {"S": session.name},
                ":cid": {"S": session.connection_id},
                ":expires": {"N": str(_epoch_seconds(session.expires_at))},
                ":expiresMs": {"N": str(session.expires_at)},
            },
        )

    def session(self, session_id: str) -> Session | None:
        item = self._db.get_item(
            TableName=self.table, Key=self._session_key(session_id), ConsistentRead=True
        ).get("Item")
        if not item or int(item["expiresAtMs"]["N"]) <= self._clock():
            return None
        return Session(
            session_id,
            item["tokenHash"]["S"],
            item["name"]["S"],
            item["connectionId"]["S"],
            int(item["expiresAtMs"]["N"]),
        )

    def _increment_private(self, session_id: str) -> int | None:
        try:
            answer = self._db.update_item(
                TableName=self.table,
                Key=self._session_key(session_id),
                UpdateExpression="ADD lastPrivate :one",
                ConditionExpression="attribute_exists(sk)",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return None
        return int(answer["Attributes"]["lastPrivate"]["N"])

    def append_private(self, session_id: str, offset: int, frame: bytes, expires_at: int) -> None:
        """An item `P#<session>#<offset, 12 digits>` of the room's partition."""
        self._db.put_item(
            TableName=self.table,
            Item={
                "pk": self._pk,
                "sk": {"S": f"P#{session_id}#{offset:012d}"},
                "frame": {"B": frame},
                "expiresAt": {"N": str(_epoch_seconds(expires_at))},
            },
        )

    def private_frames_after(
        self, session_id: str, offset: int, limit: int
    ) -> list[tuple[int, bytes]]:
        prefix = f"P#{session_id}#"
        items = self._events(
            f"{prefix}{offset + 1:012d}",
            f"{prefix}~",
            newest_first=False,
            public=False,
            limit=limit,
        )
        return [(int(i["sk"]["S"][len(prefix) :]), bytes(i["frame"]["B"])) for i in items]

    # Counters

    def count_frame(
        self, connection_id: str, windows: tuple[PaceWindow, PaceWindow], now: int
    ) -> int | None:
        """A counter item for each window: one conditional write each."""
        burst, minute = windows
        counters = (
            (f"pace:{connection_id}:{burst.number}", burst.limit, burst.ends),
            (f"pace-minute:{connection_id}:{minute.number}", minute.limit, minute.ends),
        )
        refused: int | None = None
        for index, (key, limit, expires_at) in enumerate(counters):
            counted = self.add_to_counter(key, 1, limit=limit, now=now, expires_at=expires_at)
            if not counted and refused is None:
                refused = index
        return refused

    def _counter_key(self, key: str) -> dict[str, Any]:
        """A limit's counter (`value`): the asker's turn, questions this minute,
        the day's bot tokens, a connection's pace."""
        return self._key(f"K#{key}")

    def _decrease_counter(self, key: str, amount: int, now: int) -> None:
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.update_item(
                TableName=self.table,
                Key=self._counter_key(key),
                UpdateExpression="ADD #value :amount",
                ConditionExpression="attribute_exists(sk) AND expiresAt > :now",
                ExpressionAttributeNames={"#value": "value"},
                ExpressionAttributeValues={
                    ":amount": {"N": str(amount)},
                    ":now": {"N": str(now // 1000)},
                },
            )

    def _increase_counter(
        self, key: str, amount: int, limit: int, now: int, expires_at: int
    ) -> bool:
        item_key = self._counter_key(key)
        now_s = {"N": str(now // 1000)}
        failed = self._db.exceptions.ConditionalCheckFailedException
        expiry = {"N": str(_epoch_seconds(expires_at))}
        for _ in range(_COUNTER_ATTEMPTS):
            try:
                self._db.update_item(
                    TableName=self.table,
                    Key=item_key,
                    UpdateExpression="ADD #value :amount SET expiresAt = :expiry",
                    # Absent, ADD starts it at `amount`: a key's first use is one write.
                    ConditionExpression="attribute_not_exists(sk)"
                    " OR (expiresAt > :now AND #value <= :room)",
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
                # Expired, not yet deleted by TTL: start it afresh, unless another writer just did.
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
