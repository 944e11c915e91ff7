"""Invite links under `papo serve`, as on AWS: papo's own `REQUEST` authorizer on
`$connect` in front of papo's handler, with invite links, over real WebSockets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from papo.adapters.store.sqlite import SqliteStore
from papo.aws.handler import ROUTE_KEYS
from papo.core.invites import make_invite
from papo.local.config import PAPO_HANDLER, ApiConfig, Authorizer
from papo.local.server import Emulator
from tests.served import UNPACED

SECRET = "papo-test-invite-secret"


@pytest.fixture(params=[0, 2], ids=["in-threads", "in-2-workers"])
def invites_served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Emulator]:
    environment = {
        "PAPO_STORE": "sqlite",
        "PAPO_SQLITE_PATH": str(tmp_path / "papo.sqlite3"),
        "PAPO_MANAGEMENT_ENDPOINT": "",
        "PAPO_AUTH": "invite",
        "PAPO_INVITE_SECRET": SECRET,
        **UNPACED,
    }
    config = ApiConfig.for_handler(
        PAPO_HANDLER,
        ROUTE_KEYS,
        workers=request.param,
        authorizer=Authorizer.papos(),
    )
    with Emulator(config, port=0, tls_port=0, environment=environment).running() as api:
        yield api


def invite(name: str | None = None, seconds: int = 600, room: str | None = None) -> str:
    expires_at = int(time.time()) + seconds
    return make_invite(SECRET.encode(), expires_at=expires_at, name=name, room=room)


async def refused(url: str) -> int:
    with pytest.raises(InvalidStatus) as refusal:
        async with connect(url):
            pass
    return refusal.value.response.status_code


async def join(api: Emulator, token: str, name: str, room: str | None = None) -> dict[str, Any]:
    """The frame that answers `setName`: the joined event, or a refusal."""
    query = f"token={token}" if room is None else f"room={room}&token={token}"
    async with connect(f"{api.websocket_url}?{query}") as ws:
        await ws.send(json.dumps({"action": "setName", "name": name}))
        while True:
            frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if "code" in frame or frame.get("event") == "joined":
                return frame


def test_a_good_invite_joins(invites_served: Emulator) -> None:
    frame = asyncio.run(join(invites_served, invite("Ana"), "Ana"))
    assert frame["systemMessage"] == "Ana joined the chat"


def test_a_missing_expired_or_tampered_invite_is_refused_at_the_handshake(
    invites_served: Emulator,
) -> None:
    payload, _, signature = invite().partition(".")

    async def scenario() -> list[int]:
        return [
            await refused(invites_served.websocket_url),
            await refused(f"{invites_served.websocket_url}?token="),
            await refused(f"{invites_served.websocket_url}?token={invite(seconds=-1)}"),
            await refused(f"{invites_served.websocket_url}?token={payload}.{signature[:-3]}AAA"),
        ]

    assert asyncio.run(scenario()) == [401, 401, 401, 401]


async def gone(api: Emulator, name: str) -> None:
    """Waits until `name`'s connection has left: its `$disconnect` runs after the close."""
    assert api.environment is not None
    store = SqliteStore(api.environment["PAPO_SQLITE_PATH"])
    deadline = time.monotonic() + 10
    while store.find(name) is not None:
        assert time.monotonic() < deadline, f"{name} is still in the room"
        await asyncio.sleep(0.02)


def test_an_invite_for_a_name_takes_no_other_and_nobody_else_takes_it(
    invites_served: Emulator,
) -> None:
    async def scenario() -> list[object]:
        first = await join(invites_served, invite("Ana"), "Bruno")
        second = await join(invites_served, invite("Ana"), "Ana")
        await gone(invites_served, "Ana")
        third = await join(invites_served, invite(), "ana")  # another invite, after Ana left
        again = await join(invites_served, invite("Ana"), "Ana")  # a second invite for Ana is hers
        return [first.get("code"), second.get("event"), third.get("code"), again.get("event")]

    assert asyncio.run(scenario()) == ["name_bound", "joined", "name_owned", "joined"]


def test_people_sharing_an_invite_for_no_name_cannot_take_each_others_names(
    invites_served: Emulator,
) -> None:
    """A link for the whole group admits each of them; it makes nobody anyone else."""
    shared = invite()

    async def scenario() -> list[object]:
        query = f"token={shared}"
        async with connect(f"{invites_served.websocket_url}?{query}") as ana:
            await ana.send(json.dumps({"action": "setName", "name": "Ana"}))
            while json.loads(await asyncio.wait_for(ana.recv(), 10)).get("event") != "joined":
                pass
            second = await join(invites_served, shared, "Ana")
            await ana.send(json.dumps({"action": "ping"}))
            still = json.loads(await asyncio.wait_for(ana.recv(), 10))
            while "members" in still or still.get("event"):
                still = json.loads(await asyncio.wait_for(ana.recv(), 10))
            return [second.get("code"), still]

    assert asyncio.run(scenario()) == ["name_taken", {"type": "pong"}]


def test_an_invite_for_a_room_joins_that_room_only(invites_served: Emulator) -> None:
    team = invite("Ana", room="team")

    async def scenario() -> list[object]:
        return [
            (await join(invites_served, team, "Ana", room="team")).get("event"),
            (await join(invites_served, invite("Bruno", room="team"), "Bruno", room="TEAM")).get(
                "event"
            ),
            await refused(f"{invites_served.websocket_url}?token={team}"),
            await refused(f"{invites_served.websocket_url}?room=main&token={team}"),
            await refused(f"{invites_served.websocket_url}?room=other&token={team}"),
        ]

    assert asyncio.run(scenario()) == ["joined", "joined", 401, 401, 401]


def test_an_invite_made_before_rooms_joins_main_only(invites_served: Emulator) -> None:
    old = invite()  # no room in it, as before rooms

    async def scenario() -> list[object]:
        return [
            (await join(invites_served, old, "Ana")).get("event"),
            (await join(invites_served, invite(), "Bruno", room="main")).get("event"),
            await refused(f"{invites_served.websocket_url}?room=team&token={old}"),
        ]

    assert asyncio.run(scenario()) == ["joined", "joined", 401]


def test_a_room_that_is_no_room_is_refused_at_the_handshake(invites_served: Emulator) -> None:
    async def scenario() -> list[int]:
        return [
            await refused(f"{invites_served.websocket_url}?room={room}&token={invite(room='main')}")
            for room in ("-main", "main_", "x" * 33, "ma%C3%AFn", "ma%20in")
        ]

    assert asyncio.run(scenario()) == [401] * 5
