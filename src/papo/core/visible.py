"""What a text shows: the characters that draw nothing taken out, by Unicode's
own properties rather than a list of tricks.

A character draws nothing when it is

- a format character (category Cf: zero-width spaces and joiners, bidi
  controls, the byte order mark, tags);
- default-ignorable (Unicode's Default_Ignorable_Code_Point: every Cf but a
  few visible ones, the variation selectors, and the code points Unicode
  lists as Other_Default_Ignorable_Code_Point, such as the combining
  grapheme joiner U+034F and the Hangul fillers U+115F, U+1160, U+3164 and
  U+FFA0): a renderer that does not support one must show nothing for it;
- a space (White_Space: the space, no-break and ideographic spaces, line
  and paragraph separators, tabs and line breaks), which draws a gap and no
  ink;
- the blank braille pattern U+2800, a graphic character of the braille
  block whose cell has no dot: no property marks it blank, but it is one.

A combining mark (category M) draws on the character before it; with none
before it (at the start, or after a gap) it is a lone mark, which draws at
best a stray accent on nothing, and counts as nothing too.

`unicodedata` gives categories and White_Space (`str.isspace`) but not
Default_Ignorable_Code_Point, which is derived here from its definition
(Unicode's DerivedCoreProperties.txt): Other_Default_Ignorable_Code_Point,
plus Cf, plus Variation_Selector, less White_Space and a few Cf characters
that do show. Those exceptions count as drawing nothing here all the same:
papo takes every Cf as drawing nothing.
"""

from __future__ import annotations

import unicodedata

_OTHER_DEFAULT_IGNORABLE = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x2065, 0x2065),
    (0x3164, 0x3164),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0000),
    (0xE0002, 0xE001F),
    (0xE0080, 0xE00FF),
    (0xE01F0, 0xE0FFF),
)
"""Other_Default_Ignorable_Code_Point, as Unicode's PropList.txt lists it."""

_VARIATION_SELECTORS = (
    (0x180B, 0x180D),
    (0x180F, 0x180F),
    (0xFE00, 0xFE0F),
    (0xE0100, 0xE01EF),
)
"""Variation_Selector, as Unicode's PropList.txt lists it."""

BRAILLE_BLANK = "\u2800"

_IGNORABLE = frozenset(
    code
    for first, last in (*_OTHER_DEFAULT_IGNORABLE, *_VARIATION_SELECTORS)
    for code in range(first, last + 1)
)


def ignorable(char: str) -> bool:
    """Whether a character is default-ignorable, or a format character."""
    return ord(char) in _IGNORABLE or unicodedata.category(char) == "Cf"


def blank(char: str) -> bool:
    """Whether a character draws a gap: a space of any width, or the blank braille cell."""
    return char.isspace() or char == BRAILLE_BLANK


def draws_nothing(char: str) -> bool:
    return ignorable(char) or blank(char)


def is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def form(text: str) -> str:
    """The text as it shows: what draws nothing and lone marks left out, each
    run of gaps one space, none at either end."""
    shown: list[str] = []
    for char in text:
        if ignorable(char):
            continue
        if blank(char):
            if shown and shown[-1] != " ":
                shown.append(" ")
        elif not is_mark(char) or (shown and shown[-1] != " "):
            shown.append(char)
    return "".join(shown).rstrip(" ")


def trim(text: str) -> str:
    """The text without the gaps at either end."""
    start, end = 0, len(text)
    while start < end and blank(text[start]):
        start += 1
    while end > start and blank(text[end - 1]):
        end -= 1
    return text[start:end]


def shows_anything(text: str) -> bool:
    """Whether `form(text)` would hold anything, found without making it: some
    character that draws and is not a mark."""
    return any(not draws_nothing(char) and not is_mark(char) for char in text)


def has_letter_or_digit(text: str) -> bool:
    """Whether the text shows at least one letter or digit (category L or N)."""
    return any(unicodedata.category(char)[0] in "LN" for char in form(text))
