"""What a text shows, judged by Unicode's own data as the `regex` package carries
it (Default_Ignorable_Code_Point, White_Space), not by papo's code: the judge of
the tests and of the fuzzer."""

from __future__ import annotations

import functools
import unicodedata

import regex

DEFAULT_IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")
WHITE_SPACE = regex.compile(r"\p{White_Space}")
BRAILLE_BLANK = "\u2800"
RESERVED = ("Bot", "System")


def draws_nothing(char: str) -> bool:
    return bool(
        DEFAULT_IGNORABLE.match(char)
        or WHITE_SPACE.match(char)
        or unicodedata.category(char) == "Cf"
        or char == BRAILLE_BLANK
    )


def is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def shows_a_letter_or_digit(name: str) -> bool:
    return any(unicodedata.category(c)[0] in "LN" and not draws_nothing(c) for c in name)


def shows_something(text: str) -> bool:
    """Something drawn on its own: neither nothing nor a mark (which draws on
    the character before it)."""
    return any(not draws_nothing(c) and not is_mark(c) for c in text)


@functools.cache
def _capital(char: str) -> str:
    name = unicodedata.name(char, "")
    if "SMALL CAPITAL" not in name:
        return char
    script = name.split(" ", 1)[0]
    try:
        return unicodedata.lookup(f"{script} CAPITAL LETTER {name.rsplit(' ', 1)[-1]}")
    except KeyError:
        return char


def plain(name: str) -> str:
    """A name as a reader takes it in: what draws nothing left out (a plain space
    is a gap everyone sees, any other counts as nothing), compatibility forms,
    small capitals and case folded."""
    kept = "".join(c for c in name if c == " " or not draws_nothing(c))
    folded = unicodedata.normalize("NFKC", kept).casefold()
    return "".join(map(_capital, folded)).casefold().strip()


def passes_for(name: str, other: str) -> bool:
    """Whether `name`, not being `other`, shows as it; for the reserved names,
    whether its letters and digits are theirs."""
    if name == other:
        return False
    if other in RESERVED:
        letters = "".join(c for c in plain(name) if unicodedata.category(c)[0] in "LN")
        return letters == other.casefold()
    return plain(name) == plain(other)
