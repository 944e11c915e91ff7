"""papo's handler under `papo serve`, in threads and in worker processes, on
both stores, and a client that keeps what it was sent, as a person's would."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from papo.adapters.store.dynamodb import DynamoDbStore
from papo.adapters.store.dynamodb_table import create_table
from papo.adapters.store.sqlite import SqliteStore
from papo.aws.handler import ROUTE_KEYS
from papo.core.ports import Store
from papo.local.config import PAPO_HANDLER
from papo.local.server import Emulator
from tests.emulation import emulator

Frame = dict[str, Any]


@pytest.fixture
def environment(
    store_kind: str, aws_env: None, tmp_path: Path, request: pytest.FixtureRequest
) -> dict[str, str]:
    """The environment of papo's handler on the test's store, for a test that starts
    an emulator of its own (`serve` shares its emulators, each with its store)."""
    if store_kind == "sqlite":
        return {"PAPO_STORE": "sqlite", "PAPO_SQLITE_PATH": str(tmp_path / "papo.sqlite3")}
    table = request.getfixturevalue("dynamodb_table")
    return {
        "PAPO_STORE": "dynamodb",
        "PAPO_TABLE": table,
        "AWS_ENDPOINT_URL_DYNAMODB": request.getfixturevalue("moto_url"),
    }


def room_url(api: Emulator, room: str | None) -> str:
    """The API's address for a connection that joins `room` (None: names none).
    On a shared emulator (`InRoom`), the rooms are the test's own: None is its
    room, and another is named after it."""
    if isinstance(api, InRoom):
        return api.room_url(room)
    return api.websocket_url if room is None else f"{api.websocket_url}?room={room}"


UNPACED = {"PAPO_RATE_BURST": "100000", "PAPO_RATE_PER_MINUTE": "100000"}

SERVED_AS = {0: "in-threads", 2: "in-2-workers"}


def each_mode_and_store_once(fixture: str) -> pytest.MarkDecorator:
    """For a test whose subject is a rule rather than concurrency or a store, and
    whose `fixture` serves in the mode it is given (its number of worker
    processes): it runs in each mode once and on each store once (threads on
    SQLite, worker processes on DynamoDB), not on all four combinations. What
    can differ between modes (invocations in other processes) or stores (what
    is kept and read back) still shows in one of the two."""
    return pytest.mark.parametrize(
        (fixture, "store_kind"),
        [(0, "sqlite"), (2, "dynamodb")],
        indirect=[fixture],
        ids=["in-threads-sqlite", "in-2-workers-dynamodb"],
    )


EACH_ONCE = each_mode_and_store_once("serve")
"""`each_mode_and_store_once` for the tests under `serve`."""


class InRoom(Emulator):
    """A running emulator that tests share, as one test sees it: in a room of its
    own. Its `websocket_url` names that room, so clients that connect to it (the
    course's, which name no room, and `Reader`s) meet only this test's people."""

    def __init__(self, api: Emulator, room: str) -> None:  # the emulator runs already
        self.__dict__.update(api.__dict__)
        self.room = room

    @property
    def websocket_url(self) -> str:
        return self.room_url(None)

    def store(self) -> Store:
        """The emulator's store, as its handlers open it, serving this test's room."""
        environment = self.environment or {}
        if environment.get("PAPO_STORE") == "dynamodb":
            client = boto3.client(
                "dynamodb",
                endpoint_url=environment["AWS_ENDPOINT_URL_DYNAMODB"],
                region_name=environment["AWS_REGION"],
                aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
            )
            return DynamoDbStore(client, environment["PAPO_TABLE"]).in_room(self.room)
        return SqliteStore(environment["PAPO_SQLITE_PATH"]).in_room(self.room)

    def management_client(self) -> Any:
        """A Management API client of this emulator, signed with its handlers' own
        credentials: not with whatever boto3 found first in this process."""
        environment = self.environment or {}
        return boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=self.management_url,
            region_name=environment.get("AWS_REGION", "us-east-1"),
            aws_access_key_id=environment.get("AWS_ACCESS_KEY_ID", "AKIDPAPOTEST"),
            aws_secret_access_key=environment.get("AWS_SECRET_ACCESS_KEY", "papo-test-secret"),
        )

    def room_url(self, room: str | None) -> str:
        """The address of the test's own room (None), or of another of its rooms."""
        named = self.room if room is None else f"{self.room}-{room}"
        return f"{super().websocket_url}?room={named}"


Serve = Callable[..., contextlib.AbstractContextManager[InRoom]]


@dataclass(frozen=True)
class ServedKey:
    workers: int
    store_kind: str
    settings: tuple[tuple[str, str], ...]
    limits: tuple[tuple[str, Any], ...]


class SharedEmulators:
    """papo's handler under emulators that tests share, one for each (mode, store,
    settings, limits) asked for, each test in a room of its own (`InRoom`).

    Emulators whose handlers run in worker processes last the session. Those whose
    handlers run in this process's threads hold their environment in
    `os.environ` while they run, so one runs at a time, and none outlives the
    module of the tests that used it (`end_of_module`)."""

    def __init__(self, folder: Path, moto_url: str) -> None:
        self.folder = folder
        self.moto_url = moto_url
        self._running: dict[ServedKey, tuple[Emulator, contextlib.ExitStack]] = {}

    def get(self, key: ServedKey) -> Emulator:
        """The emulator for `key`, started if none runs."""
        found = self._running.get(key)
        if found is not None:
            return found[0]
        if key.workers == 0:
            self.end_of_module()
        stack = contextlib.ExitStack()
        api = stack.enter_context(
            emulator(
                PAPO_HANDLER,
                ROUTE_KEYS,
                environment={
                    **self._environment(key.store_kind),
                    **UNPACED,
                    **dict(key.settings),
                },
                workers=key.workers,
                tls_port=0,
                **dict(key.limits),
            )
        )
        self._running[key] = (api, stack)
        return api

    def _environment(self, store_kind: str) -> dict[str, str]:
        """A store of its own for each emulator; AWS credentials as `aws_env` sets
        them, and nothing of the developer's own Management API."""
        shared = {
            "AWS_ACCESS_KEY_ID": "AKIDPAPOTEST",
            "AWS_SECRET_ACCESS_KEY": "papo-test-secret",
            "AWS_SESSION_TOKEN": "papo-test-token",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "PAPO_MANAGEMENT_ENDPOINT": "",
        }
        name = f"papo-{uuid.uuid4().hex[:8]}"
        if store_kind == "sqlite":
            path = self.folder / f"{name}.sqlite3"
            return {**shared, "PAPO_STORE": "sqlite", "PAPO_SQLITE_PATH": str(path)}
        client = boto3.client(
            "dynamodb",
            endpoint_url=self.moto_url,
            region_name="us-east-1",
            aws_access_key_id=shared["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=shared["AWS_SECRET_ACCESS_KEY"],
        )
        create_table(client, name)
        return {
            **shared,
            "PAPO_STORE": "dynamodb",
            "PAPO_TABLE": name,
            "AWS_ENDPOINT_URL_DYNAMODB": self.moto_url,
        }

    def end_of_module(self) -> None:
        """Stops the emulator whose handlers run in this process's threads, if one runs."""
        for key in [k for k in self._running if k.workers == 0]:
            self._running.pop(key)[1].close()

    def close(self) -> None:
        """Stops them all at once: each stop is mostly waiting for its servers and
        worker processes to end."""
        stacks = [stack for _, stack in self._running.values()]
        self._running.clear()
        with ThreadPoolExecutor(max(1, len(stacks))) as pool:
            list(pool.map(contextlib.ExitStack.close, stacks))


@pytest.fixture(params=list(SERVED_AS), ids=list(SERVED_AS.values()))
def serve(
    store_kind: str,
    shared_emulators: SharedEmulators,
    threads_end_with_module: None,
    request: pytest.FixtureRequest,
) -> Serve:
    """`with serve(settings, **limits) as api`: papo's handler under an emulator shared
    with the tests that ask for the same, in threads or in 2 worker processes, on
    each store; `api` is this test's own room on it (`InRoom`)."""

    @contextlib.contextmanager
    def served(settings: dict[str, str] | None = None, **limits: Any) -> Iterator[InRoom]:
        """papo, with these settings over the tests' (which let a test send fast)."""
        key = ServedKey(
            request.param,
            store_kind,
            tuple(sorted((settings or {}).items())),
            tuple(sorted(limits.items())),
        )
        yield InRoom(shared_emulators.get(key), f"t{uuid.uuid4().hex[:10]}")

    return served


class Reader:
    """A client that keeps what it was sent: the room's frames by offset (the
    missed ones unpacked), its private frames by their offset, and the order
    frames came in on the wire."""

    def __init__(self, api: Emulator, name: str, in_room: str | None = None) -> None:
        self.api = api
        self.name = name
        self.in_room = in_room
        self.ws: ClientConnection | None = None
        self.room: dict[int, Frame] = {}
        self.private: dict[int, Frame] = {}
        self.wire: list[Frame] = []
        self.token: str | None = None
        self.errors: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def open(self, **resume: Any) -> None:
        # The scenario bounds the wait: many handshakes at once, each a `$connect`
        # invocation, may queue for longer than websockets' 10 s on a loaded machine.
        self.ws = await connect(
            room_url(self.api, self.in_room), ping_interval=None, open_timeout=None
        )
        self._task = asyncio.create_task(self._read(self.ws))
        if resume:
            await self.say("setName", name=self.name, resume=resume)
        else:
            await self.say("setName", name=self.name, resume=True)
        await self.until(lambda: self.token is not None and bool(self.room))

    async def resume(self) -> None:
        await self.open(
            token=self.token, offset=self.last_offset, privateOffset=max(self.private, default=0)
        )

    @property
    def last_offset(self) -> int:
        return max(self.room, default=0)

    async def say(self, action: str, **fields: Any) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({"action": action, **fields}))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                frame = json.loads(raw)
                for item in frame.get("missed", [frame]):
                    self._keep(item)
                self._changed.set()

    def _keep(self, frame: Frame) -> None:
        self.wire.append(frame)
        if frame.get("type") == "session":
            self.token = frame["resumeToken"]
        elif "code" in frame:
            self.errors.append(frame["code"])
        elif "privateOffset" in frame:
            self.private[frame["privateOffset"]] = frame
        elif "offset" in frame:
            self.room[frame["offset"]] = frame

    def gaps(self) -> list[int]:
        """Offsets missing between the first and the last this reader holds."""
        held = sorted(self.room)
        return [o for o in range(held[0], held[-1]) if o not in self.room] if held else []

    async def fill(self) -> None:
        """Asks for what it missed, as a client that keeps count does on a gap:
        announcements of people who joined together are left for it to fetch."""
        gaps = self.gaps()
        if gaps:
            await self.say("sync", offset=gaps[0] - 1)
            await self.until(lambda: not self.gaps())

    async def until(self, done: Callable[[], bool], timeout: float = 30) -> None:
        async def wait() -> None:
            while not done():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)

    async def closed(self, timeout: float = 10) -> None:
        assert self._task is not None
        await asyncio.wait_for(self._task, timeout)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            await self._task

    def said(self) -> list[tuple[int, str]]:
        """The room's public messages and system lines, by offset."""
        return [
            (offset, f.get("publicMessage") or f["systemMessage"])
            for offset, f in sorted(self.room.items())
        ]


def public(reader: Reader) -> list[str]:
    return [f["publicMessage"] for _, f in sorted(reader.room.items()) if "publicMessage" in f]


def has_all(reader: Reader, total: int) -> bool:
    return len(public(reader)) == total


def heard(reader: Reader, text: str) -> bool:
    return text in public(reader)


async def handshake(url: str) -> int:
    """101 when the handshake succeeds, else the status it was refused with."""
    try:
        async with connect(url):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code
