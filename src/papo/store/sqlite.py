"""The embedded connection store: one SQLite file, shared by threads and processes.

WAL journaling lets readers run beside a writer; every write is one
statement or one `BEGIN IMMEDIATE` transaction, and a unique index on the
folded name makes name claims atomic across processes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from papo.clock import now_ms
from papo.ports import Claim, ClaimStatus, Connection, LoggedMessage, Member
from papo.rules import name_key

CONNECTION_TTL_MS = 2 * 60 * 60 * 1000 + 60_000
"""API Gateway closes a connection after 2 hours; a minute's grace on top."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS connections (
    connection_id TEXT PRIMARY KEY,
    connected_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    name          TEXT,
    name_key      TEXT UNIQUE,
    joined_at     INTEGER
);
CREATE INDEX IF NOT EXISTS connections_by_expiry ON connections (expires_at);
CREATE TABLE IF NOT EXISTS messages (
    msg_id     TEXT PRIMARY KEY,
    ts         INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    sender     TEXT NOT NULL,
    text       TEXT NOT NULL,
    by_bot     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_time ON messages (ts);
CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages (expires_at);
CREATE TABLE IF NOT EXISTS counters (
    key        TEXT PRIMARY KEY,
    value      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS counters_by_expiry ON counters (expires_at);
CREATE TABLE IF NOT EXISTS room (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


class SqliteStore:
    def __init__(
        self,
        path: str | Path,
        *,
        ttl_ms: int = CONNECTION_TTL_MS,
        clock: Callable[[], int] = now_ms,
        busy_timeout_s: float = 30.0,
    ) -> None:
        self.path = str(path)
        self._ttl_ms = ttl_ms
        self._clock = clock
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db().executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=self._busy_timeout_s, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _purge_expired(self, db: sqlite3.Connection) -> None:
        now = self._clock()
        db.execute("DELETE FROM connections WHERE expires_at <= ?", (now,))
        db.execute("DELETE FROM messages WHERE expires_at <= ?", (now,))

    def add(self, connection_id: str, connected_at: int) -> None:
        with self._write() as db:
            self._purge_expired(db)
            db.execute(
                "INSERT OR REPLACE INTO connections (connection_id, connected_at, expires_at)"
                " VALUES (?, ?, ?)",
                (connection_id, connected_at, connected_at + self._ttl_ms),
            )

    def get(self, connection_id: str) -> Connection | None:
        row = (
            self._db()
            .execute(
                "SELECT connection_id, connected_at, name, joined_at FROM connections"
                " WHERE connection_id = ? AND expires_at > ?",
                (connection_id, self._clock()),
            )
            .fetchone()
        )
        return None if row is None else Connection(*row)

    def remove(self, connection_id: str) -> Connection | None:
        row = (
            self._db()
            .execute(
                "DELETE FROM connections WHERE connection_id = ?"
                " RETURNING connection_id, connected_at, name, joined_at",
                (connection_id,),
            )
            .fetchone()
        )
        return None if row is None else Connection(*row)

    def claim_name(self, connection_id: str, name: str, now: int) -> Claim:
        with self._write() as db:
            self._purge_expired(db)
            row = db.execute(
                "SELECT name FROM connections WHERE connection_id = ?", (connection_id,)
            ).fetchone()
            if row is None:
                return Claim(ClaimStatus.NO_CONNECTION)
            previous: str | None = row[0]
            try:
                db.execute(
                    "UPDATE connections SET name = ?, name_key = ?,"
                    " joined_at = coalesce(joined_at, ?) WHERE connection_id = ?",
                    (name, name_key(name), now, connection_id),
                )
            except sqlite3.IntegrityError:
                return Claim(ClaimStatus.TAKEN, previous)
            return Claim(ClaimStatus.CLAIMED, previous)

    def members(self) -> list[Member]:
        rows = (
            self._db()
            .execute(
                "SELECT connection_id, name FROM connections"
                " WHERE name IS NOT NULL AND expires_at > ? ORDER BY joined_at, rowid",
                (self._clock(),),
            )
            .fetchall()
        )
        return [Member(*row) for row in rows]

    def find(self, name: str) -> Member | None:
        row = (
            self._db()
            .execute(
                "SELECT connection_id, name FROM connections WHERE name_key = ? AND expires_at > ?",
                (name_key(name), self._clock()),
            )
            .fetchone()
        )
        return None if row is None else Member(*row)

    def log(self, message: LoggedMessage, expires_at: int) -> None:
        """One statement: every public message writes, so it holds the write lock
        as briefly as it can; expired messages go when a connection arrives."""
        self._db().execute(
            "INSERT OR REPLACE INTO messages (msg_id, ts, expires_at, sender, text, by_bot)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (message.msg_id, message.ts, expires_at, message.sender, message.text, message.by_bot),
        )

    def recent(self, limit: int, since: int = 0) -> list[LoggedMessage]:
        rows = (
            self._db()
            .execute(
                "SELECT msg_id, ts, sender, text, by_bot FROM messages"
                " WHERE ts >= ? AND expires_at > ? ORDER BY ts DESC, rowid DESC LIMIT ?",
                (since, self._clock(), limit),
            )
            .fetchall()
        )
        return [LoggedMessage(i, ts, s, t, bool(b)) for i, ts, s, t, b in reversed(rows)]

    def bot_memory_start(self) -> int:
        row = self._db().execute("SELECT value FROM room WHERE key = 'bot_memory_start'").fetchone()
        return 0 if row is None else int(row[0])

    def forget_bot_memory(self, at: int) -> None:
        self._db().execute(
            "INSERT INTO room (key, value) VALUES ('bot_memory_start', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
            (at,),
        )

    def add_to_counter(
        self, key: str, amount: int, *, limit: int, now: int, expires_at: int
    ) -> bool:
        with self._write() as db:
            row = db.execute(
                "SELECT value, expires_at FROM counters WHERE key = ?", (key,)
            ).fetchone()
            live = row is not None and row[1] > now
            value = row[0] if live else 0
            if amount > 0:
                if value + amount > limit:
                    return False
                expiry = expires_at
            elif not live:
                return True
            else:
                expiry = row[1]
            db.execute(
                "INSERT OR REPLACE INTO counters (key, value, expires_at) VALUES (?, ?, ?)",
                (key, max(0, value + amount), expiry),
            )
            if amount > 0:
                db.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
            return True
