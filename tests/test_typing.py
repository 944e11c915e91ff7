"""`typing`: "Ana is typing…" for the others, through papo serve over real
WebSockets (both stores, threads and worker processes); its throttle and its
room size in the chat core, with a recording delivery and a clock of its own."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from websockets.asyncio.client import connect

from papo.core.rules import PresenceRules, RateRules, Rules
from papo.local.server import Emulator
from tests.chat_room import ChatRoom
from tests.served import EACH_ONCE, Frame, Reader, Serve, heard, serve

__all__ = ["serve"]  # fixtures


def typing(reader: Reader) -> list[Frame]:
    return [f for f in reader.wire if f.get("type") == "typing"]


@EACH_ONCE
def test_the_others_see_who_is_typing_and_the_stream_keeps_nothing(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        ana, bruno = Reader(api, "Ana"), Reader(api, "Bruno")
        await ana.open()
        await bruno.open()
        await ana.say("typing")
        await bruno.until(lambda: bool(typing(bruno)))
        assert typing(bruno)[0]["typing"] == "Ana"
        assert "offset" not in typing(bruno)[0]
        await ana.say("sendPublic", message="done")
        await ana.until(lambda: heard(ana, "Ana: done"))
        assert typing(ana) == []  # not told of one's own typing
        assert [f["text"] for f in ana.room.values() if "text" in f] == ["done"]
        await ana.close()
        await bruno.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))
        assert api.store().last_offset() == 3  # two joins and the message: no typing


@EACH_ONCE
def test_typing_is_not_paced_with_what_people_say(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        ana, bruno = Reader(api, "Ana"), Reader(api, "Bruno")
        await ana.open()
        await bruno.open()
        # Seven frames in at most two windows of 10 s: four or more in one, over its 3.
        for n in range(6):
            await ana.say("sendPublic", message=f"m{n}")
        await ana.until(lambda: "rate_limited" in ana.errors)
        await ana.say("typing")
        await bruno.until(lambda: bool(typing(bruno)))
        await ana.close()
        await bruno.close()

    with serve({"PAPO_RATE_BURST": "3", "PAPO_RATE_PER_MINUTE": "1"}) as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))


@EACH_ONCE
def test_typing_before_joining_is_refused(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url) as ws:
            await ws.send(json.dumps({"action": "typing"}))
            refusal = json.loads(await ws.recv())
        assert (refusal["code"], refusal["action"]) == ("not_joined", "typing")

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))


class Room(ChatRoom):
    def typists(self, cid: str) -> list[object]:
        return [f["typing"] for f in self.delivery.take(cid) if f.get("type") == "typing"]


UNPACED = RateRules(burst=1000, per_minute=1000)


def test_typing_is_relayed_once_an_interval(tmp_path: Path) -> None:
    room = Room(tmp_path, Rules(rate=UNPACED))
    ana, bruno = room.join("Ana"), room.join("Bruno")
    room.delivery.everyone()
    for _ in range(5):
        room.say(ana, "typing")
    room.say(bruno, "typing")  # each connection its own interval
    assert room.typists(bruno) == ["Ana"]
    assert room.typists(ana) == ["Bruno"]
    room.now += PresenceRules().typing_interval_ms - 1
    room.say(ana, "typing")
    assert room.typists(bruno) == []
    room.now += 1
    room.say(ana, "typing")
    assert room.typists(bruno) == ["Ana"]
    assert room.delivery.take(ana) == []  # dropped, unanswered: they say nothing new


def test_a_room_bigger_than_the_setting_is_not_told(tmp_path: Path) -> None:
    rules = Rules(rate=UNPACED, presence=PresenceRules(typing_up_to=2))
    room = Room(tmp_path, rules)
    ana, bruno = room.join("Ana"), room.join("Bruno")
    room.delivery.everyone()
    room.say(ana, "typing")
    assert room.typists(bruno) == ["Ana"]
    carla = room.join("Carla")
    room.delivery.everyone()
    room.now += 10_000
    room.say(ana, "typing")
    assert room.typists(bruno) == room.typists(carla) == []


def test_typing_before_a_name_is_refused(tmp_path: Path) -> None:
    room = Room(tmp_path, Rules())
    room.chat.connect("X=")
    room.say("X=", "typing")
    assert [f["code"] for f in room.delivery.take("X=")] == ["not_joined"]
