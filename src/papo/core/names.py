"""Names nobody can fake: compared by their confusable skeleton, in one script.

Unicode's confusables (UTS #39, `confusables.txt`, through the
`confusable-homoglyphs` package) map each character that passes for
another to its prototype: Cyrillic `\u043e` to Latin `o`, Greek `\u0392` to
Latin `B`, `1` and `I` to `l`, and `m` to the two letters `rn`. A string's
skeleton is UTS #39's: decomposed (NFD), each character replaced by its
prototype, decomposed again. Two names with one skeleton look alike.

A name's key adds what papo compares besides looks, in this order:

1. NFKC, so compatibility forms (fullwidth `\uff22`, ligature `\ufb01`) are
   the letters they stand for;
2. case folded, small capitals made capitals (`\u0299\u1d0f\u1d1b` is
   `BOT` drawn small; Unicode gives them no decomposition, but names each
   `… LETTER SMALL CAPITAL X` beside its `… CAPITAL LETTER X`), then all
   written in capitals: names that differ only in case share everything
   after this step, and capitals are where scripts look most alike (Greek
   `\u0392\u039f\u03a4` and Cyrillic `\u041e\u041d\u0410` pass for Latin
   `BOT` and `OHA`);
3. the skeleton, then case folded again and the skeleton once more, so
   lowercase lookalikes (`rn` for `m`, Cyrillic `\u0440` for `p`) meet too.

What draws nothing is left out before all of this (`papo.core.rules.name_key`
and `papo.core.visible`).

Case and looks together are transitive: `Neil` is `NEIL` in capitals, whose
`I` passes for `l`, so `Neil` and `Nell` share a key (as do `i` and `l`
anywhere). No key can keep them apart and still hold both rules.

A name may mix scripts only as people write (UTS #39's highly restrictive
level): one script, or Latin with Han and the Japanese kana, or with Han
and Bopomofo, or with Han and Hangul. `B\u043et` (a Cyrillic `\u043e` among
Latin letters) is refused before it is compared at all.

The data is loaded on the first name a container checks (some 0.2 s), not
at import: most invocations never look at a name.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping, Sequence

_ALLOWED_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_NO_SCRIPT = frozenset({"COMMON", "INHERITED"})
_LRM = "\u200e"
"""The package shows right-to-left characters between two of these marks."""


def prototypes(pairs: Mapping[str, Sequence[Mapping[str, str]]]) -> dict[int, str]:
    """Each confusable character's prototype, as a `str.translate` table.

    `confusable-homoglyphs` keeps every line `source → prototype` of
    `confusables.txt` in both directions, keyed in the file's order: for each
    line the source, then the prototype if it is new. A source is one
    character and has one entry; a prototype with several sources has several
    entries; of two characters that only map to each other, the source is
    the one keyed first.
    """
    order = {key.replace(_LRM, ""): at for at, key in enumerate(pairs)}
    alikes = {
        key.replace(_LRM, ""): [alike["c"].replace(_LRM, "") for alike in entries]
        for key, entries in pairs.items()
    }
    table: dict[int, str] = {}
    for char, alike in alikes.items():
        if len(char) != 1 or len(alike) != 1:
            continue
        (prototype,) = alike
        if len(alikes[prototype]) > 1 or order[char] < order[prototype]:
            table[ord(char)] = prototype
    return table


@functools.cache
def _table() -> dict[int, str]:
    from confusable_homoglyphs.confusables import confusables_data

    return prototypes(confusables_data)


def skeleton(text: str) -> str:
    """UTS #39's skeleton: NFD, each character by its prototype, NFD again."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).translate(_table()))


def skeleton_key(name: str) -> str:
    """The key under which names are compared: names that look alike, or differ
    only in case, share it (the steps are in the module's docstring)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    capitals = "".join(map(capital_of_small, folded)).upper()
    return skeleton(skeleton(capitals).casefold())


_SMALL_CAPITAL_NAMES = (
    (" LETTER SMALL CAPITAL ", " CAPITAL LETTER "),
    (" SMALL CAPITAL LETTER ", " CAPITAL LETTER "),
)


@functools.cache
def capital_of_small(char: str) -> str:
    """A small capital's capital (`\u0299` is `B`), found by their Unicode
    names; any other character as it is."""
    name = unicodedata.name(char, "")
    for small, capital in _SMALL_CAPITAL_NAMES:
        if small in name:
            try:
                return unicodedata.lookup(name.replace(small, capital))
            except KeyError:
                return char
    return char


def scripts(name: str) -> frozenset[str]:
    """The scripts a name is written in (punctuation, digits and marks have none)."""
    from confusable_homoglyphs import categories

    return frozenset(categories.alias(c) for c in name) - _NO_SCRIPT


def mixes_scripts(name: str) -> bool:
    """Whether a name mixes scripts in a way nobody writes a name."""
    found = scripts(name)
    return len(found) > 1 and not any(found <= allowed for allowed in _ALLOWED_MIXES)
