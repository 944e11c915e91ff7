"""Who is here and who is away (`presence`), through papo serve over real
WebSockets, on both stores, in threads and in worker processes; and the
rules behind it in the chat core, with a recording delivery."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from papo.core.rules import JoinRules, RateRules, Rules
from papo.local.server import Emulator
from tests.chat_room import ChatRoom
from tests.served import EACH_ONCE, Frame, Reader, Serve, serve

__all__ = ["serve"]  # fixtures

BIG_ROOM = {"PAPO_JOIN_WINDOW_MS": "300", "PAPO_JOIN_WINDOW_FROM": "0"}
"""Every room counts as big: told only its counts, once a join window."""
SMALL_ROOM = {"PAPO_JOIN_WINDOW_FROM": "20"}
"""The default, said: a worker process started while an emulator in this
process's threads ran takes its environment (`papo.local.invoker`), which
may be a big room's (`BIG_ROOM` here, or test_rooms.py's)."""


def presences(reader: Reader) -> list[Frame]:
    return [f for f in reader.wire if f.get("type") == "presence"]


def told(reader: Reader, name: str, state: str) -> bool:
    return any(f["presence"].get(name) == state for f in presences(reader))


def members(reader: Reader) -> list[str]:
    """The members as a client keeps them: the list of the highest `asOf` (frames
    posted by different invocations may come in any order)."""
    lists = [f for f in reader.wire if f.get("type") == "members"]
    return max(reversed(lists), key=lambda f: f.get("asOf", -1))["members"] if lists else []


def run(scenario: Any) -> None:
    asyncio.run(asyncio.wait_for(scenario, 60))


@EACH_ONCE
def test_a_hidden_tab_is_away_and_a_shown_one_here_for_everyone(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        ana, bruno = Reader(api, "Ana"), Reader(api, "Bruno")
        await ana.open()
        await bruno.open()
        await ana.until(lambda: members(ana) == ["Ana", "Bruno"])
        await bruno.say("presence", state="away")
        await ana.until(lambda: told(ana, "Bruno", "away"))
        change = presences(ana)[-1]
        assert (change["complete"], change["here"], change["away"]) == (False, 1, 1)
        assert change["presence"] == {"Bruno": "away"}
        await ana.say("presence")
        await ana.until(lambda: any(f["complete"] for f in presences(ana)))
        snapshot = next(f for f in presences(ana) if f["complete"])
        assert snapshot["presence"] == {"Ana": "here", "Bruno": "away"}
        await bruno.say("presence", state="here")
        await ana.until(lambda: told(ana, "Bruno", "here"))
        assert presences(ana)[-1]["away"] == 0
        assert members(ana) == ["Ana", "Bruno"]  # the members frame means what it did
        await ana.close()
        await bruno.close()

    with serve(SMALL_ROOM) as api:
        run(scenario(api))


def test_a_dropped_connection_is_away_until_it_resumes(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        ana, bruno = Reader(api, "Ana"), Reader(api, "Bruno")
        await ana.open()
        await bruno.open()
        await ana.until(lambda: members(ana) == ["Ana", "Bruno"])
        await bruno.close()
        await ana.until(lambda: told(ana, "Bruno", "away"))
        assert members(ana) == ["Ana", "Bruno"]  # the away stay listed
        await bruno.resume()
        await ana.until(lambda: presences(ana)[-1]["presence"] == {"Bruno": "here"})
        system = [f["systemMessage"] for f in ana.room.values() if "systemMessage" in f]
        assert not any("left" in line for line in system)  # nobody saw Bruno leave
        await ana.close()
        await bruno.close()

    with serve(SMALL_ROOM) as api:
        run(scenario(api))


@EACH_ONCE
def test_a_big_room_is_told_how_many_are_here_not_who(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        ana, bruno = Reader(api, "Ana"), Reader(api, "Bruno")
        await ana.open()
        await bruno.open()
        await bruno.say("presence", state="away")
        await ana.until(lambda: any(f["away"] == 1 for f in presences(ana)))
        counts = next(f for f in presences(ana) if f["away"] == 1)
        assert (counts["presence"], counts["here"]) == ({}, 1)
        await ana.say("presence")  # who, for whoever asks
        await ana.until(lambda: any(f["complete"] for f in presences(ana)))
        snapshot = next(f for f in presences(ana) if f["complete"])
        assert snapshot["presence"] == {"Ana": "here", "Bruno": "away"}
        await ana.close()
        await bruno.close()

    with serve(BIG_ROOM) as api:
        run(scenario(api))


@EACH_ONCE
def test_a_wrong_presence_is_refused_to_its_sender(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        ana = Reader(api, "Ana")
        await ana.open()
        await ana.say("presence", state="asleep")
        await ana.until(lambda: bool(ana.errors))
        refusal = next(f for f in ana.wire if "code" in f)
        assert refusal["code"] == "invalid_field"
        assert refusal["error"] == 'The "state" field of presence must be either "here" or "away".'
        await ana.close()

    with serve() as api:
        run(scenario(api))


# The rules, in the chat core


class Room(ChatRoom):
    def presences(self, cid: str) -> list[dict[str, object]]:
        return [f for f in self.delivery.take(cid) if f.get("type") == "presence"]


def test_the_same_presence_twice_is_told_once(tmp_path: Path) -> None:
    room = Room(tmp_path, Rules(rate=RateRules(burst=1000, per_minute=1000)))
    ana, bruno = room.join("Ana"), room.join("Bruno")
    room.delivery.everyone()
    room.say(bruno, "presence", state="away")
    room.say(bruno, "presence", state="away")
    assert [f["presence"] for f in room.presences(ana)] == [{"Bruno": "away"}]
    room.say(bruno, "presence", state="here")
    room.say(bruno, "presence", state="here")
    assert [f["presence"] for f in room.presences(ana)] == [{"Bruno": "here"}]


def test_presence_is_paced_like_what_people_say(tmp_path: Path) -> None:
    rules = Rules(rate=RateRules(burst=3, per_minute=100), joins=JoinRules(window_ms=0))
    room = Room(tmp_path, rules)
    ana = room.join("Ana")  # the first of three
    room.say(ana, "presence", state="away")
    room.say(ana, "presence", state="here")
    room.delivery.everyone()
    room.say(ana, "presence", state="away")
    assert [f["code"] for f in room.delivery.take(ana)] == ["rate_limited"]


def test_presence_before_joining_is_refused(tmp_path: Path) -> None:
    room = Room(tmp_path, Rules())
    room.chat.connect("X=")
    room.say("X=", "presence", state="away")
    assert [f["code"] for f in room.delivery.take("X=")] == ["not_joined"]


COURSE_KEYS = ("members", "systemMessage", "publicMessage", "privateMessage")


@EACH_ONCE
def test_a_course_client_sees_nothing_new_under_its_four_keys(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url) as course:
            await course.send(json.dumps({"action": "setName", "name": "Carla"}))
            ana, bruno = Reader(api, "Ana"), Reader(api, "Bruno")
            await ana.open()
            await bruno.open()
            await bruno.say("presence", state="away")
            await bruno.say("typing")
            await bruno.say("sendPublic", message="done")
            heard: list[Frame] = []
            while not any(f.get("publicMessage") == "Bruno: done" for f in heard):
                heard.append(json.loads(await course.recv()))
            while not any(f.get("type") == "presence" for f in heard):
                heard.append(json.loads(await course.recv()))
            for frame in heard:
                if frame.get("type") in ("presence", "typing"):
                    assert not set(COURSE_KEYS) & set(frame), frame
            lists = [f for f in heard if "members" in f]
            newest = max(reversed(lists), key=lambda f: f.get("asOf", -1))
            # The away stay listed (in the order their joins reached the store).
            assert sorted(newest["members"]) == ["Ana", "Bruno", "Carla"]
            await ana.close()
            await bruno.close()

    with serve(SMALL_ROOM) as api:
        run(scenario(api))
