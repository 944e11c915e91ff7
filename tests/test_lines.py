"""`lines`: the room's lines between offsets, for a client that keeps only some
of them; in the chat core, on both stores, with a recording delivery."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from papo.core import protocol
from papo.core.chat import Chat
from papo.core.ports import Store
from papo.core.rules import RateRules, Rules
from tests.recording import RecordingDelivery

UNLIMITED = RateRules(burst=100_000, per_minute=100_000)
Frame = dict[str, Any]


class Room:
    def __init__(self, store: Store) -> None:
        self.delivery = RecordingDelivery()
        self.chat = Chat(store=store, delivery=self.delivery, rules=Rules(rate=UNLIMITED))

    def join(self, cid: str, name: str) -> str:
        self.chat.connect(cid)
        self.act(cid, "setName", name=name, resume=True)
        return cid

    def act(self, cid: str, action: str, **fields: Any) -> list[Frame]:
        """Acts; returns what `cid` was sent for it."""
        self.delivery.everyone()
        self.chat.act(action, cid, json.dumps({"action": action, **fields}))
        return self.delivery.take(cid)


def said(posts: list[Frame]) -> list[str]:
    """What the posts hold, in the order they hold it."""
    items = [item for post in posts for item in post["lines"]]
    return [item.get("publicMessage") or item["systemMessage"] for item in items]


def spans(posts: list[Frame]) -> list[tuple[int, int]]:
    return [(post["from"], post["to"]) for post in posts]


def place(item: Frame) -> tuple[int, int, int]:
    """Where a line stands: after the room's line at its offset, its private ones."""
    if "privateOffset" in item:
        return (item["after"], 1, item["privateOffset"])
    return (item["offset"], 0, 0)


@pytest.fixture
def room(store: Store) -> Room:
    return Room(store)


def test_the_lines_before_an_offset_and_after_one(room: Room) -> None:
    ana = room.join("A=", "Ana")  # offset 1: Ana joined
    for number in range(2, 11):
        room.act(ana, "sendPublic", message=f"m{number}")

    (post,) = room.act(ana, "lines", before=8, limit=3)
    assert said([post]) == ["Ana: m5", "Ana: m6", "Ana: m7"]
    assert [item["offset"] for item in post["lines"]] == [5, 6, 7]
    assert {k: v for k, v in post.items() if k not in ("lines", "ts")} == {
        "type": "lines",
        "before": 8,
        "from": 5,
        "to": 7,
        "complete": True,
    }
    (post,) = room.act(ana, "lines", before=4, limit=5)
    assert said([post]) == ["Ana joined the chat", "Ana: m2", "Ana: m3"]
    assert (post["from"], post["to"], post["start"]) == (0, 3, True)

    (post,) = room.act(ana, "lines", after=6, limit=2)
    assert said([post]) == ["Ana: m7", "Ana: m8"]
    assert (post["from"], post["to"], "end" in post) == (7, 8, False)
    (post,) = room.act(ana, "lines", after=8)
    assert said([post]) == ["Ana: m9", "Ana: m10"]
    assert (post["from"], post["to"], post["end"]) == (9, 10, True)
    (post,) = room.act(ana, "lines", after=10)
    assert (post["lines"], post["from"], post["to"], post["end"]) == ([], 11, 10, True)

    (post,) = room.act(ana, "lines", after=3, before=9, limit=10)
    assert (post["after"], post["before"]) == (3, 9)  # what was asked
    assert said([post]) == [f"Ana: m{n}" for n in range(4, 9)]
    assert (post["from"], post["to"], "start" in post) == (4, 8, False)


def test_the_askers_own_private_lines_come_placed_among_the_rooms(room: Room) -> None:
    ana = room.join("A=", "Ana")  # 1
    bruno = room.join("B=", "Bruno")  # 2
    carla = room.join("C=", "Carla")  # 3
    room.act(ana, "sendPublic", message="one")  # 4
    room.act(bruno, "sendPrivate", to="Ana", message="psst")  # after 4
    room.act(bruno, "sendPrivate", to="Carla", message="not for Ana")
    room.act(ana, "sendPublic", message="two")  # 5
    room.act(ana, "sendPrivate", to="Bruno", message="ok")  # after 5
    room.act(ana, "sendPublic", message="three")  # 6

    def heard(cid: str, **span: int) -> list[str]:
        posts = room.act(cid, "lines", **span)
        return [i.get("privateMessage") or i.get("publicMessage") or "" for i in posts[0]["lines"]]

    assert heard(ana, before=6) == [
        "",
        "",
        "",
        "Ana: one",
        "Bruno: psst",
        "Ana: two",
        "Ana: ok",
    ]
    assert heard(ana, before=6, limit=1) == ["Ana: two", "Ana: ok"]
    assert heard(ana, after=4, limit=1) == ["Ana: two", "Ana: ok"]
    assert heard(carla, after=3) == ["Ana: one", "Bruno: not for Ana", "Ana: two", "Ana: three"]
    assert heard(bruno, after=4) == ["Ana: two", "Ana: ok", "Ana: three"]


