"""One order for everyone, and nothing missed after a drop: papo's handler under
`papo serve`, in threads and in worker processes, on both stores, over real
WebSockets."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from papo.local.server import Emulator
from tests.served import (
    EACH_ONCE,
    InRoom,
    Reader,
    Serve,
    environment,
    has_all,
    heard,
    public,
    serve,
)

__all__ = ["environment", "serve"]  # fixtures


SENDERS, MESSAGES, READERS = 4, 12, 8


def test_one_order_for_everyone_from_many_senders(serve: Serve) -> None:
    """Senders talk at once, each sending its next message once it has heard its
    last: ordered by offset, every reader has every message once, in one order,
    each sender's in the order sent."""

    async def scenario(api: Emulator) -> None:
        readers = [Reader(api, f"P{i}") for i in range(READERS)]
        for reader in readers:
            await reader.open()
        total = SENDERS * MESSAGES

        async def send(sender: Reader) -> None:
            for n in range(MESSAGES):
                text = f"{sender.name}: m{n:02d}"
                await sender.say("sendPublic", message=f"m{n:02d}")
                await sender.until(functools.partial(heard, sender, text))

        await asyncio.gather(*(send(r) for r in readers[:SENDERS]))
        for reader in readers:
            await reader.until(functools.partial(has_all, reader, total))
        views = [public(r) for r in readers]
        assert all(view == views[0] for view in views)
        assert len(set(views[0])) == total
        for sender in readers[:SENDERS]:
            mine = [m for m in views[0] if m.startswith(f"{sender.name}: ")]
            assert mine == [f"{sender.name}: m{n:02d}" for n in range(MESSAGES)]
        for reader in readers:
            posted = [f["offset"] for f in reader.wire if "publicMessage" in f]
            assert len(posted) == len(set(posted)), "a message came twice"
            await reader.fill()  # the joins announced together: fetched on a gap, in full
            await reader.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 120))


@pytest.mark.parametrize("drop", ["delete", "client-close", "idle"])
def test_after_a_drop_the_view_is_whole_and_nobody_saw_it(serve: Serve, drop: str) -> None:
    async def scenario(api: InRoom) -> None:
        ana, bruno, carla = Reader(api, "Ana"), Reader(api, "Bruno"), Reader(api, "Carla")
        keepalive: dict[str, asyncio.Task[None]] = {}

        async def heartbeat(reader: Reader) -> None:
            """A frame a second against the 3 s idle timeout, on whatever connection
            the reader has open, from its handshake on: a loaded handler may take
            longer than the timeout to answer the reader's setName, and only the
            client's frames keep a connection from being idle."""
            while True:
                if reader.ws is not None and reader.ws.state is State.OPEN:
                    with contextlib.suppress(ConnectionClosed):
                        await reader.say("ping")
                await asyncio.sleep(1.0)

        for reader in (ana, bruno, carla):
            if drop == "idle":
                keepalive[reader.name] = asyncio.create_task(heartbeat(reader))
            await reader.open()
        await ana.say("sendPublic", message="before")
        await carla.until(lambda: "Ana: before" in public(carla))
        await bruno.until(lambda: "Ana: before" in public(bruno))

        if drop == "delete":
            first = connection_of(api, bruno)
            await asyncio.to_thread(api.management_client().delete_connection, ConnectionId=first)
            await bruno.closed()
        elif drop == "client-close":
            await bruno.close()
        else:
            keepalive.pop("Bruno").cancel()
            await bruno.closed(timeout=15)  # idle: closed by the emulator with 1001
            assert bruno.ws is not None
            assert bruno.ws.close_code == 1001

        for n in range(5):
            await ana.say("sendPublic", message=f"while away {n}")
        await ana.say("sendPrivate", to="Bruno", message="psst")
        await carla.until(lambda: len(public(carla)) == 6)
        if drop == "idle":
            keepalive["Bruno"] = asyncio.create_task(heartbeat(bruno))
        await bruno.resume()
        await bruno.until(lambda: len(public(bruno)) == 6 and len(bruno.private) == 1)
        await ana.say("sendPublic", message="after")
        for reader in (bruno, carla):
            await reader.until(functools.partial(heard, reader, "Ana: after"))
        for reader in (ana, bruno, carla):
            await reader.fill()
        since = min(carla.room)
        assert [t for o, t in bruno.said() if o >= since] == [t for _, t in carla.said()]
        assert public(bruno) == public(carla)
        assert [f["privateMessage"] for f in bruno.private.values()] == ["Ana: psst"]
        for reader, joins in ((ana, 1), (carla, 0)):  # Carla came after Bruno
            events = [(f["event"], f["name"]) for f in reader.room.values() if "event" in f]
            assert ("left", "Bruno") not in events
            assert events.count(("joined", "Bruno")) == joins
        assert bruno.errors == []
        for task in keepalive.values():
            task.cancel()
        for reader in (ana, bruno, carla):
            await reader.close()

    limits = {"idle_timeout_s": 3.0} if drop == "idle" else {}
    with serve(**limits) as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))


def connection_of(api: Emulator, reader: Reader) -> str:
    """The emulator's id of the reader's connection (API Gateway keeps it server-side)."""
    assert reader.ws is not None
    port = reader.ws.local_address[1]
    return next(
        c.connection_id
        for c in api.registry
        if c.websocket.client is not None and c.websocket.client.port == port
    )


@EACH_ONCE
def test_someone_elses_or_a_tampered_token_is_refused(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        ana, bruno = Reader(api, "Ana"), Reader(api, "Bruno")
        await ana.open()
        await bruno.open()
        assert ana.token is not None
        thief = Reader(api, "Bruno")
        thief.ws = await connect(api.websocket_url, ping_interval=None)
        thief._task = asyncio.create_task(thief._read(thief.ws))
        await thief.say("setName", name="Bruno", resume={"token": ana.token})
        await thief.until(lambda: thief.errors == ["resume_invalid"])
        await thief.say("setName", name="Ana", resume={"token": ana.token[:-3] + "abc"})
        await thief.until(lambda: thief.errors == ["resume_invalid"] * 2)
        await thief.say("setName", name="Ana")
        await thief.until(lambda: thief.errors[-1:] == ["name_taken"])
        for reader in (ana, bruno, thief):
            await reader.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 30))


COURSE_KEYS = ("members", "systemMessage", "publicMessage", "privateMessage")


@EACH_ONCE
def test_a_course_client_sees_its_refusals(serve: Serve) -> None:
    """A client that shows only the course's four keys is told what was refused."""

    async def scenario(api: Emulator) -> None:
        ana = Reader(api, "Ana")
        await ana.open()
        async with connect(api.websocket_url) as course:
            shown: list[object] = []

            async def show(count: int) -> None:
                while count:
                    frame = json.loads(await course.recv())
                    shown.extend(frame[k] for k in COURSE_KEYS if k in frame)
                    count -= 1

            await course.send(json.dumps({"action": "setName", "name": "ana"}))
            await show(1)
            await course.send(json.dumps({"action": "sendPublic", "message": "hi"}))
            await show(1)
            await course.send("not json")
            await show(1)
            assert shown == [
                "The name ana is already taken. Please choose another.",
                "Choose a name with setName before sending messages.",
                'That frame is not JSON. Send an object such as {"action": "sendPublic", '
                '"message": "hi"}.',
            ]
        await ana.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 30))
