"""Offsets, resuming and what was missed, in the chat core: a real SQLite store,
a recording delivery, and a clock the test moves."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from papo.adapters.store.sqlite import SqliteStore
from papo.core.chat import Chat
from papo.core.ports import Envelope, Store
from papo.core.rules import RateRules, ResumeRules, Rules
from tests.recording import RecordingDelivery

T0 = 1_795_737_600_000
GRACE = ResumeRules().grace_ms

UNLIMITED = RateRules(burst=100_000, per_minute=100_000)


class Room:
    def __init__(self, tmp_path: Path) -> None:
        self.now = T0
        self.delivery = RecordingDelivery()
        ids = itertools.count(1)
        self.store = SqliteStore(tmp_path / "papo.sqlite3", clock=lambda: self.now)
        self.chat = Chat(
            store=self.store,
            delivery=self.delivery,
            clock=lambda: self.now,
            new_id=lambda: f"id{next(ids)}",
            rules=Rules(rate=UNLIMITED),
        )
        self.connections = itertools.count(1)

    def connect(self) -> str:
        cid = f"C{next(self.connections)}="
        self.chat.connect(cid)
        return cid

    def say(self, cid: str, action: str, **fields: Any) -> list[dict[str, Any]]:
        """Acts; returns what `cid` was sent for it (still recorded for `everyone`)."""
        before = len(self.delivery.sent.get(cid, []))
        self.chat.act(action, cid, json.dumps({"action": action, **fields}))
        return self.delivery.sent.get(cid, [])[before:]

    def join(self, name: str, *, resume: bool = True) -> tuple[str, dict[str, Any]]:
        """A new connection named `name`: its id and its session frame (if any)."""
        self.now += 1
        cid = self.connect()
        frames = self.say(cid, "setName", name=name, resume=resume)
        session = next((f for f in frames if f.get("type") == "session"), {})
        return cid, session

    def drop(self, cid: str) -> None:
        """The connection ends: its $disconnect."""
        self.delivery.gone.add(cid)
        self.chat.disconnect(cid)


def conversation_of(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every frame sent, the missed ones unpacked."""
    return [item for frame in frames for item in frame.get("missed", [frame])]


