"""The embedded store: one SQLite file, shared by threads and processes.

WAL journaling lets readers run beside a writer; every write is one
statement or one `BEGIN IMMEDIATE` transaction, and a unique index on the
folded name makes name claims atomic across processes. Everything it holds
expires within a day or so, so a file of an older layout is simply started
afresh (and one of a newer layout is left alone, with an error).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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

_LAYOUT = 8
"""7: names are keyed by their full UTS #39 skeleton (`m` as `rn`), case folded first.
8: a line keeps who may change it, its edit, its deletion and its reactions,
and the versions its edits and deletes replaced; connections say whether
their person is looking (`idle`), each person's read marker is kept
(`read_markers`), and so are the notes one invocation leaves for another
(`notes`)."""
_MAX_OFFSET = 2**62

_SCHEMA = """
CREATE TABLE IF NOT EXISTS connections (
    connection_id TEXT PRIMARY KEY,
    room          TEXT NOT NULL,
    connected_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    name          TEXT,
    name_key      TEXT,
    joined_at     INTEGER,
    session       TEXT,
    away_since    INTEGER,
    language      TEXT,
    principal     TEXT,
    idle          INTEGER NOT NULL DEFAULT 0,
    burst_window  INTEGER NOT NULL DEFAULT 0,
    burst_count   INTEGER NOT NULL DEFAULT 0,
    minute_window INTEGER NOT NULL DEFAULT 0,
    minute_count  INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS names ON connections (room, name_key);
CREATE TABLE IF NOT EXISTS owners (
    room       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    principal  TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (room, name_key)
);
CREATE INDEX IF NOT EXISTS owners_by_expiry ON owners (expires_at);
CREATE INDEX IF NOT EXISTS connections_by_expiry ON connections (expires_at);
CREATE TABLE IF NOT EXISTS events (
    room       TEXT NOT NULL,
    offset     INTEGER NOT NULL,
    frame      BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    msg_id     TEXT,
    ts         INTEGER,
    sender     TEXT,
    text       TEXT,
    by_bot     INTEGER,
    author     TEXT,
    edited_at  INTEGER,
    deleted    INTEGER NOT NULL DEFAULT 0,
    reactions  BLOB,
    PRIMARY KEY (room, offset)
);
CREATE INDEX IF NOT EXISTS events_by_expiry ON events (expires_at);
CREATE INDEX IF NOT EXISTS events_by_message ON events (room, msg_id);
CREATE TABLE IF NOT EXISTS line_versions (
    room       TEXT NOT NULL,
    offset     INTEGER NOT NULL,
    message    BLOB NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS line_versions_by_line ON line_versions (room, offset);
CREATE INDEX IF NOT EXISTS line_versions_by_expiry ON line_versions (expires_at);
CREATE TABLE IF NOT EXISTS sessions (
    session_id    TEXT PRIMARY KEY,
    room          TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    name          TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    last_private  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS privates (
    session_id TEXT NOT NULL,
    offset     INTEGER NOT NULL,
    frame      BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, offset)
);
CREATE INDEX IF NOT EXISTS privates_by_expiry ON privates (expires_at);
CREATE TABLE IF NOT EXISTS counters (
    key        TEXT PRIMARY KEY,
    value      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS counters_by_expiry ON counters (expires_at);
CREATE TABLE IF NOT EXISTS read_markers (
    room       TEXT NOT NULL,
    reader     TEXT NOT NULL,
    offset     INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (room, reader)
);
CREATE INDEX IF NOT EXISTS read_markers_by_expiry ON read_markers (expires_at);
CREATE TABLE IF NOT EXISTS notes (
    room       TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (room, key)
);
CREATE INDEX IF NOT EXISTS notes_by_expiry ON notes (expires_at);
CREATE TABLE IF NOT EXISTS room (
    room  TEXT NOT NULL,
    key   TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (room, key)
);
"""

_TABLES = (
    "connections",
    "messages",
    "events",
    "sessions",
    "privates",
    "counters",
    "room",
    "owners",
    "line_versions",
    "read_markers",
    "notes",
)
_EVERY_ROOM = "*"
"""The `room` of the owners of names: a name is its owner's in every room."""
_EXPIRING = (
    "connections",
    "events",
    "privates",
    "sessions",
    "counters",
    "owners",
    "line_versions",
    "read_markers",
    "notes",
)
_CONNECTION = (
    "connection_id, connected_at, name, joined_at, session, away_since, language, principal,"
    " idle != 0"
)
_MEMBER = "connection_id, name, away_since IS NOT NULL, away_since, session, language, idle != 0"
_MESSAGE = "msg_id, ts, sender, text, by_bot, offset, author, edited_at, deleted, reactions"


def _message(row: Sequence[Any]) -> LoggedMessage:
    """A public message from the columns `_MESSAGE` names, in that order."""
    msg_id, ts, sender, text, by_bot, offset, author, edited_at, deleted, reactions = row
    return LoggedMessage(
        msg_id,
        ts,
        sender,
        text,
        bool(by_bot),
        offset,
        author,
        edited_at,
        bool(deleted),
        decode_reactions(reactions),
    )


_NEWEST_OFFSET_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS offset_kept AFTER INSERT ON events BEGIN
    INSERT INTO room (room, key, value) VALUES (NEW.room, 'offset', NEW.offset)
    ON CONFLICT (room, key) DO UPDATE SET value = max(value, excluded.value);
END
"""
"""A room's newest offset outlives its frames, which expire: offsets never go back."""
_MEMBERS_CHANGED = [
    """
CREATE TRIGGER IF NOT EXISTS members_joined AFTER INSERT ON connections BEGIN
    INSERT INTO room (room, key, value) VALUES (NEW.room, 'members', 1)
    ON CONFLICT (room, key) DO UPDATE SET value = value + 1;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS members_changed
AFTER UPDATE OF name, joined_at, session, away_since, language, expires_at, idle
ON connections BEGIN
    INSERT INTO room (room, key, value) VALUES (NEW.room, 'members', 1)
    ON CONFLICT (room, key) DO UPDATE SET value = value + 1;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS members_left AFTER DELETE ON connections BEGIN
    INSERT INTO room (room, key, value) VALUES (OLD.room, 'members', 1)
    ON CONFLICT (room, key) DO UPDATE SET value = value + 1;
END
""",
]
"""A room's members version, raised in the transaction of every change of who
is in it, by any process: a change of the pace counters alone is none."""
_APPEND = (
    "INSERT INTO events (room, offset, frame, expires_at, msg_id, ts, sender, text, by_bot,"
    " author) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
    " WHERE coalesce((SELECT value FROM room WHERE room = ? AND key = 'offset'), 0) = ?"
)
"""A frame at an offset, while the room's newest is the one before it."""
_APPEND_ATTEMPTS = 1000


def _event_row(
    room: str, offset: int, frame: bytes, expires_at: int, message: LoggedMessage | None
) -> tuple[object, ...]:
    m = message
    return (
        room,
        offset,
        frame,
        expires_at,
        *((m.msg_id, m.ts, m.sender, m.text, m.by_bot, m.author) if m else (None,) * 6),
    )


class _Taken(Exception):
    """Rolls a take-over back: the name is another connection's."""

    def __init__(self, previous: str | None) -> None:
        self.previous = previous


class SqliteStore(BaseStore):
    """The store in one SQLite file; its room views share its write lock and
    each thread's connection to the file."""

    def __init__(
        self,
        path: str | Path,
        *,
        connection_ttl_ms: int = CONNECTION_TTL_MS,
        clock: Callable[[], int] = now_ms,
        busy_timeout_s: float = 30.0,
    ) -> None:
        super().__init__(connection_ttl_ms=connection_ttl_ms, clock=clock)
        self.path = str(path)
        self._busy_timeout_s = busy_timeout_s
        self._idle: list[sqlite3.Connection] = []
        """Open connections not in use, the one used last at the end."""
        self._writing = threading.Lock()
        self._offsets: BoundedCache[str, int] = BoundedCache()
        self._members: BoundedCache[str, tuple[int, list[tuple[int, Member]]]] = BoundedCache(1000)
        """Each room's members (with when each expires) as this process last read
        them, under the members version they were read at."""
        """Each room's newest offset, as this process last wrote or read it."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self._write() as db:
            layout = db.execute("PRAGMA user_version").fetchone()[0]
            if layout > _LAYOUT:
                raise RuntimeError(f"{self.path} was laid out by a newer papo")
            if layout < _LAYOUT:
                for table in _TABLES:
                    db.execute(f"DROP TABLE IF EXISTS {table}")
                db.execute(f"PRAGMA user_version = {_LAYOUT}")
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            db.execute(_NEWEST_OFFSET_TRIGGER)
            for trigger in _MEMBERS_CHANGED:
                db.execute(trigger)

    def _read_room(self, connection_id: str) -> str | None:
        row = self._read_one(
            "SELECT room FROM connections WHERE connection_id = ?", (connection_id,)
        )
        return None if row is None else str(row[0])

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection to use alone, from any thread: the one used last, whose
        caches (the schema, statements, pages) are the warmest. Opening one and
        warming it costs ten times a public message's statements, and a
        connection per thread went cold between the turns of many threads."""
        try:
            db = self._idle.pop()
        except IndexError:
            db = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            self._use_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
        try:
            yield db
        finally:
            self._idle.append(db)

    def _read(self, statement: str, parameters: Sequence[object] = ()) -> list[Any]:
        with self._connection() as db:
            return db.execute(statement, parameters).fetchall()

    def _read_one(self, statement: str, parameters: Sequence[object] = ()) -> Any:
        with self._connection() as db:
            return db.execute(statement, parameters).fetchone()

    def _use_wal(self, db: sqlite3.Connection) -> None:
        """Switches the file to write-ahead logging, once for all its users.

        The switch takes the file for itself and SQLite answers "database is
        locked" at once, without its busy wait, when another process holds it
        meanwhile (several containers opening a new file together do): so it is
        tried again until the busy timeout, and skipped once the file is in WAL.
        """
        deadline = time.monotonic() + self._busy_timeout_s
        pause = 0.001
        while True:
            try:
                if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction. Threads of this process take turns on a lock of
        their own first: SQLite makes a writer that finds the file locked sleep
        (a millisecond or more each time), which many invocations at once in one
        process would otherwise all do; other processes still wait on SQLite."""
        with self._writing, self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _change(
        self, statement: str, parameters: Sequence[object] | Mapping[str, object] = ()
    ) -> list[Any]:
        """One write statement, and the rows it returns. It waits its turn on the
        same lock as `_write`: a thread that found the file locked would sleep in
        SQLite's busy handler (1 ms, then 2, 5, 10…) while each write takes tens
        of microseconds, and every public message makes a few."""
        with self._writing, self._connection() as db:
            return db.execute(statement, parameters).fetchall()

    def _purge_expired(self, db: sqlite3.Connection) -> None:
        """Under the write lock on every join: each table's expiry is indexed."""
        now = self._clock()
        for table in _EXPIRING:
            db.execute(f"DELETE FROM {table} WHERE expires_at <= ?", (now,))  # noqa: S608

    # Connections and names

    def _insert_connection(
        self,
        connection_id: str,
        connected_at: int,
        expires_at: int,
        language: str | None,
        principal: str | None,
    ) -> None:
        with self._write() as db:
            self._purge_expired(db)
            db.execute(
                "INSERT OR REPLACE INTO connections"
                " (connection_id, room, connected_at, expires_at, language, principal)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    connection_id,
                    self.room,
                    connected_at,
                    expires_at,
                    language,
                    principal,
                ),
            )

    def _write_owner(self, key: str, stored: str, expires_at: int) -> bool:
        own, picked, over_picks = owner_condition_values(stored)
        rows = self._change(
            "INSERT INTO owners (room, name_key, principal, expires_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (room, name_key) DO UPDATE SET principal = excluded.principal,"
            " expires_at = excluded.expires_at"
            " WHERE owners.principal IN (?, ?) OR owners.expires_at <= ?"
            " OR (? AND substr(owners.principal, 1, 1) = ?)"
            " RETURNING principal",
            (_EVERY_ROOM, key, stored, expires_at, own, picked, self._clock(), over_picks, PICKED),
        )
        return bool(rows)

    def _read_owner(self, key: str) -> str | None:
        row = self._read_one(
            "SELECT principal FROM owners WHERE room = ? AND name_key = ? AND expires_at > ?",
            (_EVERY_ROOM, key, self._clock()),
        )
        return None if row is None else str(row[0])

    def get(self, connection_id: str) -> Connection | None:
        row = self._read_one(
            f"SELECT {_CONNECTION} FROM connections"  # noqa: S608
            " WHERE connection_id = ? AND room = ? AND expires_at > ?",
            (connection_id, self.room, self._clock()),
        )
        return None if row is None else Connection(*row)

    def _delete_connection(self, connection_id: str) -> Connection | None:
        rows = self._change(
            f"DELETE FROM connections WHERE connection_id = ? AND room = ?"  # noqa: S608
            f" RETURNING {_CONNECTION}",
            (connection_id, self.room),
        )
        return Connection(*rows[0]) if rows else None

    def claim_name(
        self,
        connection_id: str,
        name: str,
        now: int,
        session: str | None = None,
        language: str | None = None,
    ) -> Claim:
        with self._write() as db:
            self._purge_expired(db)
            row = db.execute(
                "SELECT name FROM connections WHERE connection_id = ? AND room = ?",
                (connection_id, self.room),
            ).fetchone()
            if row is None:
                return Claim(ClaimStatus.NO_CONNECTION)
            previous: str | None = row[0]
            try:
                db.execute(
                    "UPDATE connections SET name = ?, name_key = ?,"
                    " joined_at = coalesce(joined_at, ?), session = coalesce(?, session),"
                    " language = coalesce(?, language) WHERE connection_id = ?",
                    (name, name_key(name), now, session, language, connection_id),
                )
            except sqlite3.IntegrityError:
                return Claim(ClaimStatus.TAKEN, previous)
            return Claim(ClaimStatus.CLAIMED, previous)

    def take_over(
        self, connection_id: str, previous_id: str, name: str, session: str, now: int
    ) -> Claim:
        try:
            return self._take_over(connection_id, previous_id, name, session, now)
        except _Taken as taken:
            return Claim(ClaimStatus.TAKEN, taken.previous)

    def _take_over(
        self, connection_id: str, previous_id: str, name: str, session: str, now: int
    ) -> Claim:
        with self._write() as db:
            self._purge_expired(db)
            if (
                db.execute(
                    "SELECT 1 FROM connections WHERE connection_id = ? AND room = ?",
                    (connection_id, self.room),
                ).fetchone()
                is None
            ):
                return Claim(ClaimStatus.NO_CONNECTION)
            holder = db.execute(
                "SELECT connection_id FROM connections WHERE room = ? AND name_key = ?",
                (self.room, name_key(name)),
            ).fetchone()
            old = db.execute(
                "DELETE FROM connections WHERE connection_id = ? AND connection_id != ?"
                " AND room = ? RETURNING name, joined_at",
                (previous_id, connection_id, self.room),
            ).fetchone()
            previous, joined_at = old if old is not None else (None, now)
            if holder is not None and holder[0] not in (previous_id, connection_id):
                raise _Taken(previous)
            db.execute(
                "UPDATE connections SET name = ?, name_key = ?, joined_at = ?, session = ?,"
                " away_since = NULL WHERE connection_id = ?",
                (name, name_key(name), joined_at, session, connection_id),
            )
            return Claim(ClaimStatus.CLAIMED, previous)

    def set_away(self, connection_id: str, at: int) -> bool:
        return bool(
            self._change(
                "UPDATE connections SET away_since = ?"
                " WHERE connection_id = ? AND room = ? AND away_since IS NULL"
                " AND session IS NOT NULL RETURNING 1",
                (at, connection_id, self.room),
            )
        )

    def members(self) -> list[Member]:
        """One read of the room's members version; the list itself is read again
        only when it changed since this process last read it (as the DynamoDB
        store does). Read row by row, a room of 100 cost some 200 µs of CPU a
        message under papo serve, whose threads take the GIL from each other at
        every row."""
        with self._connection() as db:
            found = db.execute(
                "SELECT value FROM room WHERE room = ? AND key = 'members'", (self.room,)
            ).fetchone()
            version = 0 if found is None else int(found[0])
            kept = self._members.get(self.room)
            if kept is None or kept[0] != version:
                rows = db.execute(
                    f"SELECT expires_at, {_MEMBER} FROM connections"  # noqa: S608
                    " WHERE room = ? AND name IS NOT NULL ORDER BY joined_at, rowid",
                    (self.room,),
                ).fetchall()
                kept = (version, [(row[0], Member._make(row[1:])) for row in rows])
                self._members[self.room] = kept
        now = self._clock()
        return [member for expires_at, member in kept[1] if expires_at > now]

    def _read_member(self, key: str) -> Member | None:
        row = self._read_one(
            f"SELECT {_MEMBER} FROM connections"  # noqa: S608
            " WHERE room = ? AND name_key = ? AND expires_at > ?",
            (self.room, key, self._clock()),
        )
        return None if row is None else Member._make(row)

    def set_idle(self, connection_id: str, idle: bool) -> bool:
        return bool(
            self._change(
                "UPDATE connections SET idle = ? WHERE connection_id = ? AND room = ?"
                " AND idle != ? RETURNING 1",
                (int(idle), connection_id, self.room, int(idle)),
            )
        )

    def read_marker(self, reader: str) -> int:
        row = self._read_one(
            "SELECT offset FROM read_markers WHERE room = ? AND reader = ? AND expires_at > ?",
            (self.room, reader, self._clock()),
        )
        return 0 if row is None else int(row[0])

    def raise_read_marker(self, reader: str, offset: int, expires_at: int) -> bool:
        return bool(
            self._change(
                "INSERT INTO read_markers (room, reader, offset, expires_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (room, reader) DO UPDATE SET offset = excluded.offset,"
                " expires_at = excluded.expires_at"
                " WHERE read_markers.offset < excluded.offset OR read_markers.expires_at <= ?"
                " RETURNING 1",
                (self.room, reader, offset, expires_at, self._clock()),
            )
        )

    # The room's stream

    def append_next(
        self,
        build: Callable[[int], bytes],
        expires_at: int,
        message: LoggedMessage | None = None,
    ) -> tuple[int, bytes]:
        """One write: the frame is built for the offset after the newest and
        inserted there only while that is still the newest (a compare-and-set
        in one statement), so offsets are taken in turn across processes. The
        threads of one process take turns on the write lock, and remember the
        newest offset they wrote: another process that wrote meanwhile makes
        the insert find another newest, and this one reads it and builds the
        frame again for the one after."""
        room = self.room
        with self._writing, self._connection() as db:
            newest = self._offsets.get(room)
            for _ in range(_APPEND_ATTEMPTS):
                if newest is None:
                    newest = self._last_offset(db)
                offset = newest + 1
                frame = build(offset)
                row = _event_row(room, offset, frame, expires_at, message)
                if db.execute(_APPEND, (*row, room, newest)).rowcount == 1:
                    self._offsets[room] = offset
                    return offset, frame
                newest = None
        raise RuntimeError(f"{_APPEND_ATTEMPTS} invocations at once took every next offset")

    def last_offset(self) -> int:
        with self._connection() as db:
            return self._last_offset(db)

    def _last_offset(self, db: sqlite3.Connection) -> int:
        row = db.execute(
            "SELECT value FROM room WHERE room = ? AND key = 'offset'", (self.room,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def frames_after(self, offset: int, limit: int) -> list[tuple[int, bytes]]:
        rows = self._read(
            "SELECT offset, frame FROM events WHERE room = ? AND offset > ? AND expires_at > ?"
            " ORDER BY offset LIMIT ?",
            (self.room, offset, self._clock(), limit),
        )
        return [(int(o), bytes(f)) for o, f in rows]

    def frames_before(self, offset: int, limit: int) -> list[tuple[int, bytes]]:
        rows = self._read(
            "SELECT offset, frame FROM events WHERE room = ? AND offset < ? AND expires_at > ?"
            " ORDER BY offset DESC LIMIT ?",
            (self.room, offset, self._clock(), limit),
        )
        return [(int(o), bytes(f)) for o, f in reversed(rows)]

    def recent(self, limit: int, after: int = 0, until: int | None = None) -> list[LoggedMessage]:
        rows = self._read(
            f"SELECT {_MESSAGE} FROM events"  # noqa: S608
            " WHERE room = ? AND sender IS NOT NULL AND offset > ? AND offset <= ?"
            " AND expires_at > ? ORDER BY offset DESC LIMIT ?",
            (self.room, after, _MAX_OFFSET if until is None else until, self._clock(), limit),
        )
        return [_message(row) for row in reversed(rows)]

    # Lines that change

    def line(self, offset: int) -> KeptLine | None:
        with self._connection() as db:
            return self._line(db, offset)

    def _line(self, db: sqlite3.Connection, offset: int) -> KeptLine | None:
        row = db.execute(
            f"SELECT frame, sender IS NOT NULL, {_MESSAGE} FROM events"  # noqa: S608
            " WHERE room = ? AND offset = ? AND expires_at > ?",
            (self.room, offset, self._clock()),
        ).fetchone()
        if row is None:
            return None
        return KeptLine(offset, bytes(row[0]), _message(row[2:]) if row[1] else None)

    def offset_of(self, msg_id: str) -> int | None:
        row = self._read_one(
            "SELECT offset FROM events WHERE room = ? AND msg_id = ? AND expires_at > ?",
            (self.room, msg_id, self._clock()),
        )
        return None if row is None else int(row[0])

    def change_line(
        self, offset: int, change: Callable[[KeptLine], LineChange]
    ) -> LineChange | None:
        """Read, changed and written in one write transaction."""
        with self._write() as db:
            line = self._line(db, offset)
            if line is None:
                return None
            changed = change(line)
            m = changed.message
            db.execute(
                "UPDATE events SET frame = ?, text = ?, edited_at = ?, deleted = ?,"
                " reactions = ? WHERE room = ? AND offset = ?",
                (
                    changed.frame,
                    m.text,
                    m.edited_at,
                    m.deleted,
                    encode_reactions(m.reactions),
                    self.room,
                    offset,
                ),
            )
            if changed.keeps_earlier and line.message is not None:
                db.execute(
                    "INSERT INTO line_versions (room, offset, message, expires_at)"
                    " SELECT room, offset, ?, expires_at FROM events WHERE room = ? AND offset = ?",
                    (encode_message(line.message), self.room, offset),
                )
            return changed

    def earlier_versions(self, offset: int) -> list[LoggedMessage]:
        rows = self._read(
            "SELECT message FROM line_versions WHERE room = ? AND offset = ? AND expires_at > ?"
            " ORDER BY rowid",
            (self.room, offset, self._clock()),
        )
        return [decode_message(bytes(row[0])) for row in rows]

    def raise_mark(self, name: str, value: int, by_at_least: int = 1) -> bool:
        return bool(
            self._change(
                "INSERT INTO room (room, key, value) VALUES (?, ?, ?)"
                " ON CONFLICT (room, key) DO UPDATE SET value = excluded.value"
                " WHERE room.value <= excluded.value - ? RETURNING 1",
                (self.room, f"mark:{name}", value, by_at_least),
            )
        )

    def mark(self, name: str) -> int:
        row = self._read_one(
            "SELECT value FROM room WHERE room = ? AND key = ?", (self.room, f"mark:{name}")
        )
        return 0 if row is None else int(row[0])

    # Notes

    def put_note(self, key: str, value: bytes, expires_at: int) -> None:
        self._change(
            "INSERT OR REPLACE INTO notes (room, key, value, expires_at) VALUES (?, ?, ?, ?)",
            (self.room, key, value, expires_at),
        )

    def note(self, key: str) -> bytes | None:
        row = self._read_one(
            "SELECT value FROM notes WHERE room = ? AND key = ? AND expires_at > ?",
            (self.room, key, self._clock()),
        )
        return None if row is None else bytes(row[0])

    # Sessions and their private streams

    def save_session(self, session: Session) -> None:
        s = session
        self._change(
            "INSERT INTO sessions"
            " (session_id, room, token_hash, name, connection_id, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET"
            " token_hash = excluded.token_hash, name = excluded.name,"
            " connection_id = excluded.connection_id, expires_at = excluded.expires_at"
            " WHERE sessions.room = excluded.room",
            (s.session_id, self.room, s.token_hash, s.name, s.connection_id, s.expires_at),
        )

    def session(self, session_id: str) -> Session | None:
        row = self._read_one(
            "SELECT session_id, token_hash, name, connection_id, expires_at FROM sessions"
            " WHERE session_id = ? AND room = ? AND expires_at > ?",
            (session_id, self.room, self._clock()),
        )
        return None if row is None else Session(*row)

    def _increment_private(self, session_id: str) -> int | None:
        rows = self._change(
            "UPDATE sessions SET last_private = last_private + 1"
            " WHERE session_id = ? AND room = ? RETURNING last_private",
            (session_id, self.room),
        )
        return int(rows[0][0]) if rows else None

    def append_private(self, session_id: str, offset: int, frame: bytes, expires_at: int) -> None:
        self._change(
            "INSERT OR REPLACE INTO privates (session_id, offset, frame, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (session_id, offset, frame, expires_at),
        )

    def private_frames_after(
        self, session_id: str, offset: int, limit: int
    ) -> list[tuple[int, bytes]]:
        rows = self._read(
            "SELECT offset, frame FROM privates"
            " WHERE session_id = ? AND offset > ? AND expires_at > ?"
            " ORDER BY offset LIMIT ?",
            (session_id, offset, self._clock(), limit),
        )
        return [(int(o), bytes(f)) for o, f in rows]

    # Counters

    def _counter(self, key: str) -> str:
        return f"{self.room}/{key}"

    def _increase_counter(
        self, key: str, amount: int, limit: int, now: int, expires_at: int
    ) -> bool:
        return bool(
            self._change(
                "INSERT INTO counters (key, value, expires_at) VALUES (:key, :amount, :expiry)"
                " ON CONFLICT (key) DO UPDATE SET"
                " value = CASE WHEN counters.expires_at <= :now THEN excluded.value"
                " ELSE counters.value + excluded.value END, expires_at = excluded.expires_at"
                " WHERE counters.expires_at <= :now"
                " OR counters.value + excluded.value <= :limit"
                " RETURNING 1",
                {
                    "key": self._counter(key),
                    "amount": amount,
                    "expiry": expires_at,
                    "now": now,
                    "limit": limit,
                },
            )
        )

    def _decrease_counter(self, key: str, amount: int, now: int) -> None:
        self._change(
            "UPDATE counters SET value = max(0, value + ?) WHERE key = ? AND expires_at > ?",
            (amount, self._counter(key), now),
        )

    def count_frame(
        self,
        connection_id: str,
        windows: tuple[PaceWindow, PaceWindow],
        now: int,  # noqa: ARG002 (the windows' numbers tell a new window)
    ) -> int | None:
        """One statement on the connection's own row: a full window's count
        stays one above its limit, which is how the row tells it was refused."""
        burst, minute = windows
        rows = self._change(
            "UPDATE connections SET"
            " burst_count = CASE WHEN burst_window = :bw"
            " THEN min(burst_count + 1, :bl + 1) ELSE 1 END, burst_window = :bw,"
            " minute_count = CASE WHEN minute_window = :mw"
            " THEN min(minute_count + 1, :ml + 1) ELSE 1 END, minute_window = :mw"
            " WHERE connection_id = :id"
            " RETURNING burst_count > :bl, minute_count > :ml",
            {
                "id": connection_id,
                "bw": burst.number,
                "bl": burst.limit,
                "mw": minute.number,
                "ml": minute.limit,
            },
        )
        full = rows[0] if rows else (False, False)
        return next((i for i, refused in enumerate(full) if refused), None)
