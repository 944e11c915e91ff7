"""Rooms: a connection joins the room its `$connect` names (`?room=`), and
nothing crosses rooms: not messages, members, names, history, sessions, the
bot's memory or its budget. On both stores, and through `papo serve` over
real WebSockets in threads and in worker processes."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from papo.aws.handler import ROUTE_KEYS
from papo.core.chat import Chat
from papo.core.ports import Envelope, LoggedMessage, Session, Store
from papo.core.rooms import ROOM_DEFAULT
from papo.core.rules import JoinRules, RateRules, Rules
from papo.local.config import PAPO_HANDLER
from papo.local.server import Emulator
from tests.bot_room import bot_room, people
from tests.emulation import emulator
from tests.fake_openai import FakeOpenAi, Reply
from tests.recording import RecordingDelivery
from tests.served import EACH_ONCE, UNPACED, Reader, Serve, environment, public, room_url, serve

__all__ = ["environment", "serve"]  # fixtures

T0 = time.time_ns() // 1_000_000
HOUR = 3_600_000


# Both stores


def frame(offset: int) -> bytes:
    return f'{{"offset":{offset}}}'.encode()


def test_each_room_has_its_own_members_and_names(store: Store) -> None:
    team, main = store.in_room("team"), store.in_room(ROOM_DEFAULT)
    team.add("t1", T0)
    main.add("m1", T0)
    assert team.claim_name("t1", "Ana", T0).status.name == "CLAIMED"
    assert main.claim_name("m1", "Ana", T0).status.name == "CLAIMED"  # a name per room
    assert [m.connection_id for m in team.members()] == ["t1"]
    assert [m.connection_id for m in main.members()] == ["m1"]
    assert team.find("Ana") is not None
    assert team.find("Ana").connection_id == "t1"  # type: ignore[union-attr]
    assert (store.room_of("t1"), store.room_of("m1"), store.room_of("nobody")) == (
        "team",
        "main",
        None,
    )
    assert main.get("t1") is None  # another room's connection is not this room's
    assert main.remove("t1") is None
    assert team.get("t1") is not None


def test_each_room_has_its_own_stream_history_and_bot_memory(store: Store) -> None:
    team, main = store.in_room("team"), store.in_room(ROOM_DEFAULT)
    said = LoggedMessage("m1", T0, "Ana", "in team", False)
    assert team.append_next(frame, T0 + HOUR, said)[0] == 1
    assert team.append_next(frame, T0 + HOUR)[0] == 2
    assert main.append_next(frame, T0 + HOUR)[0] == 1  # offsets count per room
    assert main.last_offset() == 1
    assert team.last_offset() == 2
    assert main.frames_after(0, 10) == [(1, frame(1))]
    assert [m.text for m in team.recent(10)] == ["in team"]
    assert main.recent(10) == []
    team.raise_mark("bot-memory", 2)
    assert (team.mark("bot-memory"), main.mark("bot-memory")) == (2, 0)


def test_sessions_and_counters_stay_in_their_room(store: Store) -> None:
    team, main = store.in_room("team"), store.in_room(ROOM_DEFAULT)
    team.save_session(Session("s1", "hash", "Ana", "t1", T0 + HOUR))
    assert team.session("s1") is not None
    assert main.session("s1") is None  # a token of one room resumes nothing in another
    assert team.add_to_counter("budget", 3, limit=3, now=T0, expires_at=T0 + HOUR)
    assert not team.add_to_counter("budget", 1, limit=3, now=T0, expires_at=T0 + HOUR)
    assert main.add_to_counter("budget", 3, limit=3, now=T0, expires_at=T0 + HOUR)


def test_a_containers_members_follow_every_change_made_by_another(
    containers: Callable[[], Store],
) -> None:
    """DynamoDB reuses a container's list while the room's members version is
    unchanged: every change of who is here, made in any container, changes it."""
    mine, other = containers().in_room("team"), containers().in_room("team")
    for connection_id in ("c1", "c2", "c3"):
        other.add(connection_id, T0)
    other.claim_name("c1", "Ana", T0)
    other.claim_name("c2", "Bea", T0 + 1, session="s2")

    def names() -> list[tuple[str, bool]]:
        return [(m.name, m.away) for m in mine.members()]

    assert names() == [("Ana", False), ("Bea", False)]
    other.claim_name("c3", "Cid", T0 + 2)
    assert names() == [("Ana", False), ("Bea", False), ("Cid", False)]
    other.claim_name("c1", "Ada", T0 + 3)
    assert names() == [("Ada", False), ("Bea", False), ("Cid", False)]
    assert other.set_away("c2", T0 + 4)
    assert names() == [("Ada", False), ("Bea", True), ("Cid", False)]
    other.add("c4", T0 + 5)
    other.take_over("c4", "c2", "Bea", "s2", T0 + 5)
    assert [m.connection_id for m in mine.members()] == ["c1", "c4", "c3"]
    other.remove("c3")
    assert names() == [("Ada", False), ("Bea", False)]
    assert containers().in_room(ROOM_DEFAULT).members() == []


# Through papo serve


def test_two_rooms_never_see_each_others_messages_members_or_history(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        ana, bea = Reader(api, "Ana", "team"), Reader(api, "Bea", "Team")
        cid, ana_main = Reader(api, "Cid"), Reader(api, "Ana")  # the course's clients
        for reader in (ana, bea, cid, ana_main):
            await reader.open()
        await ana.say("sendPublic", message="for the team")
        await cid.say("sendPublic", message="for main")
        await bea.until(lambda: "Ana: for the team" in public(bea))
        await ana_main.until(lambda: "Cid: for main" in public(ana_main))
        await ana.say("sendPrivate", to="Cid", message="across?")
        await ana.until(lambda: bool(ana.errors))
        assert ana.errors == ["unknown_recipient"]

        late_team, late_main = Reader(api, "Dan", "team"), Reader(api, "Dan")
        await late_team.open()
        await late_main.open()
        await asyncio.sleep(0.3)
        for reader in (ana, bea, late_team):
            assert "Cid: for main" not in public(reader)
        for reader in (cid, ana_main, late_main):
            assert "Ana: for the team" not in public(reader)
        team_members = [f for f in late_team.wire if "members" in f][-1]["members"]
        main_members = [f for f in late_main.wire if "members" in f][-1]["members"]
        assert sorted(team_members) == ["Ana", "Bea", "Dan"]
        assert sorted(main_members) == ["Ana", "Cid", "Dan"]
        history = [f for f in late_team.wire if f.get("type") == "history"]
        assert [m["text"] for m in history[-1]["history"]] == ["for the team"]
        for reader in (ana, bea, cid, ana_main, late_team, late_main):
            await reader.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 90))


def test_a_connection_naming_no_room_is_in_main(tmp_path: Path) -> None:
    """The course's clients name no room: under an emulator of its own (the
    shared ones give each test a room of its own instead of main), they meet
    those who name `main`, and nobody of another room."""

    async def scenario(api: Emulator) -> None:
        course, named = Reader(api, "Cid"), Reader(api, "Ana", ROOM_DEFAULT)
        other = Reader(api, "Bea", "team")
        for reader in (course, named, other):
            await reader.open()
        await course.say("sendPublic", message="for main")
        await named.until(lambda: "Cid: for main" in public(named))
        await other.say("sendPublic", message="for the team")
        await course.say("sendPublic", message="again")
        await named.until(lambda: "Cid: again" in public(named))
        assert "Bea: for the team" not in public(course) + public(named)
        assert "Cid: for main" not in public(other)
        for reader in (course, named, other):
            await reader.close()

    environment = {"PAPO_STORE": "sqlite", "PAPO_SQLITE_PATH": str(tmp_path / "papo.sqlite3")}
    with emulator(
        PAPO_HANDLER, ROUTE_KEYS, environment={**environment, **UNPACED}, tls_port=0
    ) as api:
        asyncio.run(asyncio.wait_for(scenario(api), 30))


@EACH_ONCE
def test_a_resume_token_works_only_in_its_room(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        ana = Reader(api, "Ana", "team")
        await ana.open()
        await ana.close()
        async with connect(room_url(api, None)) as ws:
            resume = {"token": ana.token, "offset": 0, "privateOffset": 0}
            await ws.send(json.dumps({"action": "setName", "name": "Ana", "resume": resume}))
            refusal = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert refusal["code"] == "resume_invalid"

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))


@pytest.mark.parametrize("store_kind", ["sqlite"])  # refused before any store is read
def test_a_room_name_papo_cannot_keep_is_refused_at_the_handshake(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        with pytest.raises(InvalidStatus) as refused:
            await connect(room_url(api, "not%20a%20room"))
        assert refused.value.response.status_code == 400

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 30))


def test_the_bot_remembers_and_spends_per_room(tmp_path: Path, fake: FakeOpenAi) -> None:
    """Each answer reserves 1,000 + 800 tokens and uses 1,600: the team's budget
    of 3,000 has no room for a second, and main's is whole."""
    fake.default = Reply(pieces=["Noted."], usage=(1500, 100))

    async def scenario(api: Emulator) -> None:
        async with (
            people(api, "Ana", room="team") as (ana,),
            people(api, "Cid") as (cid,),
        ):
            await ana.say("sendPublic", message="the team's secret is 42")
            await ana.until(lambda f: f.get("text") == "the team's secret is 42")
            await ana.say("sendBot", message="What is the secret?")
            await ana.answer()
            await ana.say("sendBot", message="Again?")
            refusal = await ana.until(lambda f: "code" in f)
            assert refusal[-1]["code"] == "bot_budget_exhausted"
            await cid.say("sendBot", message="What is the secret?")
            await cid.answer()
            await cid.quiet()

    with bot_room(
        tmp_path, fake, PAPO_BOT_DAILY_TOKENS="3000", PAPO_BOT_MEMORY_TOKENS="1000"
    ) as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))
    team, main = (r.body["messages"][1:] for r in fake.requests)
    assert team == [
        {"role": "user", "content": "Ana: the team's secret is 42"},
        {"role": "user", "content": "Ana: What is the secret?"},
    ]
    assert main == [{"role": "user", "content": "Cid: What is the secret?"}]


