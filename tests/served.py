"""papo's handler under `papo serve`, in threads and in worker processes, on
both stores, and a client that keeps what it was sent, as a person's would."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from papo.aws.handler import ROUTE_KEYS
from papo.local.config import PAPO_HANDLER
from papo.local.server import Emulator
from tests.emulation import emulator

Frame = dict[str, Any]


@pytest.fixture
def environment(
    store_kind: str, aws_env: None, tmp_path: Path, request: pytest.FixtureRequest
) -> dict[str, str]:
    if store_kind == "sqlite":
        return {"PAPO_STORE": "sqlite", "PAPO_SQLITE_PATH": str(tmp_path / "papo.sqlite3")}
    table = request.getfixturevalue("dynamodb_table")
    return {
        "PAPO_STORE": "dynamodb",
        "PAPO_TABLE": table,
        "AWS_ENDPOINT_URL_DYNAMODB": request.getfixturevalue("moto_url"),
    }


def room_url(api: Emulator, room: str | None) -> str:
    """The API's address for a connection that joins `room` (None: names none)."""
    return api.websocket_url if room is None else f"{api.websocket_url}?room={room}"


UNPACED = {"PAPO_RATE_BURST": "100000", "PAPO_RATE_PER_MINUTE": "100000"}

Serve = Callable[..., contextlib.AbstractContextManager[Emulator]]


@pytest.fixture(params=[0, 2], ids=["in-threads", "in-2-workers"])
def serve(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Serve:
    monkeypatch.delenv("PAPO_MANAGEMENT_ENDPOINT", raising=False)

    @contextlib.contextmanager
    def served(settings: dict[str, str] | None = None, **limits: Any) -> Iterator[Emulator]:
        """papo, with these settings over the tests' (which let a test send fast)."""
        with emulator(
            PAPO_HANDLER,
            ROUTE_KEYS,
            environment={**environment, **UNPACED, **(settings or {})},
            workers=request.param,
            tls_port=0,
            **limits,
        ) as api:
            yield api

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
        self.ws = await connect(room_url(self.api, self.in_room), ping_interval=None)
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
