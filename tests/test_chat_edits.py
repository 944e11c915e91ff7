"""Editing, deleting and reacting, on the chat core: a real SQLite store, a
recording delivery, and a clock of the test's own."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest

from papo.adapters.store.sqlite import SqliteStore
from papo.cli import main
from papo.core.chat import ACTIONS, Chat
from papo.core.memory import conversation
from papo.core.ports import LoggedMessage
from papo.core.rules import EditRules, RateRules, Rules
from tests.recording import RecordingDelivery

T0 = time.time_ns() // 1_000_000
MINUTE = 60_000
COURSE_KEYS = {"members", "systemMessage", "publicMessage", "privateMessage"}


class Room:
    def __init__(self, tmp_path: Path, edits: EditRules | None = None) -> None:
        self.now = T0
        self.delivery = RecordingDelivery()
        ids = itertools.count(1)
        self.store = SqliteStore(tmp_path / "papo.sqlite3", clock=lambda: self.now)
        self.chat = Chat(
            store=self.store,
            delivery=self.delivery,
            clock=lambda: self.now,
            new_id=lambda: f"m{next(ids)}",
            rules=Rules(
                rate=RateRules(burst=100_000, per_minute=100_000), edits=edits or EditRules()
            ),
        )

    def join(self, connection_id: str, name: str, *, resume: bool = False) -> None:
        self.chat.connect(connection_id)
        self.say(connection_id, "setName", name=name, resume=resume)
        self.delivery.everyone()

    def say(self, connection_id: str, action: str, **fields: Any) -> None:
        body = json.dumps({"action": action, **fields})
        self.chat.act(action if action in ACTIONS else None, connection_id, body)

    def said(self, connection_id: str, text: str) -> int:
        """Says `text` in public; its offset."""
        self.say(connection_id, "sendPublic", message=text)
        [frame] = self.delivery.take(connection_id)
        self.delivery.everyone()
        offset = frame["offset"]
        assert isinstance(offset, int)
        return offset

    def refused(self, connection_id: str, action: str, **fields: Any) -> Any:
        self.say(connection_id, action, **fields)
        sent = self.delivery.everyone()
        assert set(sent) == {connection_id}, sent
        [frame] = sent[connection_id]
        assert frame["type"] == "error"
        assert frame["systemMessage"] == frame["error"]
        return frame["code"]

    def line(self, offset: int) -> dict[str, Any]:
        [(_, frame)] = self.store.frames_after(offset - 1, 1)
        return dict(json.loads(frame))


@pytest.fixture
def room(tmp_path: Path) -> Room:
    room = Room(tmp_path)
    room.join("A=", "Ana")
    room.join("B=", "Bea")
    return room


def test_an_edit_reaches_everyone_in_a_frame_of_its_own(room: Room) -> None:
    offset = room.said("A=", "helo")
    room.now += MINUTE
    room.say("A=", "edit", offset=offset, message="hello")
    sent = room.delivery.everyone()
    assert set(sent) == {"A=", "B="}
    for frames in sent.values():
        assert frames == [
            {
                "edited": "hello",
                "type": "edited",
                "line": offset,
                "id": "m3",
                "from": "Ana",
                "ts": T0 + MINUTE,
                "offset": offset + 1,
            }
        ]
        # The course's clients see no new line.
        assert not COURSE_KEYS & frames[0].keys()


def test_an_edited_line_is_kept_in_its_latest_version_marked(room: Room) -> None:
    offset = room.said("A=", "helo")
    room.now += MINUTE
    room.say("A=", "edit", offset=offset, message="hello")
    assert room.line(offset) == {
        "publicMessage": "Ana: hello",
        "type": "public",
        "from": "Ana",
        "text": "hello",
        "id": "m3",
        "ts": T0,
        "offset": offset,
        "editedAt": T0 + MINUTE,
    }
    room.join("C=", "Cris")
    room.chat.connect("D=")
    room.say("D=", "setName", name="Duda")
    history: Any = next(f for f in room.delivery.take("D=") if f["type"] == "history")
    assert history["history"][-1] == {
        "type": "public",
        "id": "m3",
        "ts": T0,
        "from": "Ana",
        "text": "hello",
        "offset": offset,
        "editedAt": T0 + MINUTE,
    }
    assert [m.text for m in room.store.earlier_versions(offset)] == ["helo"]


def test_a_message_is_named_by_its_id_too(room: Room) -> None:
    offset = room.said("A=", "helo")
    room.say("A=", "edit", id="m3", message="hello")
    assert room.line(offset)["text"] == "hello"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"offset": 99}, "line_not_found"),
        ({"offset": 0}, "line_not_found"),
        ({"id": "nothing"}, "line_not_found"),
        ({}, "missing_field"),
        ({"offset": "3"}, "invalid_field"),
        ({"offset": 3, "message": ""}, "message_empty"),
        ({"offset": 3, "message": "x" * 4001}, "message_too_long"),
        ({"offset": 3, "message": "a\x00b"}, "message_invalid_characters"),
    ],
)
def test_an_edit_of_nothing_or_of_bad_text_is_refused(
    room: Room, fields: dict[str, Any], code: str
) -> None:
    assert room.said("A=", "hi") == 3
    assert room.refused("A=", "edit", **{"message": "hello", **fields}) == code
    assert room.line(3)["text"] == "hi"


def test_only_ones_own_messages_can_be_edited_or_deleted(room: Room) -> None:
    bea = room.said("B=", "mine")
    for action in ("edit", "delete"):
        assert room.refused("A=", action, offset=bea, message="yours") == "not_your_line"
        assert room.refused("A=", action, offset=1, message="joined") == "not_your_line"
    room.store.append_next(
        lambda at: b'{"publicMessage":"Bot: hi"}',
        T0 + MINUTE,
        LoggedMessage("b1", T0, "Bot", "hi", by_bot=True),
    )
    assert room.refused("A=", "edit", id="b1", message="no") == "not_your_line"
    assert room.line(bea)["text"] == "mine"


def test_someone_who_takes_a_name_later_cannot_edit_what_its_holder_said(room: Room) -> None:
    offset = room.said("A=", "hi")
    room.chat.disconnect("A=")
    room.join("X=", "Ana")
    assert room.refused("X=", "edit", offset=offset, message="not me") == "not_your_line"


def test_a_session_edits_what_it_said_on_an_earlier_connection(tmp_path: Path) -> None:
    room = Room(tmp_path)
    room.chat.connect("A1=")
    room.say("A1=", "setName", name="Ana", resume=True)
    token = next(f for f in room.delivery.take("A1=") if f["type"] == "session")["resumeToken"]
    offset = room.said("A1=", "hi")
    room.chat.connect("A2=")
    room.say("A2=", "setName", name="Ana", resume={"token": token, "offset": offset})
    room.say("A2=", "edit", offset=offset, message="hello")
    assert room.line(offset)["text"] == "hello"


def test_edits_close_after_the_window(tmp_path: Path) -> None:
    room = Room(tmp_path, EditRules(window_ms=5 * MINUTE))
    room.join("A=", "Ana")
    offset = room.said("A=", "hi")
    room.now += 5 * MINUTE
    room.say("A=", "edit", offset=offset, message="in time")
    assert room.line(offset)["text"] == "in time"
    room.delivery.everyone()
    room.now += 1
    assert room.refused("A=", "edit", offset=offset, message="late") == "edit_window_closed"
    # Deleting has no window.
    room.say("A=", "delete", offset=offset)
    assert room.line(offset)["deletedAt"] == room.now


def test_a_window_of_zero_allows_no_edit(tmp_path: Path) -> None:
    room = Room(tmp_path, EditRules(window_ms=0))
    room.join("A=", "Ana")
    offset = room.said("A=", "hi")
    room.now += 1
    assert room.refused("A=", "edit", offset=offset, message="no") == "edit_window_closed"


def test_a_deleted_line_is_a_placeholder_everywhere(room: Room) -> None:
    offset = room.said("A=", "secret")
    room.say("B=", "react", offset=offset, emoji="👍")
    room.delivery.everyone()
    room.now += MINUTE
    room.say("A=", "delete", offset=offset)
    sent = room.delivery.everyone()
    for frames in sent.values():
        assert frames == [
            {
                "deleted": True,
                "type": "deleted",
                "line": offset,
                "id": "m3",
                "from": "Ana",
                "ts": T0 + MINUTE,
                "offset": offset + 2,
            }
        ]
    kept = room.line(offset)
    assert kept["publicMessage"] == "Ana: (message deleted)"
    assert kept["text"] == ""
    assert kept["deletedAt"] == T0 + MINUTE
    assert "reactions" not in kept
    assert "secret" not in json.dumps([f for _, f in room.store.frames_after(0, 100)], default=str)
    [message] = room.store.recent(10)
    assert (message.text, message.deleted) == ("", True)
    assert [m.text for m in room.store.earlier_versions(offset)] == ["secret"]
    for action in ("edit", "delete", "react"):
        fields = {"message": "again", "emoji": "👍"}
        assert room.refused("A=", action, offset=offset, **fields) == "line_not_found"


def test_the_bots_memory_reads_the_latest_version_and_nothing_deleted(room: Room) -> None:
    kept = room.said("A=", "helo")
    gone = room.said("B=", "my password is hunter2")
    room.say("A=", "edit", offset=kept, message="hello")
    room.say("B=", "delete", offset=gone)
    question = LoggedMessage("q", T0, "Ana", "what did we say?")
    turns = conversation("be brief", room.store.recent(40), question, 3000)
    said = [t.content for t in turns]
    assert said == ["be brief", "Ana: hello", "Ana: what did we say?"]


def test_reactions_count_who_reacted(room: Room) -> None:
    offset = room.said("A=", "hi")
    room.say("A=", "react", offset=offset, emoji="👍")
    room.say("B=", "react", offset=offset, emoji="👍")
    room.say("B=", "react", offset=offset, emoji="🎉")
    room.say("B=", "react", offset=offset, emoji="🎉")  # twice is once
    sent = room.delivery.everyone()
    last = sent["A="][-1]
    assert sent["B="][-1] == last
    assert last == {
        "reactions": [{"emoji": "👍", "by": ["Ana", "Bea"]}, {"emoji": "🎉", "by": ["Bea"]}],
        "type": "reactions",
        "line": offset,
        "id": "m3",
        "ts": T0,
        "offset": offset + 4,
    }
    assert not COURSE_KEYS & last.keys()
    room.say("B=", "react", offset=offset, emoji="🎉", add=False)
    room.say("A=", "react", offset=offset, emoji="👍", add=False)
    expected = [{"emoji": "👍", "by": ["Bea"]}]
    assert room.delivery.everyone()["A="][-1]["reactions"] == expected
    assert room.line(offset)["reactions"] == expected
    assert [(r.emoji, r.by) for r in room.store.recent(1)[0].reactions] == [("👍", ("Bea",))]


def test_anyone_reacts_to_any_message_but_not_to_a_system_line(room: Room) -> None:
    room.store.append_next(
        lambda at: b'{"publicMessage":"Bot: hi"}',
        T0 + MINUTE,
        LoggedMessage("b1", T0, "Bot", "hi", by_bot=True),
    )
    room.say("A=", "react", id="b1", emoji="🤖")
    assert room.delivery.everyone()["B="][0]["reactions"] == [{"emoji": "🤖", "by": ["Ana"]}]
    assert room.refused("A=", "react", offset=1, emoji="👍") == "line_not_found"


@pytest.mark.parametrize("emoji", ["a", "👍👍", "🏽", "", ":+1:", "👍 ", "1", "\u200d", "x" * 1000])
def test_a_reaction_is_one_emoji(room: Room, emoji: str) -> None:
    offset = room.said("A=", "hi")
    assert room.refused("B=", "react", offset=offset, emoji=emoji) == "reaction_not_emoji"


@pytest.mark.parametrize("emoji", ["👍🏽", "🇧🇷", "👨‍👩‍👧", "#️⃣", "🫠"])
def test_skin_tones_flags_and_joined_emoji_are_one_emoji(room: Room, emoji: str) -> None:
    offset = room.said("A=", "hi")
    room.say("B=", "react", offset=offset, emoji=emoji)
    assert room.line(offset)["reactions"] == [{"emoji": emoji, "by": ["Bea"]}]


def test_an_emoji_typed_without_its_presentation_is_the_same_reaction(room: Room) -> None:
    offset = room.said("A=", "hi")
    room.say("A=", "react", offset=offset, emoji="❤")
    room.say("B=", "react", offset=offset, emoji="❤️")
    assert room.line(offset)["reactions"] == [{"emoji": "❤️", "by": ["Ana", "Bea"]}]


def test_a_line_holds_a_bounded_number_of_different_reactions(tmp_path: Path) -> None:
    room = Room(tmp_path, EditRules(reactions_per_line=2))
    room.join("A=", "Ana")
    offset = room.said("A=", "hi")
    room.say("A=", "react", offset=offset, emoji="👍")
    room.say("A=", "react", offset=offset, emoji="🎉")
    room.delivery.everyone()
    assert room.refused("A=", "react", offset=offset, emoji="🚀") == "reactions_full"
    room.say("A=", "react", offset=offset, emoji="👍")  # one already there: no new one
    assert [r["emoji"] for r in room.line(offset)["reactions"]] == ["👍", "🎉"]


def test_react_add_must_be_true_or_false(room: Room) -> None:
    offset = room.said("A=", "hi")
    assert room.refused("B=", "react", offset=offset, emoji="👍", add="no") == "invalid_field"


def test_nothing_is_changed_before_joining(room: Room) -> None:
    offset = room.said("A=", "hi")
    room.chat.connect("N=")
    for action in ("edit", "delete", "react"):
        fields = {"message": "x", "emoji": "👍"}
        assert room.refused("N=", action, offset=offset, **fields) == "not_joined"


def test_the_new_actions_are_paced_like_the_others(tmp_path: Path) -> None:
    room = Room(tmp_path)
    room.chat.rules = Rules(rate=RateRules(burst=4, per_minute=100))  # with setName, sendPublic
    room.join("A=", "Ana")
    offset = room.said("A=", "hi")
    room.say("A=", "react", offset=offset, emoji="👍")
    room.say("A=", "edit", offset=offset, message="hello")
    room.delivery.everyone()
    for action in ("react", "edit", "delete"):
        fields = {"message": "x", "emoji": "🎉"}
        assert room.refused("A=", action, offset=offset, **fields) == "rate_limited"
    assert room.line(offset)["text"] == "hello"


def test_the_operator_reads_the_versions_an_edit_and_a_delete_replaced(
    room: Room, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    offset = room.said("A=", "first")
    room.now += MINUTE
    room.say("A=", "edit", offset=offset, message="second")
    room.now += MINUTE
    room.say("A=", "delete", offset=offset)
    monkeypatch.setenv("PAPO_STORE", "sqlite")
    monkeypatch.setenv("PAPO_SQLITE_PATH", room.store.path)
    main(["versions", str(offset)])
    said = capsys.readouterr().out.splitlines()
    assert [line.split("  ", 1)[1] for line in said] == ["Ana: first", "Ana: second", "Ana"]
    assert "edited" in said[1]
    assert said[2].startswith("deleted ")
    with pytest.raises(SystemExit, match="keeps no public message at 1"):
        main(["versions", "1"])


def test_a_change_is_told_as_the_line_is_once_its_frame_has_an_offset(room: Room) -> None:
    """Bea's reaction lands between Ana's and the offset of the frame telling
    of Ana's (two invocations at once): that frame, the later, lists both, so
    a client applying the frames in order ends with the line as it is."""
    offset = room.said("A=", "vote")
    store = room.store
    append_next = store.append_next

    def bea_reacts_first(*args: Any, **kwargs: Any) -> Any:
        store.append_next = append_next  # type: ignore[method-assign]
        room.say("B=", "react", offset=offset, emoji="👍")
        return append_next(*args, **kwargs)

    store.append_next = bea_reacts_first  # type: ignore[method-assign]
    room.say("A=", "react", offset=offset, emoji="👍")
    told = [f for f in room.delivery.take("A=") if f["type"] == "reactions"]
    newest = max(told, key=lambda f: f["offset"])  # type: ignore[arg-type,return-value]
    assert newest["reactions"] == [{"emoji": "👍", "by": ["Ana", "Bea"]}]