def conversation(frames: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """The room's frames by offset, the missed ones unpacked, each once."""
    seen: dict[int, str] = {}
    for frame in frames:
        for item in frame.get("missed", [frame]):
            if "offset" in item and item.get("type") != "session":
                seen[item["offset"]] = item.get("publicMessage") or item["systemMessage"]
    return sorted(seen.items())


@pytest.fixture
def room(tmp_path: Path) -> Room:
    return Room(tmp_path)


def test_offsets_order_the_conversation(room: Room) -> None:
    ana, _ = room.join("Ana")
    bruno, _ = room.join("Bruno")
    room.delivery.everyone()
    room.say(ana, "sendPublic", message="one")
    room.say(bruno, "setName", name="Bia")
    room.say(bruno, "sendBot", message="/reset")
    sent = room.delivery.everyone()
    assert (
        conversation(sent[ana])
        == conversation(sent[bruno])
        == [
            (3, "Ana: one"),
            (4, "Bruno is now Bia"),
            (5, "Bia started a new conversation with the bot"),
        ]
    )


def test_a_joiner_who_asks_gets_a_resume_token_and_a_course_client_none(room: Room) -> None:
    _, session = room.join("Ana")
    assert session["name"] == "Ana"
    assert session["offset"] == 0
    session_id, _, secret = session["resumeToken"].partition(".")
    assert len(secret) >= 40
    stored = room.store.session(session_id)
    assert stored is not None
    assert secret not in json.dumps(stored.__repr__())  # only its hash is kept
    _, none = room.join("Bruno", resume=False)
    assert none == {}


def test_resuming_within_the_grace_period_is_invisible_to_the_room(room: Room) -> None:
    ana, session = room.join("Ana")
    carla, _ = room.join("Carla")
    room.delivery.everyone()
    room.drop(ana)
    heard = room.delivery.everyone()  # nobody hears Ana leave: only that she is away
    assert [f["presence"] for f in heard.pop(carla)] == [{"Ana": "away"}]
    assert heard == {}
    room.say(carla, "sendPublic", message="still there?")
    room.say(carla, "sendPrivate", to="Ana", message="psst")
    room.now += GRACE - 1_000
    back = room.connect()
    frames = room.say(
        back,
        "setName",
        name="Ana",
        resume={"token": session["resumeToken"], "offset": 2, "privateOffset": 0},
    )
    assert [f["type"] for f in frames] == ["session", "members", "missed", "presence"]
    assert frames[1]["members"] == ["Ana", "Carla"]
    missed = frames[2]
    assert missed["complete"] is True
    assert [m.get("publicMessage") or m.get("privateMessage") for m in missed["missed"]] == [
        "Carla: still there?",
        "Carla: psst",
    ]
    assert missed["missed"][1]["privateOffset"] == 1
    others = room.delivery.everyone()
    assert not any(f.get("event") in ("left", "joined") for f in others.get(carla, []))
    assert others[carla][-1]["presence"] == {"Ana": "here"}
    room.say(carla, "sendPublic", message="welcome back")
    assert room.delivery.take(back)[-1]["publicMessage"] == "Carla: welcome back"


def test_a_resume_closes_the_connection_still_holding_the_name(room: Room) -> None:
    ana, session = room.join("Ana")
    back = room.connect()
    frames = room.say(back, "setName", name="Ana", resume={"token": session["resumeToken"]})
    assert frames[0]["type"] == "session"
    assert room.delivery.closed == [ana]
    assert [m.connection_id for m in room.store.members()] == [back]
    room.delivery.everyone()
    room.chat.disconnect(ana)  # its $disconnect, after the close
    assert room.delivery.everyone() == {}
    assert [m.connection_id for m in room.store.members()] == [back]


def test_past_the_grace_period_the_room_hears_who_left(room: Room) -> None:
    ana, session = room.join("Ana")
    carla, _ = room.join("Carla")
    room.drop(ana)
    room.delivery.everyone()
    room.now += GRACE + 1
    room.say(carla, "sendPublic", message="hello?")
    heard = room.delivery.take(carla)
    assert [
        f.get("systemMessage") or f.get("publicMessage") or f.get("members") for f in heard
    ] == [
        ["Carla"],
        "Ana left the chat",
        "Carla: hello?",
    ]
    back = room.connect()
    room.say(back, "setName", name="Ana", resume={"token": session["resumeToken"], "offset": 2})
    assert room.delivery.take(carla)[-1]["systemMessage"] == "Ana joined the chat"


@pytest.mark.parametrize("case", ["wrong secret", "other name", "unknown session", "expired"])
def test_a_bad_resume_token_is_refused(room: Room, case: str) -> None:
    _, session = room.join("Ana")
    token = session["resumeToken"]
    name = "Ana"
    if case == "wrong secret":
        token = token[:-4] + "AAAA"
    elif case == "other name":
        room.join("Bruno")
        name = "Bruno"
    elif case == "unknown session":
        token = "0" * 32 + token[32:]
    else:
        room.now += ResumeRules().token_ttl_ms + 1
    room.delivery.everyone()
    other = room.connect()
    frames = room.say(other, "setName", name=name, resume={"token": token})
    assert [f["code"] for f in frames] == ["resume_invalid"]
    assert frames[0]["systemMessage"] == frames[0]["error"]
    assert room.delivery.closed == []
    if case != "expired":
        assert room.store.find(name) is not None
        assert room.store.find(name).connection_id != other  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("resume", "said"),
    [
        ("yes", 'The "resume" field of setName must be true, or an object with the "token"'),
        (1, 'The "resume" field of setName must be true, or an object with the "token"'),
        ({"token": 5}, 'The "resume.token" field of setName must be text.'),
        ({"token": "x", "offset": -1}, 'The "offset" field of setName must be a whole'),
        ({"token": "x", "offset": "3"}, 'The "offset" field of setName must be a whole'),
        ({"token": "x", "offset": 2**63}, 'The "offset" field of setName must be a whole'),
        ({"token": "x", "privateOffset": 2**53}, 'The "privateOffset" field of setName must'),
    ],
)
def test_a_malformed_resume_is_refused(room: Room, resume: object, said: str) -> None:
    cid = room.connect()
    frames = room.say(cid, "setName", name="Ana", resume=resume)
    assert [f["code"] for f in frames] == ["invalid_field"]
    assert frames[0]["error"].startswith(said)


