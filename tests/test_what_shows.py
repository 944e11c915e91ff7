"""What papo accepts shows as something, and never as the bot or as someone
present: generated names and messages over the Unicode categories involved
(format characters, default-ignorables, fillers, spaces of every width, the
blank braille cell, combining marks, small capitals and compatibility forms),
on both stores. Each test has a room of its own, where Ana, Ana Paula and
Bruno stay while the examples come and go.

The judge is Unicode's own data as the `regex` package carries it
(`tests.unicode_oracle`), which papo's code does not use.
The number of examples is bounded, and CI runs them derandomized.
"""

from __future__ import annotations

import functools
import itertools
import json
import sys
import unicodedata
from collections.abc import Callable

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from papo.core.chat import Chat
from papo.core.ports import Store
from papo.core.rules import RateRules, Rules
from tests.recording import RecordingDelivery
from tests.unicode_oracle import (
    BRAILLE_BLANK,
    DEFAULT_IGNORABLE,
    WHITE_SPACE,
    passes_for,
    shows_a_letter_or_digit,
    shows_something,
)


@functools.cache
def assigned(test: Callable[[str], bool]) -> list[str]:
    return sorted(
        chr(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) not in {"Cn", "Cs"} and test(chr(code))
    )


def _invisible_letter_or_mark(char: str) -> bool:
    return bool(DEFAULT_IGNORABLE.match(char)) and unicodedata.category(char) != "Cf"


def _format(char: str) -> bool:
    return unicodedata.category(char) == "Cf"


def _gap(char: str) -> bool:
    return (bool(WHITE_SPACE.match(char)) or char == BRAILLE_BLANK) and not _control(char)


def _control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"


ignorables = st.sampled_from(assigned(_invisible_letter_or_mark))
"""Default-ignorable, not format characters: the combining grapheme joiner,
variation selectors, the Hangul fillers."""
formats = st.sampled_from(assigned(_format))
gaps = st.sampled_from(assigned(_gap))
marks = st.characters(categories=["Mn", "Mc", "Me"])
drawn = st.characters(categories=["L", "N", "P", "S"])
controls = st.characters(categories=["Cc"])
nothing = st.one_of(ignorables, formats, gaps)


@functools.cache
def compatibility_forms() -> dict[str, list[str]]:
    """The characters NFKC makes each single character of."""
    forms: dict[str, list[str]] = {}
    for char in assigned(lambda _: True):
        plain = unicodedata.normalize("NFKC", char)
        if plain != char and len(plain) == 1:
            forms.setdefault(plain, []).append(char)
    return forms


@functools.cache
def looks_the_same(char: str) -> list[str]:
    """Characters that show as `char` with at most its case or size changed:
    its other case, the compatibility forms that stand for it (fullwidth,
    mathematical letters), and its small capital."""
    same = {char, char.upper(), char.lower()}
    forms = compatibility_forms()
    same.update(*(forms.get(c, ()) for c in (char.upper(), char.lower())))
    for script in ("LATIN", "GREEK", "CYRILLIC"):
        try:
            name = unicodedata.name(char.upper()).replace(f"{script} CAPITAL LETTER ", "")
            same.add(unicodedata.lookup(f"{script} LETTER SMALL CAPITAL {name}"))
        except (KeyError, ValueError):
            pass
    return sorted(same)


@st.composite
def passing_for(draw: st.DrawFn, name: str) -> str:
    """A name that shows as `name`: each letter as itself or one that looks the
    same, what draws nothing between letters, gaps and marks on nothing before
    it, gaps and what draws nothing after it, and any gap for its spaces."""
    out = [draw(st.text(st.one_of(nothing, marks), max_size=3))]
    for char in name:
        if char == " ":
            out.append(draw(st.text(gaps, min_size=1, max_size=3)))
        else:
            out.append(draw(st.sampled_from(looks_the_same(char))))
        out.append(draw(st.text(st.one_of(ignorables, ignorables, formats), max_size=2)))
    out.append(draw(st.text(nothing, max_size=3)))
    return "".join(out)


PRESENT = ("Ana", "Ana Paula", "Bruno")
RESERVED = ("Bot", "System")
ROOMS = itertools.count()
EXAMPLES = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DYNAMODB_EXAMPLES = settings(EXAMPLES, max_examples=25)
"""DynamoDB's share: each example costs a dozen calls through moto, and what the
store adds (keeping and giving back the names and texts) shows in fewer; the
hundred examples of each test run on SQLite."""
ON_SQLITE = pytest.mark.parametrize("store_kind", ["sqlite"])
ON_DYNAMODB = pytest.mark.parametrize("store_kind", ["dynamodb"])


class Room:
    """A room of its own on a store made by `containers`, with Ana, Ana Paula
    and Bruno in it."""

    def __init__(self, containers: Callable[[], Store]) -> None:
        self.delivery = RecordingDelivery()
        self.room = f"shows-{next(ROOMS)}"
        self.store = containers()
        self.chat = Chat(
            store=self.store,
            delivery=self.delivery,
            rules=Rules(rate=RateRules(burst=1000, per_minute=1000)),
        )
        self.people = itertools.count()
        for name in PRESENT:
            assert self.join(name) is None, name
        self.delivery.everyone()

    def join(self, name: str) -> str | None:
        """The code of the refusal, or None when the name was taken."""
        cid = f"{self.room}-{next(self.people)}="
        self.chat.connect(cid, room=self.room)
        self.chat.act("setName", cid, json.dumps({"name": name}))
        frames = self.delivery.take(cid)
        return next((str(f["code"]) for f in frames if "code" in f), None)

    def try_name(self, name: str) -> str | None:
        """As `join`, and whoever joined leaves again."""
        return self.shown(name)[0]

    def shown(self, name: str) -> tuple[str | None, str | None]:
        """The code of the refusal, or the name as the room was shown it; whoever
        joined leaves again."""
        refused = self.join(name)
        cid = f"{self.room}-{next(self.people) - 1}="
        connection = self.store.in_room(self.room).get(cid)
        self.chat.disconnect(cid)
        self.delivery.everyone()
        return refused, connection.name if connection and refused is None else None

    def members(self) -> list[str]:
        return sorted(m.name for m in self.store.in_room(self.room).members())


