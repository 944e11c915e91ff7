"""The connection store on DynamoDB: one on-demand table, one item collection.

Items (partition key `pk`, sort key `sk`, both strings). Each room is its own
partition, ``ROOM#<room>`` (``main`` below, the default); only the pointer from
a connection to its room is outside it:

- ``pk=CONN#<connectionId>, sk=ROOM``: ``room``, the room the connection
  joined (read once a container: a connection never changes room).

- ``pk=ROOM#main, sk=C#<connectionId>``: a connection; ``name`` and
  ``joinedAt`` once it has a name, ``session`` when resumable, ``awaySince``
  while its person may resume it.
- ``pk=ROOM#main, sk=N#<folded name>``: the claim on a name, holding
  ``connectionId``; a conditional write on it keeps names unique.
- ``pk=ROOM#main, sk=OFFSET``: ``value``, the room's last offset (an atomic
  counter: ``UpdateItem ADD``).
- ``pk=ROOM#main, sk=E#<offset, 12 digits>``: a frame of the room's stream
  (``frame``), and for a public message its ``msgId``, ``ts``, ``sender``,
  ``text``, ``byBot`` (history and the bot's memory read those).
- ``pk=ROOM#main, sk=S#<session>``: a resumable session (``tokenHash``,
  ``name``, ``connectionId``, ``lastPrivate``, the counter of its own stream).
- ``pk=ROOM#main, sk=P#<session>#<offset, 12 digits>``: a private frame of
  that session's stream.
- ``pk=ROOM#main, sk=K#<counter>``: a limit's counter (``value``): the
  asker's turn, questions this minute, the day's bot tokens.
- ``pk=ROOM#main, sk=O#<folded name>``: the identity (``principal``) that owns
  a name, when the door is on (invites, OpenID Connect).
- ``pk=ROOM#main, sk=MARK#<name>``: ``value``, a mark of the room that only
  rises: the offset the bot's memory starts after (``bot-memory``), the
  offset of its last change of who is here (``membership``), when everyone
  was last sent the members (``told``).
- ``pk=ROOM#main, sk=MEMBERS``: ``version``, raised (ADD) after every change
  of who is here, by a write of its own: in a transaction, one item that every
  join writes would make concurrent joins cancel each other. A container
  reuses the member list it read while the version is the same.

Both carry ``expiresAt`` (epoch seconds), the table's TTL attribute, set past
API Gateway's 2-hour connection limit; reads skip expired items, since TTL
deletes lazily. What each route costs (on-demand units, items under 1 KB):

- every frame a client sends (the heartbeat aside): 2 writes, the
  connection's two pace counters (UpdateItem ADD, conditional), and, the
  first time a container meets the connection, 1 read of its room pointer.
- the member list, wherever it is read: 1 read of the room's members version;
  when it changed since the container last read the list, + a strongly
  consistent Query of the room's connections, about 1 read per 4 KB (some 26
  members of 150 bytes; `bench/room_reads.py`: 4, 38 and 374 reads at 100,
  1,000 and 10,000 members, which every message paid before).
- ``$connect``: 2 writes (PutItem of the connection, of its room pointer).
- ``$disconnect``: 2 writes, 4 when named (DeleteItem of the connection, its
  pointer and its name; UpdateItem of the members version).
- ``setName``: 2 reads (GetItem of the connection, of the name's owner) + a
  transaction of 2 or 3 items (4 or 6 writes) + 1 write (the members version)
  + the member list; with the door on, 1 write more (the owner, conditional
  PutItem); and the room's marks of who is here: 2 writes, 1 read.
- ``sendPublic``: 1 read + the member list; 2 writes: the offset
  (UpdateItem) and the frame (PutItem, more above 1 KB).
- joins, renames, departures and the bot's answers: the same 2 writes for
  their frame in the room's stream.
- ``sendPrivate``: 4 reads (GetItem of the sender, of the name's claim and of
  the connection holding it, of the room's offset); for each of the two people
  with a session, 2 writes (its counter, its frame).
- a resume: 2 reads (the session, the old connection), a transaction of 2
  to 4 items (4 to 8 writes), 1 write (the members version), 1 write (the
  session's expiry), then the missed frames:
  Queries of about 1 read per 4 KB.
- ``sendBot``: 3 counter updates (3 writes) and the log write, then the
  answer: 1 read of the memory + the log Query (strongly consistent, some
  4 KB a read), 1 log write, 2 counter updates (3 when the prompt needs more
  of the budget than was set aside).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from papo.adapters.store.kept import Kept
from papo.core.clock import now_ms
from papo.core.ports import (
    Claim,
    ClaimStatus,
    Connection,
    LoggedMessage,
    Member,
    PaceWindow,
    Session,
)
from papo.core.rooms import ROOM_DEFAULT
from papo.core.rules import name_key

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient

CONNECTION_TTL_S = 2 * 60 * 60 + 60
_CLAIM_ATTEMPTS = 5


def _pointer_key(connection_id: str) -> dict[str, Any]:
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
    )


def _member(item: dict[str, Any]) -> Member:
    away = int(item["awaySince"]["N"]) if "awaySince" in item else None
    session = item["session"]["S"] if "session" in item else None
    language = item["language"]["S"] if "language" in item else None
    return Member(item["sk"]["S"][2:], item["name"]["S"], away is not None, away, session, language)


def _seconds(ms: int) -> int:
    return -(-ms // 1000)


def _event_key(offset: int) -> str:
    return f"E#{offset:012d}"


class _StreamsAndCounters:
    """The room's stream, the sessions' streams and the counters of `DynamoDbStore`."""

    _db: DynamoDBClient
    table: str
    _clock: Callable[[], int]
    room: str

    @property
    def _pk(self) -> dict[str, str]:
        return {"S": f"ROOM#{self.room}"}

    def _key(self, sk: str) -> dict[str, Any]:
        """An item of this room's partition."""
        return {"pk": self._pk, "sk": {"S": sk}}

    def _connection_key(self, connection_id: str) -> dict[str, Any]:
        return self._key(f"C#{connection_id}")

    def _name_key(self, key: str) -> dict[str, Any]:
        return self._key(f"N#{key}")

    def _session_key(self, session_id: str) -> dict[str, Any]:
        return self._key(f"S#{session_id}")

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
        item: dict[str, Any] = {
            "pk": self._pk,
            "sk": {"S": _event_key(offset)},
            "frame": {"B": frame},
            "expiresAt": {"N": str(_seconds(expires_at))},
        }
        if message is not None:
            item.update(
                msgId={"S": message.msg_id},
                ts={"N": str(message.ts)},
                sender={"S": message.sender},
                text={"S": message.text},
                byBot={"BOOL": message.by_bot},
            )
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
                ":now": {"N": str(self._clock() // 1000)},
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

    def recent(self, limit: int, after: int = 0, until: int | None = None) -> list[LoggedMessage]:
        last = "E#~" if until is None else _event_key(until)
        items = self._events(
            _event_key(after + 1), last, newest_first=True, public=True, limit=limit
        )
        return [
            LoggedMessage(
                i["msgId"]["S"],
                int(i["ts"]["N"]),
                i["sender"]["S"],
                i["text"]["S"],
                i["byBot"]["BOOL"],
                int(i["sk"]["S"][2:]),
            )
            for i in reversed(items)
        ]

    def raise_mark(self, name: str, value: int, by_at_least: int = 1) -> bool:
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
                ":expires": {"N": str(_seconds(session.expires_at))},
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

    def next_private_offset(self, session_id: str) -> int:
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
            raise KeyError(session_id) from None
        return int(answer["Attributes"]["lastPrivate"]["N"])

    def append_private(self, session_id: str, offset: int, frame: bytes, expires_at: int) -> None:
        self._db.put_item(
            TableName=self.table,
            Item={
                "pk": self._pk,
                "sk": {"S": f"P#{session_id}#{offset:012d}"},
                "frame": {"B": frame},
                "expiresAt": {"N": str(_seconds(expires_at))},
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

    def add_to_counter(
        self, key: str, amount: int, *, limit: int, now: int, expires_at: int
    ) -> bool:
        item_key = self._key(f"K#{key}")
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


class DynamoDbStore(_StreamsAndCounters):
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
        self.room = ROOM_DEFAULT
        self._rooms: Kept[str, str] = Kept()
        """Rooms of connections this container has met: a connection never changes room."""
        self._members: Kept[str, tuple[int, list[tuple[int, Member]]]] = Kept()
        """Each room's members as last read, with their expiry, by the room's
        version then: reused while the version is the same."""

    def in_room(self, room: str) -> DynamoDbStore:
        """A view of the same table, client and caches for `room`."""
        view = copy.copy(self)
        view.room = room
        return view

    def room_of(self, connection_id: str) -> str | None:
        room = self._rooms.get(connection_id)
        if room is not None:
            return room
        item = self._db.get_item(
            TableName=self.table, Key=_pointer_key(connection_id), ConsistentRead=True
        ).get("Item")
        if not item or not self._live(item):
            return None
        room = self._rooms[connection_id] = item["room"]["S"]
        return room

    def _now_s(self) -> int:
        return self._clock() // 1000

    def _live(self, item: dict[str, Any]) -> bool:
        return int(item["expiresAt"]["N"]) > self._now_s()

    def add(
        self,
        connection_id: str,
        connected_at: int,
        language: str | None = None,
        principal: str | None = None,
    ) -> None:
        item: dict[str, Any] = {
            **self._connection_key(connection_id),
            "connectedAt": {"N": str(connected_at)},
            "expiresAt": {"N": str(connected_at // 1000 + self._ttl_s)},
        }
        if language is not None:
            item["language"] = {"S": language}
        if principal is not None:
            item["principal"] = {"S": principal}
        self._db.put_item(
            TableName=self.table,
            Item={
                **_pointer_key(connection_id),
                "room": {"S": self.room},
                "expiresAt": item["expiresAt"],
            },
        )
        self._db.put_item(TableName=self.table, Item=item)
        self._rooms[connection_id] = self.room

    def own_name(self, name: str, principal: str, expires_at: int) -> str:
        key = self._key(f"O#{name_key(name)}")
        try:
            self._db.put_item(
                TableName=self.table,
                Item={
                    **key,
                    "principal": {"S": principal},
                    "expiresAt": {"N": str(_seconds(expires_at))},
                },
                ConditionExpression="attribute_not_exists(sk) OR principal = :me"
                " OR expiresAt <= :now",
                ExpressionAttributeValues={
                    ":me": {"S": principal},
                    ":now": {"N": str(self._now_s())},
                },
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return self.owner(name) or principal
        return principal

    def owner(self, name: str) -> str | None:
        item = self._db.get_item(
            TableName=self.table,
            Key=self._key(f"O#{name_key(name)}"),
            ConsistentRead=True,
        ).get("Item")
        return item["principal"]["S"] if item and self._live(item) else None

    def get(self, connection_id: str) -> Connection | None:
        item = self._db.get_item(
            TableName=self.table, Key=self._connection_key(connection_id), ConsistentRead=True
        ).get("Item")
        return _connection(item) if item and self._live(item) else None

    def remove(self, connection_id: str) -> Connection | None:
        item = self._db.delete_item(
            TableName=self.table, Key=self._connection_key(connection_id), ReturnValues="ALL_OLD"
        ).get("Attributes")
        if not item:
            return None
        self._db.delete_item(TableName=self.table, Key=_pointer_key(connection_id))
        self._rooms.pop(connection_id, None)
        removed = _connection(item)
        if removed.name is not None:
            # The name may since have been claimed by someone else: then it stays.
            with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
                self._db.delete_item(**self._release(removed)["Delete"])
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
        for _ in range(_CLAIM_ATTEMPTS):
            current = self.get(connection_id)
            if current is None:
                return Claim(ClaimStatus.NO_CONNECTION)
            try:
                self._claim(current, name, now, session, language)
            except self._db.exceptions.TransactionCanceledException as error:
                reasons = error.response.get("CancellationReasons", [])
                if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                    return Claim(ClaimStatus.TAKEN, current.name)
                continue  # the connection changed under us: read it again
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
        key, expires = name_key(name), str(current.connected_at // 1000 + self._ttl_s)
        me = {"S": current.connection_id}
        claim: dict[str, Any] = {
            "Put": {
                "TableName": self.table,
                "Item": {
                    **self._name_key(key),
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
            items.append(self._release(current))
        self._db.transact_write_items(TransactItems=items)
        self._members_changed()

    def _release(self, holder: Connection) -> dict[str, Any]:
        """The delete of `holder`'s name claim, unless another connection holds
        the name since."""
        assert holder.name is not None
        return {
            "Delete": {
                "TableName": self.table,
                "Key": self._name_key(name_key(holder.name)),
                "ConditionExpression": "connectionId = :me",
                "ExpressionAttributeValues": {":me": {"S": holder.connection_id}},
            }
        }

    def _members_changed(self) -> None:
        """Tells every container the room's members changed, after the change."""
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
            ProjectionExpression="sk, #name, joinedAt, expiresAt, awaySince, #session, #language",
            ExpressionAttributeNames={
                "#name": "name",
                "#session": "session",
                "#language": "language",
            },
            ConsistentRead=True,
        ):
            for item in page.get("Items", []):
                if "name" in item and self._live(item):
                    expires = int(item["expiresAt"]["N"])
                    found.append(
                        (int(item["joinedAt"]["N"]), item["sk"]["S"], expires, _member(item))
                    )
        found.sort(key=lambda joined: joined[:2])
        return [(expires, member) for _, _, expires, member in found]

    def find(self, name: str) -> Member | None:
        item = self._db.get_item(
            TableName=self.table, Key=self._name_key(name_key(name)), ConsistentRead=True
        ).get("Item")
        if not item or not self._live(item):
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
                        **self._name_key(name_key(name)),
                        "connectionId": me,
                        "name": {"S": name},
                        "expiresAt": {"N": str(current.connected_at // 1000 + self._ttl_s)},
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
            items.append(self._release(current))
        if previous is not None:
            items.append(
                {"Delete": {"TableName": self.table, "Key": self._connection_key(previous_id)}}
            )
        try:
            self._db.transact_write_items(TransactItems=items)
        except self._db.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return Claim(ClaimStatus.TAKEN, previous.name if previous else None)
            return Claim(ClaimStatus.NO_CONNECTION)
        self._members_changed()
        return Claim(ClaimStatus.CLAIMED, previous.name if previous else None)
