"""The checks on what people send: names and messages. Pure functions."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from papo.protocol import BadFrame, ErrorCode

RESERVED_NAMES = frozenset({"bot", "system"})

# Unicode categories a name may not contain: controls, format characters
# (zero-width joiners, bidi overrides), surrogates, private use, unassigned,
# and line or paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class Limits:
    max_name_length: int = 32
    max_message_length: int = 4000


def name_key(name: str) -> str:
    """The form under which names are compared: case and Unicode form folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def check_name(raw: str, limits: Limits) -> str:
    """The name as papo will show it, or BadFrame saying what is wrong."""
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise BadFrame(ErrorCode.NAME_EMPTY)
    if any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in name):
        raise BadFrame(ErrorCode.NAME_INVALID_CHARACTERS)
    if len(name) > limits.max_name_length:
        raise BadFrame(ErrorCode.NAME_TOO_LONG, limit=limits.max_name_length)
    if name_key(name) in RESERVED_NAMES:
        raise BadFrame(ErrorCode.NAME_RESERVED, name=name)
    return name


def check_message(text: str, limits: Limits) -> str:
    """The message as sent, or BadFrame if it is blank or too long."""
    if not text.strip():
        raise BadFrame(ErrorCode.MESSAGE_EMPTY)
    if len(text) > limits.max_message_length:
        raise BadFrame(ErrorCode.MESSAGE_TOO_LONG, limit=limits.max_message_length)
    return text
