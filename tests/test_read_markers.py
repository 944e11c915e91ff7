"""Read markers and unread counts (`read`, `unread`), through papo serve over
real WebSockets (both stores, threads and worker processes), including two
devices of one person and a person's other rooms; their refusals and pace in
the chat core, with a recording delivery."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from papo.adapters.store.sqlite import SqliteStore
from papo.core.chat import Chat
from papo.core.ports import Identity
from papo.core.rules import RateRules, Rules
from tests.chat_room import ChatRoom
from tests.recording import RecordingDelivery
from tests.served import EACH_ONCE, Frame, InRoom, Reader, Serve, has_all, serve

__all__ = ["serve"]  # fixtures


def unread(reader: Reader) -> list[Frame]:
    return [f["unread"] for f in reader.wire if f.get("type") == "unread"]


async def ask(reader: Reader, **rooms: str | None) -> Frame:
    """The answer to an `unread` the reader sends now."""
    known = len(unread(reader))
    await reader.say("unread", rooms=rooms)
    await reader.until(lambda: len(unread(reader)) > known)
    return unread(reader)[-1]


async def read(reader: Reader, offset: int) -> Frame:
    """The reader's marker and count in its room, once it read up to `offset`."""
    known = len(unread(reader))
    await reader.say("read", offset=offset)
    await reader.until(lambda: len(unread(reader)) > known)
    return unread(reader)[-1]


def public_offsets(reader: Reader) -> list[int]:
    """The offsets of the public messages a reader holds, in order (messages
    sent at once take their offsets in any order)."""
    return sorted(o for o, f in reader.room.items() if "text" in f)


@EACH_ONCE
def test_a_person_reads_up_to_a_line_and_the_rest_is_unread(serve: Serve) -> None:
    async def scenario(api: InRoom) -> None:
        ana, bruno = Reader(api, "Ana"), Reader(api, "Bruno")
        await ana.open()
        await bruno.open()
        for text in ("one", "two", "three"):
            await bruno.say("sendPublic", message=text)
        await ana.until(lambda: has_all(ana, 3))
        first, second, third = public_offsets(ana)
        counts = await read(ana, first)
        assert counts == await ask(ana)
        assert counts == {api.room: {"read": first, "newest": ana.last_offset, "count": 2}}
        await read(ana, third)
        counts = await read(ana, second)  # a marker never goes back
        assert counts[api.room]["read"] == third
        assert counts[api.room]["count"] == 0
        await ana.close()
        await bruno.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))


@EACH_ONCE
def test_reading_on_one_device_clears_the_count_on_the_other(serve: Serve) -> None:
    async def scenario(api: InRoom) -> None:
        phone, bruno = Reader(api, "Ana"), Reader(api, "Bruno")
        await phone.open()
        await bruno.open()
        await read(phone, phone.last_offset)
        for text in ("one", "two"):
            await bruno.say("sendPublic", message=text)
        await phone.until(lambda: has_all(phone, 2))
        assert (await ask(phone))[api.room]["count"] == 2
        laptop = Reader(api, "Ana")  # the same person, resuming her session elsewhere
        laptop.token = phone.token
        await laptop.resume()
        await phone.closed()  # a session is held by one connection at a time
        assert (await read(laptop, laptop.last_offset))[api.room]["count"] == 0
        sessions = len([f for f in phone.wire if f.get("type") == "session"])
        await phone.resume()  # the phone comes back to view
        await phone.until(
            lambda: len([f for f in phone.wire if f.get("type") == "session"]) > sessions
        )
        assert (await ask(phone))[api.room] == {
            "read": phone.last_offset,
            "newest": phone.last_offset,
            "count": 0,
        }
        await phone.close()
        await laptop.close()
        await bruno.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))


@EACH_ONCE
def test_a_person_hears_the_unread_counts_of_their_other_rooms(serve: Serve) -> None:
    async def scenario(api: InRoom) -> None:
        ana, ana_in_team = Reader(api, "Ana"), Reader(api, "Ana", "team")
        await ana.open()
        await ana_in_team.open()
        await read(ana_in_team, ana_in_team.last_offset)
        bruno = Reader(api, "Bruno", "team")
        await bruno.open()
        for text in ("one", "two"):
            await bruno.say("sendPublic", message=text)
        await ana_in_team.until(lambda: has_all(ana_in_team, 2))
        team = f"{api.room}-team"
        counts = await ask(ana, **{team: ana_in_team.token, "elsewhere": "x.y"})
        assert counts[team] == {"read": 1, "newest": ana_in_team.last_offset, "count": 2}
        assert set(counts) == {api.room, team}  # no session of hers elsewhere
        for reader in (ana, ana_in_team, bruno):
            await reader.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))


