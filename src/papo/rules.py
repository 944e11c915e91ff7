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
    return _check_text(text, limits.max_message_length, ErrorCode.MESSAGE_TOO_LONG)


def _check_text(text: str, limit: int, too_long: ErrorCode) -> str:
    if not text.strip():
        raise BadFrame(ErrorCode.MESSAGE_EMPTY)
    if len(text) > limit:
        raise BadFrame(too_long, limit=limit)
    return text


DEFAULT_SYSTEM_PROMPT = (
    "You are Bot, a helpful participant in a group chat. Messages from people come as "
    '"Name: text". Answer the last question briefly and plainly, in the language it was '
    "asked in."
)


@dataclass(frozen=True, slots=True)
class BotRules:
    """How the bot behaves and what it may cost."""

    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    max_question_length: int = 1000
    questions_per_minute: int = 5
    daily_tokens: int = 200_000
    max_answer_tokens: int = 800
    memory_tokens: int = 3000
    memory_messages: int = 40
    history_messages: int = 50
    history_ttl_ms: int = 24 * 60 * 60 * 1000
    flush_interval_ms: int = 250
    flush_min_chars: int = 60
    flush_max_wait_ms: int = 1000
    flush_chars: int = 4000
    answer_lock_ms: int = 5 * 60 * 1000
    """How long an answer may hold its asker's turn if it never ends (a crash)."""

    @property
    def reservation(self) -> int:
        """Tokens set aside from the daily budget for one answer, before it starts."""
        return self.memory_tokens + self.max_answer_tokens


def check_question(text: str, rules: BotRules) -> str:
    """The question as asked, or BadFrame if it is blank or too long."""
    return _check_text(text, rules.max_question_length, ErrorCode.QUESTION_TOO_LONG)