# People joining together


def members_frames(reader: Reader) -> list[list[str]]:
    return [f["members"] for f in reader.wire if "members" in f]


def test_people_joining_together_cost_a_members_frame_each_not_one_per_join(
    serve: Serve,
) -> None:
    """30 people join at once: each ends with the whole list, as a course client
    reads it, and a client that keeps count has every announcement once. How
    many times the room was told depends on how fast joins come in, which a
    loaded machine spreads out: the count is the next test's, on both stores."""
    people_count = 30

    async def scenario(api: Emulator) -> None:
        readers = [Reader(api, f"P{n:02d}") for n in range(people_count)]
        await asyncio.gather(*(r.open() for r in readers))
        everyone = sorted(r.name for r in readers)
        for reader in readers:
            try:
                await reader.until(lambda r=reader: sorted(members_frames(r)[-1]) == everyone)  # type: ignore[misc]
            except TimeoutError:
                told = [(f.get("asOf"), len(f["members"])) for f in reader.wire if "members" in f]
                pytest.fail(f"{reader.name}'s lists, as (asOf, people): {told}")
        for reader in readers:
            await reader.fill()
            joined = [f["name"] for f in reader.room.values() if f.get("event") == "joined"]
            assert sorted(joined) == sorted(set(joined))
        for reader in readers:
            await reader.close()

    # A join told later holds its container until its window ends: a short window
    # keeps two containers from queueing 30 joins for long.
    with serve({"PAPO_JOIN_WINDOW_MS": "300", "PAPO_JOIN_WINDOW_FROM": "0"}) as api:
        asyncio.run(asyncio.wait_for(scenario(api), 90))