@EACH_ONCE
def test_a_line_that_does_not_exist_is_refused(serve: Serve) -> None:
    async def scenario(api: InRoom) -> None:
        ana = Reader(api, "Ana")
        await ana.open()
        await ana.say("read", offset=ana.last_offset + 5)
        await ana.until(lambda: bool(ana.errors))
        refusal = next(f for f in ana.wire if "code" in f)
        assert (refusal["code"], refusal["action"]) == ("unknown_offset", "read")
        assert refusal["error"] == f"There is no line {ana.last_offset + 5} in this room: " + (
            f"its newest is {ana.last_offset}."
        )
        await ana.say("unread", rooms=["team"])
        await ana.until(lambda: len(ana.errors) == 2)
        assert ana.errors[-1] == "invalid_field"
        await ana.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))


class Room(ChatRoom):
    def join(self, name: str, *, resume: bool = True) -> str:
        cid = super().join(name, resume=resume)
        self.delivery.take(cid)
        return cid

    def codes(self, cid: str, action: str, **fields: Any) -> list[object]:
        """Acts; the codes of what `cid` was sent (None for what is no refusal)."""
        self.say(cid, action, **fields)
        return [f.get("code") for f in self.delivery.take(cid)]


def test_bad_reads_are_refused_to_their_sender(tmp_path: Path) -> None:
    room = Room(tmp_path, Rules())
    ana = room.join("Ana")
    assert room.codes(ana, "read") == ["missing_field"]
    assert room.codes(ana, "read", offset=-1) == ["invalid_field"]
    assert room.codes(ana, "read", offset="1") == ["invalid_field"]
    assert room.codes(ana, "read", offset=2) == ["unknown_offset"]
    assert room.codes(ana, "read", offset=1) == [None]
    assert room.codes(ana, "unread", rooms={"Not a room!": None}) == ["invalid_field"]
    assert room.codes(ana, "unread", rooms={"team": 3}) == ["invalid_field"]
    many = {f"r{n}": None for n in range(21)}
    assert room.codes(ana, "unread", rooms=many) == ["invalid_field"]
    bruno = room.join("Bruno", resume=False)  # a course client: no session
    assert room.codes(bruno, "read", offset=1) == ["no_reader"]
    room.chat.connect("X=")
    assert room.codes("X=", "read", offset=1) == ["not_joined"]


def test_reads_are_paced_like_what_people_say(tmp_path: Path) -> None:
    room = Room(tmp_path, Rules(rate=RateRules(burst=3, per_minute=100)))
    ana = room.join("Ana")  # the first of three
    assert room.codes(ana, "read", offset=1) == [None]
    assert room.codes(ana, "unread") == [None]
    assert room.codes(ana, "read", offset=1) == ["rate_limited"]
    assert room.codes(ana, "unread") == ["rate_limited"]


def test_signed_in_a_persons_marker_is_theirs_on_every_device_and_in_every_room(
    tmp_path: Path,
) -> None:
    delivery = RecordingDelivery()
    chat = Chat(
        store=SqliteStore(tmp_path / "papo.sqlite3"),
        delivery=delivery,
        rules=Rules(rate=RateRules(burst=1000, per_minute=1000)),
    )
    ana = Identity("oidc|ana", access_mode="oidc")

    def act(cid: str, action: str, identity: Identity | None = None, **fields: Any) -> None:
        chat.act(action, cid, json.dumps({"action": action, **fields}), identity)

    chat.connect("PHONE=", identity=ana)
    act("PHONE=", "setName", ana, name="Ana")  # no session: her identity keeps her marker
    chat.connect("B=")
    act("B=", "setName", name="Bruno")
    for text in ("one", "two"):
        act("B=", "sendPublic", message=text)
    chat.connect("LAPTOP=", identity=ana, room="team")
    act("LAPTOP=", "setName", ana, name="Ana")

    def main_as_the_laptop_sees_it() -> object:
        delivery.take("LAPTOP=")
        act("LAPTOP=", "unread", ana, rooms={"main": None})
        (frame,) = delivery.take("LAPTOP=")
        return frame["unread"]["main"]  # type: ignore[index]

    act("PHONE=", "read", ana, offset=3)  # Bruno's join and "one"
    assert main_as_the_laptop_sees_it() == {"read": 3, "newest": 4, "count": 1}
    act("PHONE=", "read", ana, offset=4)
    assert main_as_the_laptop_sees_it() == {"read": 4, "newest": 4, "count": 0}