def test_a_long_stretch_comes_in_posts_that_fit_adjoin_and_repeat_nothing(room: Room) -> None:
    ana = room.join("A=", "Ana")
    bruno = room.join("B=", "Bruno")
    for number in range(40):
        room.act(ana, "sendPublic", message=f"{number:02d} " + "x" * 3_900)
        if number % 10 == 9:  # four private lines of Bruno's, long too
            room.act(ana, "sendPrivate", to="Bruno", message=f"p{number:02d} " + "y" * 3_900)

    backward = room.act(bruno, "lines", before=43, limit=100)
    forward = room.act(bruno, "lines", after=0, limit=100)
    for posts, newest_first in ((backward, True), (forward, False)):
        sizes = [len(json.dumps(post, separators=(",", ":"))) for post in posts]
        assert len(posts) == 3
        assert all(size <= 128 * 1024 for size in sizes), sizes
        assert [post["complete"] for post in posts] == [False, False, True]
        ordered = list(reversed(posts)) if newest_first else posts
        # Each post holds whole the span it names, and the next one adjoins it.
        assert [b["from"] - a["to"] for a, b in itertools.pairwise(ordered)] == [1, 1]
        assert (ordered[0]["from"], ordered[-1]["to"]) == (0 if newest_first else 1, 42)
        items = [item for post in ordered for item in post["lines"]]
        places = [place(item) for item in items]
        assert places == sorted(set(places))  # in the room's order, each once
        assert len(items) == 2 + 40 + 4
    assert backward[-1]["start"] is True
    assert forward[-1]["end"] is True


def test_reading_back_from_the_newest_page_by_page_gets_every_line_once(room: Room) -> None:
    ana = room.join("A=", "Ana")
    for number in range(30):
        room.act(ana, "sendPublic", message=f"m{number}")
    heard: list[str] = []
    before = 32
    while True:
        (post,) = room.act(ana, "lines", before=before, limit=7)
        assert post["to"] == before - 1
        heard = said([post]) + heard
        before = post["from"]
        if post.get("start"):
            break
    assert heard == ["Ana joined the chat", *(f"Ana: m{n}" for n in range(30))]


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"before": -1}, "before"), ({"after": "7"}, "after"), ({"before": 3, "limit": 1.5}, "limit")],
)
def test_a_span_that_is_no_offset_is_refused_to_the_sender_alone(
    room: Room, fields: dict[str, Any], field: str
) -> None:
    ana = room.join("A=", "Ana")
    room.join("B=", "Bruno")
    room.delivery.everyone()
    room.chat.act("lines", ana, json.dumps({"action": "lines", **fields}))
    sent = room.delivery.everyone()
    assert list(sent) == [ana]
    (refusal,) = sent[ana]
    assert (refusal["code"], refusal["action"]) == ("invalid_field", "lines")
    assert f'"{field}"' in str(refusal["error"])


@pytest.mark.parametrize("backward", [True, False], ids=["backward", "forward"])
def test_a_place_split_between_posts_is_held_whole_by_the_one_further_on(backward: bool) -> None:
    """Posts so small each holds a frame or two: the span a post names is
    only what it and the posts before it hold whole."""
    frame = b'{"x":"' + b"a" * 40 + b'"}'
    items = [(4, frame), (5, frame), (5, frame), (5, frame), (6, frame)]
    posts = [
        json.loads(post)
        for post in protocol.lines_frames(
            items, (3, 6), {}, backward=backward, start=False, end=False, ts=1, max_bytes=300
        )
    ]
    assert [len(post["lines"]) for post in posts] == [2, 2, 1]
    if backward:  # 6 and one of 5's; the rest of 5's; 4
        assert spans(posts) == [(6, 6), (5, 5), (3, 4)]
    else:  # 4 and 5's first; the rest of 5's; 6
        assert spans(posts) == [(3, 4), (5, 5), (6, 6)]