def test_sync_sends_what_was_missed_in_posts_that_fit(room: Room) -> None:
    ana, _ = room.join("Ana")
    for i in range(40):
        room.say(ana, "sendPublic", message=f"{i:02d} " + "x" * 3_900)
    room.delivery.everyone()
    frames = room.say(ana, "sync", offset=1)
    sizes = [len(json.dumps(f, separators=(",", ":"))) for f in frames]
    assert all(size <= 128 * 1024 for size in sizes)
    assert len(frames) == 3  # 40 frames of some 7.9 KB each: 16 a post
    assert [f["complete"] for f in frames] == [False, False, True]
    texts = [m["text"][:2] for f in frames for m in f["missed"]]
    assert texts == [f"{i:02d}" for i in range(40)]
    assert room.say(ana, "sync", offset=41) == [
        {"missed": [], "type": "missed", "complete": True, "ts": room.now}
    ]


def test_a_renamed_persons_token_resumes_the_new_name(room: Room) -> None:
    ana, session = room.join("Ana")
    room.say(ana, "setName", name="Bia")
    room.drop(ana)
    back = room.connect()
    frames = room.say(back, "setName", name="Bia", resume={"token": session["resumeToken"]})
    assert frames[0]["type"] == "session"
    assert [m.name for m in room.store.members()] == ["Bia"]


def test_each_reader_hears_the_room_in_its_language(room: Room) -> None:
    ana = room.connect()
    room.chat.connect(ana, language="pt-BR")
    room.say(ana, "setName", name="Ana")
    bruno = room.connect()
    room.delivery.everyone()
    room.say(bruno, "setName", name="Bruno")
    sent = room.delivery.everyone()
    (for_ana,) = [f for f in sent[ana] if f.get("event") == "joined"]
    (for_bruno,) = [f for f in sent[bruno] if f.get("event") == "joined"]
    assert for_ana["systemMessage"] == "Bruno acabou de entrar."
    assert for_bruno["systemMessage"] == "Bruno joined the chat"
    assert for_ana["offset"] == for_bruno["offset"]
    assert for_ana["id"] == for_bruno["id"]
    offset = for_ana["offset"]
    assert isinstance(offset, int)
    (kept,) = [f for _, f in room.store.frames_after(offset - 1, 1)]
    assert json.loads(kept)["systemMessage"] == "Bruno joined the chat"  # the server's own
    refused = room.say(ana, "setName", name="bruno")
    assert refused[0]["error"] == "O nome bruno já está em uso. Escolha outro."


def test_set_name_changes_ones_language(room: Room) -> None:
    ana, _ = room.join("Ana")
    room.say(ana, "setName", name="Ana", language="pt-BR")
    room.delivery.everyone()
    room.join("Bruno")
    assert room.delivery.take(ana)[-1]["systemMessage"] == "Bruno acabou de entrar."
    refused = room.say(ana, "setName", name="Ana", language="fr")[0]
    assert refused["code"] == "invalid_field"
    assert refused["error"] == 'O campo "language" de setName deve ser um destes: en, pt-BR.'
    assert room.say(ana, "sendPublic")[0]["error"] == 'sendPublic precisa do campo "message".'


