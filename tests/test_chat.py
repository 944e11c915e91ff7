"""The chat core's rules, with a real SQLite store and a recording delivery."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest

from papo.adapters.store.sqlite import SqliteStore
from papo.core.chat import ACTIONS, Chat
from papo.core.rules import RateRules, Rules
from papo.core.texts import Texts
from tests.recording import RecordingDelivery

NOW = time.time_ns() // 1_000_000

UNLIMITED = RateRules(burst=100_000, per_minute=100_000)


class Room:
    """A chat over a fresh store, with helpers to act as its connections."""

    def __init__(self, tmp_path: Path, language: str = "en") -> None:
        self.delivery = RecordingDelivery()
        ids = itertools.count(1)
        self.store = SqliteStore(tmp_path / "papo.sqlite3")
        self.chat = Chat(
            store=self.store,
            delivery=self.delivery,
            texts=Texts(language),
            clock=lambda: NOW,
            new_id=lambda: f"m{next(ids)}",
            rules=Rules(rate=UNLIMITED),
        )

    def join(self, connection_id: str, name: str | None = None) -> None:
        self.chat.connect(connection_id)
        if name is not None:
            self.chat.act("setName", connection_id, json.dumps({"action": "setName", "name": name}))
        self.delivery.everyone()

    def say(self, connection_id: str, action: str, **fields: object) -> None:
        body = json.dumps({"action": action, **fields})
        self.chat.act(action if action in ACTIONS else None, connection_id, body)


@pytest.fixture
def room(tmp_path: Path) -> Room:
    return Room(tmp_path)


def error_of(frames: list[dict[str, object]]) -> tuple[object, object]:
    assert len(frames) == 1, frames
    frame = frames[0]
    assert frame["type"] == "error"
    assert isinstance(frame["error"], str)
    assert len(frame["error"]) > 10
    # The course's clients show it as a system message; nothing else they know.
    assert frame["systemMessage"] == frame["error"]
    assert not {"members", "publicMessage", "privateMessage"} & frame.keys()
    return frame["code"], frame.get("action")


def refusal_to_a_only(room: Room) -> tuple[object, object]:
    """The (code, action) of the one error frame sent, to A= and to nobody else."""
    sent = room.delivery.everyone()
    assert set(sent) == {"A="}
    return error_of(sent["A="])


def test_joining_tells_everyone_named(room: Room) -> None:
    room.join("A=", "Ana")
    room.join("X=")  # connected, no name yet
    room.chat.connect("B=")
    room.say("B=", "setName", name="Bruno")
    sent = room.delivery.everyone()
    assert set(sent) == {"A=", "B="}
    for frames in sent.values():
        assert frames == [
            {"members": ["Ana", "Bruno"], "type": "members", "ts": NOW, "asOf": 2},
            {
                "systemMessage": "Bruno joined the chat",
                "type": "system",
                "event": "joined",
                "name": "Bruno",
                "id": "m2",
                "ts": NOW,
                "offset": 2,
            },
        ]


def test_name_is_trimmed(room: Room) -> None:
    room.join("A=", "  Ana  ")
    assert [m.name for m in room.store.members()] == ["Ana"]


def test_rename_is_announced(room: Room) -> None:
    room.join("A=", "Ana")
    room.join("B=", "Bruno")
    room.say("A=", "setName", name="Bia")
    for cid in ("A=", "B="):
        members, announcement = room.delivery.take(cid)
        assert members["members"] == ["Bia", "Bruno"]
        assert announcement["systemMessage"] == "Ana is now Bia"
        assert announcement["event"] == "renamed"
        assert announcement["previousName"] == "Ana"


def test_setting_the_same_name_again_only_answers_the_sender(room: Room) -> None:
    room.join("A=", "Ana")
    room.join("B=", "Bruno")
    room.say("A=", "setName", name="Ana")
    assert room.delivery.everyone() == {
        "A=": [{"members": ["Ana", "Bruno"], "type": "members", "ts": NOW}]
    }


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "name_empty"),
        ("   ", "name_empty"),
        ("x" * 33, "name_too_long"),
        ("Ana\nBia", "name_invalid_characters"),
        ("Ana\u200b", "name_invalid_characters"),
        ("A\x00", "name_invalid_characters"),
        ("bot", "name_reserved"),
        ("SYSTEM", "name_reserved"),
        ("bruno", "name_taken"),
        ("BRUNO", "name_taken"),
        ("Bot: the answer is", "name_has_colon"),
        ("Bruno: yes", "name_has_colon"),
        ("Ana:", "name_has_colon"),
        ("Bot\uff1a yes", "name_has_colon"),
        ("Bot\u2236 yes", "name_has_colon"),
        ("Bot\ufe55 yes", "name_has_colon"),
    ],
)
def test_bad_names_are_refused_to_the_sender_only(room: Room, name: str, code: str) -> None:
    room.join("B=", "Bruno")
    room.join("A=")
    room.say("A=", "setName", name=name)
    assert refusal_to_a_only(room) == (code, "setName")
    assert [m.name for m in room.store.members()] == ["Bruno"]


MESSAGES_THAT_SHOW_AS_NOTHING = [
    "\u200b",  # ZERO WIDTH SPACE
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2060",  # WORD JOINER
    "\ufeff",  # BYTE ORDER MARK
    "\u2800",  # BRAILLE PATTERN BLANK
    "\u3164",  # HANGUL FILLER
    "\u0301",  # an accent on nothing
    "\u200b \u3164\n\u2800\ufe0f",
]


@pytest.mark.parametrize("action", ["sendPublic", "sendPrivate", "sendBot"])
@pytest.mark.parametrize("text", MESSAGES_THAT_SHOW_AS_NOTHING)
def test_messages_that_show_as_nothing_are_refused(room: Room, action: str, text: str) -> None:
    room.join("A=", "Ana")
    room.join("B=", "Bruno")
    room.say("A=", action, to="Bruno", message=text)
    assert refusal_to_a_only(room) == ("message_empty", action)


@pytest.mark.parametrize("action", ["sendPublic", "sendPrivate", "sendBot"])
@pytest.mark.parametrize("text", ["\x00", "hi\x00there", "\x1b[31mred", "\x7f", "\x85"])
def test_control_characters_in_a_message_are_refused(room: Room, action: str, text: str) -> None:
    room.join("A=", "Ana")
    room.join("B=", "Bruno")
    room.say("A=", action, to="Bruno", message=text)
    assert refusal_to_a_only(room) == ("message_invalid_characters", action)


def test_tabs_line_breaks_and_marks_on_letters_are_fine(room: Room) -> None:
    room.join("A=", "Ana")
    room.delivery.everyone()
    room.say("A=", "sendPublic", message="e\u0301\tok\r\n\u2764\ufe0f")
    assert room.delivery.take("A=")[0]["text"] == "e\u0301\tok\r\n\u2764\ufe0f"


def test_a_name_of_32_characters_is_fine(room: Room) -> None:
    room.join("A=", "é" * 32)
    assert [m.name for m in room.store.members()] == ["é" * 32]


@pytest.mark.parametrize(
    ("fields", "code"),
    [({}, "missing_field"), ({"name": 7}, "invalid_field"), ({"name": None}, "invalid_field")],
)
def test_set_name_fields(room: Room, fields: dict[str, object], code: str) -> None:
    room.join("A=")
    room.say("A=", "setName", **fields)
    assert error_of(room.delivery.take("A=")) == (code, "setName")


def test_public_message_reaches_every_named_connection(room: Room) -> None:
    room.join("A=", "Ana")
    room.join("B=", "Bruno")
    room.join("X=")
    room.say("A=", "sendPublic", message="hi all")
    sent = room.delivery.everyone()
    assert set(sent) == {"A=", "B="}
    expected = {
        "publicMessage": "Ana: hi all",
        "type": "public",
        "from": "Ana",
        "text": "hi all",
        "id": "m3",
        "ts": NOW,
        "offset": 3,
    }
    assert sent["A="] == sent["B="] == [expected]


@pytest.mark.parametrize(
    ("action", "fields", "code"),
    [
        ("sendPublic", {"message": "hi"}, "not_joined"),
        ("sendPrivate", {"to": "Bruno", "message": "hi"}, "not_joined"),
        ("sendBot", {"message": "hi"}, "not_joined"),
    ],
)
def test_sending_before_set_name_is_refused(
    room: Room, action: str, fields: dict[str, object], code: str
) -> None:
    room.join("B=", "Bruno")
    room.join("A=")
    room.say("A=", action, **fields)
    assert refusal_to_a_only(room) == (code, action)


@pytest.mark.parametrize(
    ("action", "fields", "code"),
    [
        ("sendPublic", {"message": ""}, "message_empty"),
        ("sendPublic", {"message": " \n\t"}, "message_empty"),
        ("sendPublic", {"message": "x" * 4001}, "message_too_long"),
        ("sendPublic", {}, "missing_field"),
        ("sendPublic", {"message": ["hi"]}, "invalid_field"),
        ("sendPrivate", {"to": "Bruno", "message": ""}, "message_empty"),
        ("sendPrivate", {"to": "Bruno", "message": "x" * 4001}, "message_too_long"),
        ("sendPrivate", {"to": "Carla", "message": "hi"}, "unknown_recipient"),
        ("sendPrivate", {"message": "hi"}, "missing_field"),
        ("sendPrivate", {"to": 3, "message": "hi"}, "invalid_field"),
        ("sendBot", {}, "missing_field"),
        ("sendBot", {"message": "hello bot"}, "bot_not_configured"),
    ],
)
def test_bad_messages_are_refused_to_the_sender_only(
    room: Room, action: str, fields: dict[str, object], code: str
) -> None:
    room.join("A=", "Ana")
    room.join("B=", "Bruno")
    room.say("A=", action, **fields)
    assert refusal_to_a_only(room) == (code, action)


def test_a_message_of_the_maximum_length_is_fine(room: Room) -> None:
    room.join("A=", "Ana")
    room.say("A=", "sendPublic", message="x" * 4000)
    assert room.delivery.take("A=")[0]["text"] == "x" * 4000


def test_private_message_reaches_the_recipient_and_a_copy_the_sender(room: Room) -> None:
    room.join("A=", "Ana")
    room.join("B=", "Bruno")
    room.join("C=", "Carla")
    room.say("A=", "sendPrivate", to="bruno", message="psst")
    sent = room.delivery.everyone()
    assert set(sent) == {"A=", "B="}
    expected = {
        "privateMessage": "Ana: psst",
        "type": "private",
        "from": "Ana",
        "to": "Bruno",
        "text": "psst",
        "id": "m4",
        "ts": NOW,
        "after": 3,
    }
    assert sent["A="] == sent["B="] == [expected]


def test_a_private_message_to_oneself_arrives_once(room: Room) -> None:
    room.join("A=", "Ana")
    room.say("A=", "sendPrivate", to="Ana", message="note to self")
    assert [f["privateMessage"] for f in room.delivery.take("A=")] == ["Ana: note to self"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not json", "invalid_json"),
        ("", "invalid_json"),
        ("[1, 2]", "not_an_object"),
        ('"sendPublic"', "not_an_object"),
        ('{"message": "hi"}', "unknown_action"),
        ('{"action": "sendpublic", "message": "hi"}', "unknown_action"),
        ('{"action": 5}', "unknown_action"),
    ],
)
def test_default_route_tells_the_sender_only(room: Room, body: str, code: str) -> None:
    room.join("A=", "Ana")
    room.join("B=", "Bruno")
    room.chat.act(None, "A=", body)
    assert refusal_to_a_only(room) == (code, None)


def test_unknown_action_lists_the_actions(room: Room) -> None:
    room.join("A=", "Ana")
    room.say("A=", "dance")
    (frame,) = room.delivery.take("A=")
    assert "dance" in str(frame["error"])
    assert "sendPublic" in str(frame["error"])


def test_malformed_frame_on_an_action_route(room: Room) -> None:
    room.join("A=", "Ana")
    room.chat.act("sendPublic", "A=", "{oops")
    assert error_of(room.delivery.take("A=")) == ("invalid_json", "sendPublic")


def test_default_route_serves_a_known_action(room: Room) -> None:
    room.join("A=", "Ana")
    room.chat.act(None, "A=", json.dumps({"action": "sendPublic", "message": "hi"}))
    assert room.delivery.take("A=")[0]["publicMessage"] == "Ana: hi"


def test_leaving_is_announced_to_those_who_stay(room: Room) -> None:
    room.join("A=", "Ana")
    room.join("B=", "Bruno")
    room.chat.disconnect("A=")
    sent = room.delivery.everyone()
    assert set(sent) == {"B="}
    members, left = sent["B="]
    assert members["members"] == ["Bruno"]
    assert left["systemMessage"] == "Ana left the chat"
    assert left["event"] == "left"
    assert room.store.find("Ana") is None


def test_an_unnamed_connection_leaves_quietly(room: Room) -> None:
    room.join("A=", "Ana")
    room.join("X=")
    room.chat.disconnect("X=")
    room.chat.disconnect("X=")
    assert room.delivery.everyone() == {}


def test_a_gone_connection_is_dropped_and_its_departure_told_once(room: Room) -> None:
    room.join("A=", "Ana")
    room.join("B=", "Bruno")
    room.join("C=", "Carla")
    room.delivery.gone.add("C=")
    room.say("A=", "sendPublic", message="one")
    room.say("A=", "sendPublic", message="two")
    for cid in ("A=", "B="):
        texts = [f.get("publicMessage") or f.get("systemMessage") for f in room.delivery.take(cid)]
        assert texts == ["Ana: one", None, "Carla left the chat", "Ana: two"]
    assert [m.name for m in room.store.members()] == ["Ana", "Bruno"]
    room.chat.disconnect("C=")  # the late $disconnect finds nothing to announce
    assert room.delivery.everyone() == {}


def test_gone_connections_found_while_announcing_are_dropped_too(room: Room) -> None:
    room.join("A=", "Ana")
    room.join("B=", "Bruno")
    room.join("C=", "Carla")
    room.delivery.gone.update({"B=", "C="})
    room.say("A=", "sendPublic", message="anyone?")
    frames = room.delivery.take("A=")
    assert [f.get("publicMessage") or f.get("members") or f["systemMessage"] for f in frames] == [
        "Ana: anyone?",
        ["Ana"],
        "Bruno left the chat",
        "Carla left the chat",
    ]
    assert [m.name for m in room.store.members()] == ["Ana"]


def test_brazilian_portuguese(tmp_path: Path) -> None:
    room = Room(tmp_path, "pt-BR")
    room.join("A=", "Ana")
    room.chat.connect("B=")
    room.say("B=", "setName", name="Bruno")
    assert room.delivery.take("A=")[1]["systemMessage"] == "Bruno acabou de entrar."
    room.say("B=", "setName", name="Bia")
    assert room.delivery.take("A=")[1]["systemMessage"] == "Bruno agora se chama Bia."
    room.say("B=", "sendPublic", message="")
    assert room.delivery.take("B=")[-1]["error"] == (
        "A mensagem não pode ficar vazia, nem ter só espaços e caracteres invisíveis."
    )
    room.chat.disconnect("B=")
    assert room.delivery.take("A=")[1]["systemMessage"] == "Bia saiu."


def test_a_newcomer_gets_recent_public_messages_within_one_post(room: Room) -> None:
    """Fifty messages of 4,000 characters would pass the Management API's 128 KB:
    the oldest are left out."""
    room.join("A=", "Ana")
    room.say("A=", "sendPrivate", to="Ana", message="private")
    for number in range(50):
        room.say("A=", "sendPublic", message=f"{number:02} " + "é" * 3997)
    room.delivery.everyone()
    room.chat.connect("B=")
    room.say("B=", "setName", name="Bruno")
    history, members, joined = room.delivery.take("B=")
    assert (members["type"], joined["event"]) == ("members", "joined")
    kept: list[dict[str, str]] = history["history"]  # type: ignore[assignment]
    texts = [m["text"][:2] for m in kept]
    assert len(json.dumps(history, ensure_ascii=False).encode()) <= 128 * 1024
    assert texts == [f"{n:02}" for n in range(50 - len(texts), 50)]
    assert 10 < len(texts) < 50