@pytest.fixture
def room(containers: Callable[[], Store]) -> Room:
    return Room(containers)


NAMES = st.text(st.one_of(drawn, nothing, marks, controls), max_size=12)


@ON_SQLITE
@EXAMPLES
@given(name=NAMES)
def test_a_name_accepted_shows_a_letter_or_digit(room: Room, name: str) -> None:
    accepted_shows_a_letter_or_digit(room, name)


@ON_DYNAMODB
@DYNAMODB_EXAMPLES
@given(name=NAMES)
def test_a_name_accepted_shows_a_letter_or_digit_on_dynamodb(room: Room, name: str) -> None:
    accepted_shows_a_letter_or_digit(room, name)


def accepted_shows_a_letter_or_digit(room: Room, name: str) -> None:
    if room.try_name(name) is None:
        assert shows_a_letter_or_digit(name), name
        assert not any(_control(c) for c in name.strip()), name


TARGETS = st.sampled_from(RESERVED + PRESENT)


@ON_SQLITE
@EXAMPLES
@given(data=st.data(), target=TARGETS)
def test_a_name_that_shows_as_the_bot_or_someone_present_is_refused(
    room: Room, data: st.DataObject, target: str
) -> None:
    spoof_refused(room, data, target)


@ON_DYNAMODB
@DYNAMODB_EXAMPLES
@given(data=st.data(), target=TARGETS)
def test_a_name_that_shows_as_the_bot_or_someone_present_is_refused_on_dynamodb(
    room: Room, data: st.DataObject, target: str
) -> None:
    spoof_refused(room, data, target)


def spoof_refused(room: Room, data: st.DataObject, target: str) -> None:
    spoof = data.draw(passing_for(target), label="spoof")
    assert room.try_name(spoof) is not None, f"{spoof!r} passed for {target}"
    assert room.members() == sorted(PRESENT)


@st.composite
def near(draw: st.DrawFn, name: str) -> str:
    """A name close to `name`: some letters swapped for look-alikes, and here
    and there anything that draws nothing, any gap or any mark."""
    anything = st.one_of(st.just(""), nothing, gaps, marks)
    out = [draw(anything)]
    for char in name:
        out.append(draw(st.one_of(st.just(char), st.sampled_from(looks_the_same(char)))))
        out.append(draw(anything))
    return "".join(out)


@ON_SQLITE
@EXAMPLES
@given(data=st.data(), target=TARGETS)
def test_a_name_accepted_does_not_show_as_the_bot_or_someone_present(
    room: Room, data: st.DataObject, target: str
) -> None:
    accepted_does_not_pass_for_another(room, data, target)


@ON_DYNAMODB
@DYNAMODB_EXAMPLES
@given(data=st.data(), target=TARGETS)
def test_a_name_accepted_does_not_show_as_the_bot_or_someone_present_on_dynamodb(
    room: Room, data: st.DataObject, target: str
) -> None:
    accepted_does_not_pass_for_another(room, data, target)


def accepted_does_not_pass_for_another(room: Room, data: st.DataObject, target: str) -> None:
    name = data.draw(near(target), label="name")
    refused, shown = room.shown(name)
    if refused is None:
        assert shown is not None
        for other in RESERVED + PRESENT:
            assert not passes_for(shown, other), f"{name!r} shown as {shown!r} passes for {other}"


TEXTS = st.text(st.one_of(drawn, nothing, marks, controls), min_size=1, max_size=12)


@ON_SQLITE
@EXAMPLES
@given(text=TEXTS)
def test_a_message_carried_shows_something(room: Room, text: str) -> None:
    carried_shows_something(room, text)


@ON_DYNAMODB
@DYNAMODB_EXAMPLES
@given(text=TEXTS)
def test_a_message_carried_shows_something_on_dynamodb(room: Room, text: str) -> None:
    carried_shows_something(room, text)


def carried_shows_something(room: Room, text: str) -> None:
    ana = f"{room.room}-0="
    room.chat.act("sendPublic", ana, json.dumps({"message": text}))
    sent = room.delivery.everyone()
    allowed = not any(_control(c) and c not in "\t\n\r" for c in text)
    if allowed and shows_something(text):
        assert [f["text"] for f in sent[f"{room.room}-2="]] == [text]
    else:
        assert set(sent) == {ana}, text
        (refused,) = sent[ana]
        expected = "message_empty" if allowed else "message_invalid_characters"
        assert refused["code"] == expected, text


@pytest.mark.parametrize("target", RESERVED + PRESENT)
def test_the_spoofs_generated_include_the_plain_ones(target: str) -> None:
    """The generator reaches the spoofs found by hand (a guard on the test itself)."""
    letters = {c for char in target for c in looks_the_same(char)}
    assert "\u0299" in letters or "B" not in target
    assert "\uff41" in letters or "a" not in target
    assert "\u3164" in assigned(_invisible_letter_or_mark)
    assert "\u2800" in assigned(_gap)
