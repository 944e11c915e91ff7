"""A room with papo's bot: papo's handler under the emulator, its bot pointed
at the fake OpenAI server, and people who talk and listen over WebSockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from papo.aws.handler import ROUTE_KEYS
from papo.local.config import PAPO_HANDLER
from papo.local.server import Emulator
from tests.emulation import emulator
from tests.fake_openai import FakeOpenAi
from tests.served import UNPACED, room_url

KEY = "sk-papo-test-5ecret-0123456789"
COURSE_KEYS = ("members", "systemMessage", "publicMessage", "privateMessage")


@contextlib.contextmanager
def bot_room(
    tmp_path: Path,
    fake: FakeOpenAi,
    *,
    workers: int = 0,
    integration_timeout_s: float = 29.0,
    idle_timeout_s: float = 600.0,
    web_dir: Path | None = None,
    **settings: str,
) -> Iterator[Emulator]:
    """papo under the emulator (serving the web client from `web_dir`, if given),
    closing connections idle for `idle_timeout_s`; `settings` are more environment
    variables."""
    environment = {
        "PAPO_STORE": "sqlite",
        "PAPO_SQLITE_PATH": str(tmp_path / "papo.sqlite3"),
        "OPENAI_API_KEY": KEY,
        "PAPO_BOT_BASE_URL": fake.url,
        "PAPO_BOT_FLUSH_MS": "50",
        "PAPO_BOT_RETRIES": "0",
        **UNPACED,
        **settings,
    }
    with emulator(
        PAPO_HANDLER,
        ROUTE_KEYS,
        environment=environment,
        workers=workers,
        tls_port=0,
        integration_timeout_s=integration_timeout_s,
        idle_timeout_s=idle_timeout_s,
        web_dir=web_dir,
    ) as api:
        yield api


class Person:
    def __init__(self, ws: ClientConnection, name: str) -> None:
        self.ws = ws
        self.name = name
        self.frames: list[dict[str, Any]] = []

    async def say(self, action: str, **fields: Any) -> None:
        await self.ws.send(json.dumps({"action": action, **fields}))

    async def next(self, timeout: float = 10) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def until(
        self, done: Callable[[dict[str, Any]], bool], timeout: float = 15
    ) -> list[dict[str, Any]]:
        """Frames up to and including the first that is `done`."""
        heard = []
        while True:
            frame = await self.next(timeout)
            heard.append(frame)
            if done(frame):
                return heard

    async def answer(self, timeout: float = 15) -> list[dict[str, Any]]:
        """Frames up to the bot's final answer."""
        return await self.until(is_final, timeout)

    async def quiet(self, seconds: float = 0.3) -> None:
        with contextlib.suppress(TimeoutError):
            frame = await asyncio.wait_for(self.ws.recv(), seconds)
            raise AssertionError(f"{self.name} got {frame!r}")


def is_final(frame: dict[str, Any]) -> bool:
    return frame.get("type") == "public" and frame.get("from") == "Bot"


def deltas(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f.get("type") == "botDelta"]


def course_view(frames: list[dict[str, Any]]) -> list[Any]:
    """What a client of the course shows: only the four original keys."""
    return [f[k] for f in frames for k in COURSE_KEYS if k in f]


def _joined(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("event") == "joined" and frame["name"] == name


@contextlib.asynccontextmanager
async def people(api: Emulator, *names: str, room: str | None = None) -> Any:
    """People who joined `room` (None: named none), in order, each having heard
    everyone join."""
    async with contextlib.AsyncExitStack() as stack:
        joined: list[Person] = []
        for name in names:
            ws = await stack.enter_async_context(connect(room_url(api, room)))
            person = Person(ws, name)
            await person.say("setName", name=name)
            for other in [*joined, person]:
                await other.until(_joined(name))
            joined.append(person)
        yield joined