def test_joins_at_once_tell_the_room_once_a_window(store: Store) -> None:
    """20 joins in one window: the first tells everyone at once, the latest once
    the window ends, the others only their own person; every list ends whole.
    Telling each join at once would take 20 + 19 + … + 1 = 210 members frames."""
    delivery = RecordingDelivery()
    joins = JoinRules(window_ms=5000, from_members=0)
    count = 20
    lists = joins_at_once(store, delivery, joins, count)
    everyone = sorted(f"P{n:02d}" for n in range(count))
    assert all(sorted(told[-1]) == everyone for told in lists.values())
    assert sum(map(len, lists.values())) <= 3 * count
    announced = [f["name"] for sent in delivery.sent.values() for f in sent if "event" in f]
    assert len(announced) <= 3 * count


def joining(
    store: Store,
    delivery: RecordingDelivery,
    joins: JoinRules,
    *,
    clock: Callable[[], int],
    sleep: Callable[[float], None],
) -> Chat:
    """The chat core under these join rules, with no pace for anyone."""
    unlimited = RateRules(burst=100_000, per_minute=100_000)
    rules = Rules(rate=unlimited, joins=joins)
    return Chat(store=store, delivery=delivery, rules=rules, clock=clock, sleep=sleep)


@pytest.mark.parametrize(("from_members", "waits"), [(20, 0), (0, 5)])
def test_a_small_room_hears_every_join_as_it_happens(
    store: Store, from_members: int, waits: int
) -> None:
    """Six joins in one window (the clock stands still): below `from_members`
    none waits, and everyone sees every list and every announcement, as the
    course's clients always did; from it, every join after the first waits."""
    delivery, slept = RecordingDelivery(), list[float]()
    joins = JoinRules(window_ms=5000, from_members=from_members)
    chat = joining(store, delivery, joins, clock=lambda: T0, sleep=slept.append)
    names = [f"P{n}" for n in range(6)]
    for n, name in enumerate(names):
        chat.connect(f"c{n}")
        chat.act("setName", f"c{n}", json.dumps({"action": "setName", "name": name}))
    assert len(slept) == waits
    if waits:
        return
    for n in range(len(names)):
        sent = delivery.sent[f"c{n}"]
        assert [f["members"] for f in sent if "members" in f] == [
            names[: k + 1] for k in range(n, len(names))
        ]
        assert [f["name"] for f in sent if f.get("event") == "joined"] == names[n:]


