"""Invites revoked one by one: their ids, which papo's authorizer refuses
while the invite would still be good, without changing the secret every
other invite is signed with.

The list lives where the rest of papo's state does: a table of its own in the
SQLite file (`revoked_invites`), or items of the DynamoDB table
(``pk=INVITE#<id>, sk=REVOKED``, with ``expiresAt``, the table's TTL, at the
invite's own expiry when it is known). The authorizer reads it at each
handshake with an invite: one primary-key read, on a client built once per
container.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

_SCHEMA = """
CREATE TABLE IF NOT EXISTS revoked_invites (
    invite_id  TEXT PRIMARY KEY,
    expires_at INTEGER
)
"""


class RevokedInvites(Protocol):
    def revoke(self, invite_id: str, expires_at: int | None) -> None:
        """Puts an invite on the list, until `expires_at` (epoch seconds; None: for good)."""

    def is_revoked(self, invite_id: str) -> bool: ...


class SqliteRevokedInvites:
    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self._clock = clock
        self._local = threading.local()
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(self.path, timeout=30) as db:
            db.execute(_SCHEMA)
        db.close()

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        return db

    def revoke(self, invite_id: str, expires_at: int | None) -> None:
        self._db().execute(
            "INSERT INTO revoked_invites (invite_id, expires_at) VALUES (?, ?)"
            " ON CONFLICT (invite_id) DO UPDATE SET expires_at = excluded.expires_at",
            (invite_id, expires_at),
        )

    def is_revoked(self, invite_id: str) -> bool:
        row = (
            self._db()
            .execute(
                "SELECT 1 FROM revoked_invites WHERE invite_id = ?"
                " AND (expires_at IS NULL OR expires_at > ?)",
                (invite_id, int(self._clock())),
            )
            .fetchone()
        )
        return row is not None


class DynamoDbRevokedInvites:
    def __init__(
        self, client: DynamoDBClient, table: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = client
        self.table = table
        self._clock = clock

    @staticmethod
    def _key(invite_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"INVITE#{invite_id}"}, "sk": {"S": "REVOKED"}}

    def revoke(self, invite_id: str, expires_at: int | None) -> None:
        item = self._key(invite_id)
        if expires_at is not None:
            item["expiresAt"] = {"N": str(expires_at)}
        self._db.put_item(TableName=self.table, Item=item)

    def is_revoked(self, invite_id: str) -> bool:
        item = self._db.get_item(
            TableName=self.table, Key=self._key(invite_id), ConsistentRead=True
        ).get("Item")
        if item is None:
            return False
        expires_at = item.get("expiresAt")
        return expires_at is None or int(expires_at["N"]) > self._clock()


@functools.cache
def revoked_invites(
    store: str, sqlite_path: str, table: str, region: str | None = None
) -> RevokedInvites:
    """The list in papo's store (`PAPO_STORE`), built once per process."""
    if store == "dynamodb":
        import boto3

        return DynamoDbRevokedInvites(boto3.client("dynamodb", region_name=region), table)
    return SqliteRevokedInvites(sqlite_path)
