"""Names nobody can fake: confusable skeletons and mixed scripts, in the core
and in the stores that keep names unique."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from papo.adapters.store.sqlite import SqliteStore
from papo.core import names
from papo.core.chat import Chat
from papo.core.names import mixes_scripts, skeleton_key
from tests.recording import RecordingDelivery

CYRILLIC_A, CYRILLIC_O, GREEK_BETA = "\u0410", "\u043e", "\u0392"


class Room:
    def __init__(self, tmp_path: Path) -> None:
        self.delivery = RecordingDelivery()
        self.store = SqliteStore(tmp_path / "papo.sqlite3")
        self.chat = Chat(store=self.store, delivery=self.delivery)
        self.count = 0

    def name(self, name: str) -> str | None:
        """The code of the refusal, or None when the name was taken."""
        self.count += 1
        cid = f"C{self.count}="
        self.chat.connect(cid)
        self.chat.act("setName", cid, json.dumps({"name": name}))
        frames = self.delivery.take(cid)
        self.delivery.everyone()
        return next((str(f["code"]) for f in frames if "code" in f), None)


@pytest.fixture
def room(tmp_path: Path) -> Room:
    return Room(tmp_path)


@pytest.mark.parametrize(
    ("spoof", "code"),
    [
        (f"B{CYRILLIC_O}t", "name_mixed_scripts"),
        (f"{GREEK_BETA}ot", "name_mixed_scripts"),
        ("\u0392\u039f\u03a4", "name_reserved"),  # Greek capitals spelling BOT
        ("B0t", "name_reserved"),
        ("BOT", "name_reserved"),
        ("\uff22\uff4f\uff54", "name_reserved"),  # fullwidth Bot
        ("SYSTEM", "name_reserved"),
        ("\u0405ystem", "name_mixed_scripts"),  # Cyrillic DZE
    ],
)
def test_names_that_pass_for_the_bot_are_refused(room: Room, spoof: str, code: str) -> None:
    assert room.name(spoof) == code


@pytest.mark.parametrize(
    ("spoof", "code"),
    [
        (f"{CYRILLIC_A}na", "name_mixed_scripts"),
        ("ANA", "name_taken"),
        ("\u041e\u041d\u0410", "name_confusable"),  # all Cyrillic: looks like OHA
        ("Ana\u0301", "name_confusable"),  # no: a mark makes it Aná, another name
    ],
)
def test_names_that_pass_for_someone_here_are_refused(room: Room, spoof: str, code: str) -> None:
    assert room.name("Ana") is None
    assert room.name("OHA") is None
    if spoof == "Ana\u0301":
        assert room.name(spoof) is None
        return
    assert room.name(spoof) == code


def test_the_refusal_names_who_it_looks_like(room: Room) -> None:
    room.name("lia")
    room.count += 1
    room.chat.connect("X=")
    room.chat.act("setName", "X=", json.dumps({"name": "1ia"}))
    (frame,) = room.delivery.take("X=")
    assert frame["code"] == "name_confusable"
    assert frame["error"] == (
        "The name 1ia looks too much like lia, who is already here. Please choose another."
    )


REAL_NAMES = [
    "João",
    "Conceição",
    "José",
    "Jose",
    "Zoë",
    "田中さくら",
    "サクラ",
    "Sakura田中",
    "محمد",
    "فاطمة",
    "प्रिया",
    "अर्जुन",
    "Σοφία",
    "Дмитрий",
    "王小明",
    "김민준",
    "Ana-Lúcia",
    "O'Brien",
]


def test_real_names_in_many_scripts_are_fine_and_distinct(room: Room) -> None:
    for name in REAL_NAMES:
        assert room.name(name) is None, name
    assert sorted(m.name for m in room.store.members()) == sorted(REAL_NAMES)


def test_skeletons() -> None:
    assert skeleton_key(f"B{CYRILLIC_O}t") == skeleton_key("bot") == skeleton_key("BOT")
    assert skeleton_key(f"{GREEK_BETA}ot") == skeleton_key("Bot")
    assert skeleton_key("José") != skeleton_key("Jose")
    assert not mixes_scripts("Sakura田中さくら")
    assert mixes_scripts(f"{CYRILLIC_A}na")
    assert mixes_scripts("Anaπ")


def test_a_private_message_to_a_lookalike_name_finds_the_person(room: Room) -> None:
    room.name("Ana")
    room.name("Bruno")
    room.chat.act("sendPrivate", "C2=", json.dumps({"to": "ANA", "message": "psst"}))
    assert room.delivery.take("C1=")[0]["privateMessage"] == "Bruno: psst"


MULTI_CHARACTER_SPOOFS = [
    ("Kim", "Kirn"),  # m is drawn like rn
    ("Kim", "KIRN"),
    ("Emma", "Ernrna"),
    ("Cæsar", "Caesar"),  # æ is drawn like ae
    ("Œdipe", "OEdipe"),
    ("\u042b", "bl"),  # Cyrillic YERU
    ("\u042e", "lO"),  # Cyrillic YU
    ("Dmitry", "Drnitry"),
]


@pytest.mark.parametrize(("first", "second"), MULTI_CHARACTER_SPOOFS)
def test_a_character_drawn_like_several_shares_their_key(first: str, second: str) -> None:
    assert skeleton_key(first) == skeleton_key(second)


@pytest.mark.parametrize(("first", "second"), [("Kim", "Kirn"), ("Emma", "Ernrna")])
def test_a_name_drawn_like_another_by_several_letters_is_refused(
    room: Room, first: str, second: str
) -> None:
    assert room.name(first) is None
    assert room.name(second) == "name_confusable"
    assert room.name(second.upper()) in {"name_confusable", "name_taken"}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Kim", "Kin"),
        ("Ana", "Ama"),
        ("Mia", "Nia"),
        ("Lia", "Lisa"),
        ("José", "Jose"),
        ("Tom", "Torri"),
    ],
)
def test_names_that_only_share_letters_differ(first: str, second: str) -> None:
    assert skeleton_key(first) != skeleton_key(second)


@pytest.mark.parametrize("name", [*REAL_NAMES, "Kim", "Kirn", "Maria", "Ivan"])
def test_case_never_changes_the_key(name: str) -> None:
    variants = {name, name.upper(), name.lower(), name.casefold(), name.title(), name.swapcase()}
    assert {skeleton_key(v) for v in variants} == {skeleton_key(name)}


def test_a_name_in_other_capitals_is_taken(room: Room) -> None:
    assert room.name("Maria") is None
    assert room.name("MARIA") == "name_taken"
    assert room.name("maria") == "name_taken"


def test_capitals_that_pass_for_latin_ones_share_the_key() -> None:
    assert skeleton_key("Ivan") == skeleton_key("lvan")  # I is drawn like l
    assert skeleton_key("\u041f\u0410\u0412\u0415\u041b") == skeleton_key(
        "\u043f\u0430\u0432\u0435\u043b"
    )
    # Case and looks together are transitive: Neil, NEIL, NElL, Nell.
    assert skeleton_key("Neil") == skeleton_key("Nell")


def test_the_prototypes_are_read_in_their_direction() -> None:
    table = names._table()
    assert len(table) > 6000
    assert table[ord("m")] == "rn"
    assert table[ord("1")] == table[ord("I")] == "l"
    assert table[ord(CYRILLIC_O)] == "o"
    assert ord("l") not in table
    assert ord("o") not in table
    # UTS #39's mapping is idempotent: no prototype holds a character mapped further.
    assert not {ord(c) for prototype in table.values() for c in prototype} & table.keys()


def test_skeleton_is_uts39s() -> None:
    assert names.skeleton("\u0420\u0430\u0443\u0420\u0430l") == "PayPal"  # Cyrillic ER, A, U
    assert names.skeleton("Kim") == "Kirn"
    assert names.skeleton("ǉ") == "lj"


NAMES_THAT_SHOW_AS_NOTHING = [
    "\u3164",  # HANGUL FILLER
    "\uffa0",  # HALFWIDTH HANGUL FILLER
    "\u115f",  # HANGUL CHOSEONG FILLER
    "\u1160",  # HANGUL JUNGSEONG FILLER
    "\u2800",  # BRAILLE PATTERN BLANK
    "\u2800\u2800\u2800",
    "\u034f",  # COMBINING GRAPHEME JOINER
    "\ufe0f",  # VARIATION SELECTOR-16
    "\u0301",  # a combining acute accent on nothing
    "\u3164\u0301\u2800",
    "\U000e0100",  # VARIATION SELECTOR-17
]


@pytest.mark.parametrize("name", NAMES_THAT_SHOW_AS_NOTHING)
def test_names_that_show_as_nothing_are_refused(room: Room, name: str) -> None:
    assert room.name(name) == "name_empty"
    assert room.store.members() == []


@pytest.mark.parametrize("name", ["!!!", "\U0001f98a", "\u2800-\u2800", "\u3164.\u3164"])
def test_a_name_needs_a_letter_or_digit(room: Room, name: str) -> None:
    assert room.name(name) == "name_no_letters"


@pytest.mark.parametrize(
    "spoof",
    [
        "\u0299\u1d0f\u1d1b",  # small capitals
        "Bot\ufe0f",
        "Bot\u034f",
        "Bot\u3164",
        "\u2800Bot",
        "B\u0336ot",  # a stroke through the B
        "Bot\u0301",  # an accent on the t
        "Bot.",
        "B o t",
        "(Bot)",
        "B.O.T.",
        "\u0299\u1d0f\u1d1b\u2800",
        "Sy\u034fstem",
    ],
)
def test_names_that_show_as_the_bot_are_refused(room: Room, spoof: str) -> None:
    assert room.name(spoof) == "name_reserved"


@pytest.mark.parametrize("name", ["8ot", "Bot2", "Robot", "Bot Fan", "Abbot", "Botafogo"])
def test_names_that_only_contain_the_bots_letters_are_fine(room: Room, name: str) -> None:
    assert room.name(name) is None


@pytest.mark.parametrize(
    ("spoof", "code"),
    [
        ("\u1d00\u0274\u1d00", "name_confusable"),  # ANA in small capitals
        ("Ana\ufe0f", "name_taken"),
        ("Ana\u3164", "name_taken"),
        ("\u2800Ana\u2800", "name_taken"),
        ("A\u034fna", "name_taken"),
        ("\u0301Ana", "name_taken"),
    ],
)
def test_names_that_show_as_someone_here_are_refused(room: Room, spoof: str, code: str) -> None:
    assert room.name("Ana") is None
    assert room.name(spoof) == code


def test_gaps_of_any_width_are_one_space(room: Room) -> None:
    assert room.name("Ana Paula") is None
    for spoof in ("Ana  Paula", "Ana\u3000Paula", "Ana\u2800Paula", "Ana\u2003\u3164Paula"):
        assert room.name(spoof) == "name_taken", spoof


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("Ana\u3000\u3000Paula", "Ana Paula"),
        ("An\u200aa", "An a"),  # a hair space shows as a space
        ("Brun\u2007o", "Brun o"),
        ("Ana\u3164Paula", "AnaPaula"),  # a filler some screens draw wide, others not at all
        ("\u2800Zo\u034fe\u0308\ufe0f", "Zo\u00eb"),
        ("Ana \u2764\ufe0f", "Ana \u2764"),
    ],
)
def test_a_name_is_shown_as_it_shows_anyway(room: Room, typed: str, shown: str) -> None:
    assert room.name(typed) is None
    assert [m.name for m in room.store.members()] == [shown]


def test_a_thin_space_does_not_hide_in_a_name_of_someone_here(room: Room) -> None:
    assert room.name("Ana") is None
    assert room.name("An\u200aa") is None
    assert sorted(m.name for m in room.store.members()) == ["An a", "Ana"]