def test_a_connection_found_gone_again_while_away_is_still_only_away(room: Room) -> None:
    """A post that started before the drop was handled finds the connection gone
    too: its person is away all the same, and nobody is told they left."""
    ana, _ = room.join("Ana")
    room.join("Bruno")
    room.drop(ana)
    room.delivery.everyone()
    room.chat.send([Envelope(ana, (b"{}",))])  # another invocation's post finds it gone
    assert room.delivery.everyone() == {}
    assert [m.away for m in room.store.members()] == [True, False]


def test_every_members_list_lists_who_is_away_within_the_grace_period(store: Store) -> None:
    """One rule for who is listed: a departure's list and the next join's
    agree about someone away (both stores)."""
    delivery = RecordingDelivery()
    chat = Chat(store=store, delivery=delivery, rules=Rules(rate=UNLIMITED))
    for cid, name, resume in (("A=", "Ana", True), ("B=", "Bruno", False), ("C=", "Carla", False)):
        chat.connect(cid)
        chat.act("setName", cid, json.dumps({"name": name, "resume": resume}))
    for cid in ("A=", "B="):  # Ana goes away (she may resume); Bruno leaves
        delivery.gone.add(cid)
        chat.disconnect(cid)
    lists = [f["members"] for f in delivery.take("C=") if "members" in f]
    assert lists[-1] == ["Ana", "Carla"]
    chat.connect("D=")
    chat.act("setName", "D=", json.dumps({"name": "Davi"}))
    lists = [f["members"] for f in delivery.take("C=") if "members" in f]
    assert lists == [["Ana", "Carla", "Davi"]]


def test_a_name_held_by_a_connection_long_gone_is_taken_back(store: Store) -> None:
    """A connection whose `$disconnect` never came holds its name until a claim
    finds it gone (the Management API answers 410): then it leaves, and the
    claim succeeds. Someone away within the grace period keeps theirs."""
    delivery = RecordingDelivery()
    chat = Chat(store=store, delivery=delivery, rules=Rules(rate=UNLIMITED))
    for cid, name, resume in (("A=", "Ana", False), ("B=", "Bruno", True), ("C=", "Carla", False)):
        chat.connect(cid)
        chat.act("setName", cid, json.dumps({"name": name, "resume": resume}))
    delivery.gone |= {"A=", "B="}  # both end without a $disconnect
    delivery.everyone()
    chat.connect("A2=")
    chat.act("setName", "A2=", json.dumps({"name": "Ana"}))
    assert [f.get("systemMessage") for f in delivery.take("C=") if "systemMessage" in f] == [
        "Ana left the chat",
        "Ana joined the chat",
    ]
    chat.connect("B2=")
    chat.act("setName", "B2=", json.dumps({"name": "Bruno"}))
    assert delivery.take("B2=")[-1]["code"] == "name_taken"
    assert sorted(m.name for m in store.members()) == ["Ana", "Bruno", "Carla"]


def test_a_private_line_kept_while_its_reader_resumes_reaches_them(
    room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two invocations at once, as on AWS: Bruno resumes on a new connection
    after Ana's sendPrivate looked for him (away) and before it kept his line.
    His resume read what he missed before the line was there, so the line must
    reach his new connection live."""
    ana, _ = room.join("Ana")
    bruno, session = room.join("Bruno")
    room.drop(bruno)
    back = room.connect()
    append_private = room.store.append_private
    resumed: list[str] = []

    def resume_first(*args: Any, **kwargs: Any) -> None:
        if not resumed:  # before Bruno's line is kept (Ana's own copy comes after)
            resumed.append(back)
            room.say(back, "setName", name="Bruno", resume={"token": session["resumeToken"]})
        append_private(*args, **kwargs)

    monkeypatch.setattr(room.store, "append_private", resume_first)
    room.say(ana, "sendPrivate", to="Bruno", message="psst")
    assert resumed == [back]
    heard = [f.get("privateMessage") for f in conversation_of(room.delivery.sent.get(back, []))]
    assert [text for text in heard if text] == ["Ana: psst"]
