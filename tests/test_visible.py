"""What a text shows (`papo.core.visible`), checked against Unicode's own data
as the `regex` package carries it, which papo's code does not use."""

from __future__ import annotations

import sys
import unicodedata

import pytest
import regex

from papo.core import visible

DEFAULT_IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")
WHITE_SPACE = regex.compile(r"\p{White_Space}")


def assigned() -> list[str]:
    """Every character this Python's Unicode data assigns (its version may be
    older than the `regex` package's)."""
    return [
        chr(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) not in {"Cn", "Cs"}
    ]


def test_every_default_ignorable_character_draws_nothing() -> None:
    missed = [
        f"U+{ord(c):04X}"
        for c in assigned()
        if DEFAULT_IGNORABLE.match(c) and not visible.ignorable(c)
    ]
    assert missed == []


def test_what_papo_takes_as_ignorable_is_default_ignorable_or_a_format_character() -> None:
    extra = [
        f"U+{ord(c):04X}"
        for c in assigned()
        if visible.ignorable(c)
        and not DEFAULT_IGNORABLE.match(c)
        and unicodedata.category(c) != "Cf"
    ]
    assert extra == []


def test_the_reserved_default_ignorable_code_points_are_ignorable_too() -> None:
    """Unassigned today, they are set aside to draw nothing once assigned."""
    for code in (0x2065, 0xFFF0, 0xE0000, 0xE0080, 0xE0FFF):
        assert DEFAULT_IGNORABLE.match(chr(code))
        assert visible.ignorable(chr(code))


def test_every_white_space_character_is_a_gap() -> None:
    assert all(visible.blank(c) for c in assigned() if WHITE_SPACE.match(c))


@pytest.mark.parametrize(
    "text",
    [
        "\u3164",
        "\uffa0",
        "\u115f",
        "\u1160",
        "\u2800",
        "\u2800\u2800\u2800",
        "\u034f",
        "\ufe0f",
        "\u0301",
        "\u200b",
        "\u202e",
        "\u2060",
        "\ufeff",
        "\U000e0041",  # a tag letter
        " \u3000\u00a0\t\n",
        "\u3164\u0301",  # a mark on a filler: on nothing
        " \u0308",
    ],
)
def test_texts_that_show_nothing(text: str) -> None:
    assert visible.form(text) == ""


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Bot\ufe0f", "Bot"),
        ("B\u034fo\u200dt", "Bot"),
        ("Bot\u3164", "Bot"),
        ("\u2800Ana\u2800", "Ana"),
        ("Ana\u3000\u2003 Paula", "Ana Paula"),
        ("\u0301Ana", "Ana"),
        ("Ana \u0301", "Ana"),
        ("Zoe\u0308", "Zoe\u0308"),  # a mark on a letter shows
        ("\u2764\ufe0f", "\u2764"),
        ("\u0928\u092e\u0938\u094d\u0924\u0947", "\u0928\u092e\u0938\u094d\u0924\u0947"),
    ],
)
def test_what_a_text_shows(text: str, shown: str) -> None:
    assert visible.form(text) == shown


def test_a_letter_or_digit_that_shows() -> None:
    assert visible.has_letter_or_digit("R2")
    assert visible.has_letter_or_digit("\u7530")
    assert not visible.has_letter_or_digit("!!! \U0001f98a")
    assert not visible.has_letter_or_digit("\u3164\uffa0")  # letters by category, but fillers


@pytest.mark.parametrize(
    "text",
    ["", "\u3164", " \u0301", "a", "\u200ba", "\u0301a", " \u2800\u0301\u00e9", "\U0001f98a"],
)
def test_shows_anything_is_whether_the_form_holds_anything(text: str) -> None:
    assert visible.shows_anything(text) is bool(visible.form(text))