class OneWindow:
    """A clock that stands still while `count` joins come in, so that they fall
    in one join window however slowly a loaded machine runs them; a join that
    waits for the window's end waits until every join has come, and the clock
    has then moved past the window."""

    def __init__(self, count: int) -> None:
        self.now = T0
        self.count = count
        self.came = 0
        self.changed = threading.Condition()

    def clock(self) -> int:
        return self.now

    def came_in(self) -> None:
        with self.changed:
            self.came += 1
            self.changed.notify_all()

    def sleep(self, seconds: float) -> None:
        with self.changed:
            self.came += 1
            self.changed.notify_all()
            self.changed.wait_for(lambda: self.came >= self.count, timeout=60)
            self.came -= 1
            self.now = max(self.now, T0 + round(seconds * 1000) + 1)


def joins_at_once(
    store: Store, delivery: RecordingDelivery, joins: JoinRules, count: int
) -> dict[str, list[list[str]]]:
    """`count` people join at once, in threads, in one join window; each one's
    members lists."""
    window = OneWindow(count)
    chat = joining(store, delivery, joins, clock=window.clock, sleep=window.sleep)
    for n in range(count):
        chat.connect(f"c{n}")

    def join(n: int) -> None:
        chat.act("setName", f"c{n}", json.dumps({"action": "setName", "name": f"P{n:02d}"}))
        window.came_in()

    with ThreadPoolExecutor(count) as pool:
        list(pool.map(join, range(count)))
    return {
        c: [cast(list[str], f["members"]) for f in sent if "members" in f]
        for c, sent in delivery.sent.items()
    }


class HeldDelivery(RecordingDelivery):
    """Posts as they are sent, but the first post of a members list naming
    `held` waits until released: a telling whose posts take longer than a join
    window, as on a loaded machine or in a big room."""

    def __init__(self, held: str) -> None:
        super().__init__()
        self.held = held
        self.holding = threading.Event()
        self.release = threading.Event()

    def send(self, envelopes: Sequence[Envelope]) -> set[str]:
        if not self.holding.is_set() and any(
            self.held in json.loads(frame).get("members", ())
            for e in envelopes
            for frame in e.frames
        ):
            self.holding.set()
            assert self.release.wait(10)
        return super().send(envelopes)


def test_a_telling_overtaken_by_a_later_one_is_told_again(store: Store) -> None:
    """Ana's join tells the room at once, but her posts are slow; a join window
    later Bea's join tells everyone too, and her posts arrive first. Ana's older
    list would then be everyone's last: once her posts are done, her telling,
    seeing a later one began meanwhile, tells everyone the list as it is now."""
    delivery = HeldDelivery(held="Ana")
    now = [T0]
    joins = JoinRules(window_ms=1000, from_members=0)
    chat = joining(store, delivery, joins, clock=lambda: now[0], sleep=lambda seconds: None)

    def join(connection_id: str, name: str) -> None:
        chat.connect(connection_id)
        chat.act("setName", connection_id, json.dumps({"action": "setName", "name": name}))

    for n, name in enumerate(["Cid", "Dan"]):
        join(f"c{n}", name)
        now[0] += 2000
    with ThreadPoolExecutor(1) as pool:
        ana = pool.submit(join, "ana", "Ana")
        assert delivery.holding.wait(10)
        now[0] += 2000
        join("bea", "Bea")
        delivery.release.set()
        ana.result(10)
    everyone = ["Ana", "Bea", "Cid", "Dan"]
    last = {
        c: [f["members"] for f in sent if "members" in f][-1] for c, sent in delivery.sent.items()
    }
    assert {c: sorted(cast(list[str], m)) for c, m in last.items()} == dict.fromkeys(
        ["c0", "c1", "ana", "bea"], everyone
    )
