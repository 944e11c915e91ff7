"""papo's own handler under `papo serve`, with both stores: a whole chat session
over real WebSockets, nothing lost."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from papo.core.ports import ConnectionStore
from papo.local.server import Emulator
from tests.served import Serve, serve

__all__ = ["serve"]  # fixtures


class Person:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def say(self, action: str, **fields: Any) -> None:
        await self.ws.send(json.dumps({"action": action, **fields}))

    async def hear(self, count: int) -> list[Any]:
        """The next `count` frames, by their error code or else their course key."""
        heard = []
        for _ in range(count):
            frame = json.loads(await self.ws.recv())
            keys = ("code", "members", "systemMessage", "publicMessage", "privateMessage")
            heard.append(next(frame[k] for k in keys if k in frame))
        return heard

    async def quiet(self) -> None:
        """Nothing more arrives for a moment."""
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(self.ws.recv(), 0.3)


def test_a_chat_session_end_to_end(serve: Serve) -> None:
    """papo's handler as deployed: it posts to https://{domainName}/{stage} of its
    events; in the emulator's threads in process, from worker processes over TLS."""
    with serve() as papo:
        room_store = papo.store()
        asyncio.run(asyncio.wait_for(scenario(papo, room_store), 30))
        deadline = time.monotonic() + 10
        while room_store.members() and time.monotonic() < deadline:
            time.sleep(0.05)  # each $disconnect runs after its socket closed
        assert room_store.members() == []


async def scenario(papo: Emulator, room_store: ConnectionStore) -> None:
    async with (
        connect(papo.websocket_url) as a,
        connect(papo.websocket_url) as b,
        connect(papo.websocket_url) as c,
    ):
        ana, bruno, carla = Person(a), Person(b), Person(c)
        await ana.say("setName", name="Ana")
        assert await ana.hear(2) == [["Ana"], "Ana joined the chat"]
        await bruno.say("setName", name="Bruno")
        assert await bruno.hear(2) == [["Ana", "Bruno"], "Bruno joined the chat"]
        assert await ana.hear(2) == [["Ana", "Bruno"], "Bruno joined the chat"]

        await carla.say("sendPublic", message="hello?")
        assert await carla.hear(1) == ["not_joined"]
        await carla.say("setName", name="bruno")
        assert await carla.hear(1) == ["name_taken"]
        await carla.say("setName", name="Carla")
        for person in (ana, bruno, carla):
            assert await person.hear(2) == [["Ana", "Bruno", "Carla"], "Carla joined the chat"]

        await ana.say("sendPublic", message="hi all")
        for person in (ana, bruno, carla):
            assert await person.hear(1) == ["Ana: hi all"]

        await bruno.say("sendPrivate", to="carla", message="psst")
        assert await carla.hear(1) == ["Bruno: psst"]
        assert await bruno.hear(1) == ["Bruno: psst"]
        await ana.quiet()

        await bruno.say("setName", name="Bia")
        for person in (ana, bruno, carla):
            assert await person.hear(2) == [["Ana", "Bia", "Carla"], "Bruno is now Bia"]

        now = time.time_ns() // 1_000_000
        room_store.add("GhostGhostGhos=", now)
        room_store.claim_name("GhostGhostGhos=", "Ghost", now)
        await carla.say("sendPublic", message="anyone else?")
        for person in (ana, bruno, carla):
            assert await person.hear(3) == [
                "Carla: anyone else?",
                ["Ana", "Bia", "Carla"],
                "Ghost left the chat",
            ]

        await c.close()
        for person in (ana, bruno):
            assert await person.hear(2) == [["Ana", "Bia"], "Carla left the chat"]
        await b.send("not json at all")
        assert await bruno.hear(1) == ["invalid_json"]
        await ana.quiet()
