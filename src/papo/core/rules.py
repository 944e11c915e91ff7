"""The rules of the room: what a name and a message may be, how the bot
behaves, and the numbers behind both. Pure functions and frozen settings;
each default is stated here once."""

from __future__ import annotations

import functools
import unicodedata

import msgspec

from papo.core import visible
from papo.core.names import mixes_scripts, skeleton_key
from papo.core.refusals import ErrorCode, Refusal

RESERVED_NAMES = ("Bot", "System")

# Unicode categories a name may not contain: controls, format characters
# (zero-width joiners, bidi overrides), surrogates, private use, unassigned,
# and line or paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

_COLONS = frozenset(":\uff1a\ufe55\ufe13\u2236\ua789\u02d0\u02f8\u0589\u05c3\u0703\u0704\u16ec")
"""The colon and the characters drawn like one. The course's clients show a
message as `name: text`, so a name holding `: ` could pass for another
sender (`Bot: the answer is`)."""


class Limits(msgspec.Struct, frozen=True):
    max_name_length: int = 32
    max_message_length: int = 4000


def name_key(name: str) -> str:
    """The form under which names are compared: names that show alike, or differ
    only in case, share it. What draws nothing is left out and gaps are one
    space (`papo.core.visible`), then the confusable skeleton is taken
    (`papo.core.names`)."""
    return skeleton_key(visible.form(name))


def same_name(a: str, b: str) -> bool:
    """Whether two names are the same but for case, Unicode form and what draws
    nothing (not merely alike)."""
    return _plain(a) == _plain(b)


def _plain(name: str) -> str:
    return unicodedata.normalize("NFKC", visible.form(name)).casefold()


def reserved_key(name: str) -> str:
    """The letters and digits of a name's key: what a name is compared by with
    the reserved ones, so that marks, punctuation, symbols and gaps do not
    make another name of `Bot` (`B\u0336ot`, `Bot\u0301`, `Bot.`, `B o t`)."""
    return "".join(ch for ch in name_key(name) if unicodedata.category(ch)[0] in "LN")


@functools.cache
def _reserved_keys() -> frozenset[str]:
    return frozenset(map(reserved_key, RESERVED_NAMES))


def check_name(raw: str, limits: Limits) -> str:
    """The name as papo will show it, or a Refusal saying what is wrong. It is
    shown as it shows anyway (`papo.core.visible.form`): without what draws
    nothing, each gap one plain space, so that no name holds a character that
    some screens draw and others do not."""
    typed = visible.trim(unicodedata.normalize("NFC", raw))
    if len(typed) > limits.max_name_length:
        raise Refusal(ErrorCode.NAME_TOO_LONG, limit=limits.max_name_length)
    if any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in typed):
        raise Refusal(ErrorCode.NAME_INVALID_CHARACTERS)
    name = visible.form(typed)
    if not name:
        raise Refusal(ErrorCode.NAME_EMPTY)
    if not visible.has_letter_or_digit(name):
        raise Refusal(ErrorCode.NAME_NO_LETTERS)
    if not _COLONS.isdisjoint(name) or ":" in unicodedata.normalize("NFKC", name):
        raise Refusal(ErrorCode.NAME_HAS_COLON)
    if mixes_scripts(name):
        raise Refusal(ErrorCode.NAME_MIXED_SCRIPTS)
    if reserved_key(name) in _reserved_keys():
        raise Refusal(ErrorCode.NAME_RESERVED, name=name)
    return name


def fit_name(raw: str, limits: Limits) -> str | None:
    """A name papo accepts, made from a display name given elsewhere (an
    identity provider's claim, which papo's rules did not shape): characters
    no name may hold go, colons become spaces, spaces run together, and it is
    cut to the limit, at a word's end when one is near. None when nothing
    acceptable is left (no letters, scripts mixed, a reserved name)."""
    kept = (
        " " if ch in _COLONS or ":" in unicodedata.normalize("NFKC", ch) else ch
        for ch in unicodedata.normalize("NFC", raw)
        if unicodedata.category(ch) not in _FORBIDDEN_CATEGORIES
    )
    name = " ".join("".join(kept).split())
    limit = limits.max_name_length
    if len(name) > limit:
        words = name[: limit + 1].rsplit(" ", 1)[0]
        name = words if len(words) >= limit // 2 else name[:limit].rstrip()
    try:
        return check_name(name, limits)
    except Refusal:
        return None


def check_message(text: str, limits: Limits) -> str:
    """The message as sent, or a Refusal if it is too long, holds a control
    character, or shows nothing."""
    return _check_text(text, limits.max_message_length, ErrorCode.MESSAGE_TOO_LONG)


_CONTROLS_IN_TEXT = frozenset("\t\n\r")
"""The control characters a message may hold: tabs and line breaks."""


def _check_text(text: str, limit: int, too_long: ErrorCode) -> str:
    if len(text) > limit:
        raise Refusal(too_long, limit=limit)
    if not text.isprintable() and any(
        unicodedata.category(ch) == "Cc" and ch not in _CONTROLS_IN_TEXT for ch in text
    ):
        raise Refusal(ErrorCode.MESSAGE_INVALID_CHARACTERS)
    if not visible.shows_anything(text):
        raise Refusal(ErrorCode.MESSAGE_EMPTY)
    return text


DEFAULT_SYSTEM_PROMPT = (
    "You are Bot, a helpful participant in a group chat. Messages from people come as "
    '"Name: text". Answer the last question briefly and plainly, in the language it was '
    "asked in."
)

CATCH_UP_PROMPT = (
    'Below are lines of the group chat that {name} missed, as "Name: text". '
    "Summarise them for {name}: who said what that matters, decisions, questions left "
    "open. Be brief, and write in the language the lines are in."
)
"""What the bot is told, after its system prompt, when it summarises lines for someone."""

MAX_ANSWER_TOKENS = 8000
"""A whole answer goes out in one frame, and a frame has at most 128 KB."""


class BotRules(msgspec.Struct, frozen=True):
    """How the bot behaves and what it may cost."""

    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    max_question_length: int = 1000
    questions_per_minute: int = 5
    daily_tokens: int = 200_000
    max_answer_tokens: int = 800
    memory_tokens: int = 3000
    memory_messages: int = 40
    answer_lock_ms: int = 5 * 60 * 1000
    """How long an answer may hold its asker's turn if it never ends (a crash)."""
    stop_check_ms: int = 500
    """How often a streaming answer looks in the store for its asker's stop."""
    catch_up_messages: int = 200
    """The most lines a summary of what someone missed is made from (`catchUp`)."""
    person_daily_tokens: int = 50_000
    """Each person's tokens a UTC day, within the room's (0: no share of their own)."""
    models: tuple[str, ...] = ()
    """The models a room's owner may choose, beside the configured one."""
    moderation: str = "off"
    """What OpenAI's moderation checks: `off`, `questions` (questions to the bot,
    and its answers as they stream), or `messages` (every public message too)."""

    @property
    def reservation(self) -> int:
        """Tokens set aside from the daily budget for one answer, before it starts."""
        return self.memory_tokens + self.max_answer_tokens


class HistoryRules(msgspec.Struct, frozen=True):
    """What the room keeps of its public messages, for newcomers and the bot."""

    messages: int = 50
    """Recent public messages a newcomer is sent."""
    ttl_ms: int = 24 * 60 * 60 * 1000
    """How long a public message is kept."""


class StreamingRules(msgspec.Struct, frozen=True):
    """How a streaming answer is gathered into posts (see `papo.core.coalesce`)."""

    interval_ms: int = 250
    min_chars: int = 60
    max_wait_ms: int = 1000
    max_chars: int = 4000


class JoinRules(msgspec.Struct, frozen=True):
    """How a big room hears who is here when many join at once. A change of
    who is here tells everyone at once, unless the room has `from_members`
    people or more and was told less than `window_ms` ago: then it waits for
    that window to end, and tells only if no later change came meanwhile
    (the later one's list has both). So people joining together cost the room
    a members frame each per window, not one per join, and a storm that never
    pauses is told once a window. A smaller room, where a join costs little,
    hears every change as it happens; a window of 0 tells every change at once."""

    window_ms: int = 150
    from_members: int = 20


class RateRules(msgspec.Struct, frozen=True):
    """How much one connection may say: a burst, and a steady rate."""

    burst: int = 10
    """Frames in any `burst_window_ms`."""
    burst_window_ms: int = 10_000
    per_minute: int = 60


class ResumeRules(msgspec.Struct, frozen=True):
    """How long a person may come back as themselves."""

    token_ttl_ms: int = 12 * 60 * 60 * 1000
    """A resume token expires this long after it was last used."""
    grace_ms: int = 2 * 60 * 1000
    """A resumable person whose connection ends is away this long before the
    room hears they left; resuming within it, nobody sees them leave or join."""
    ownership_ms: int = 30 * 24 * 60 * 60 * 1000
    """A name taken by an identity (`PAPO_AUTH` on) stays that identity's this long."""


class EditRules(msgspec.Struct, frozen=True):
    """What may change of a line after it was said."""

    window_ms: int = 15 * 60 * 1000
    """How long after sending it its sender may edit a message; 0: never.
    Deleting one's own message has no window: it lasts as long as the line."""
    reactions_per_line: int = 20
    """Different emoji a line holds at most."""


class PresenceRules(msgspec.Struct, frozen=True):
    """How often people may say they are typing, and in which rooms it is told.

    Each `typing` frame relayed is an invocation and a post to each person in
    the room (see docs/costs.md): a typist relayed once every `typing_interval_ms`
    costs a room of N people some 20 N posts a minute, which is why a room of more
    than `typing_up_to` people is not told (a big room's count of people is
    coalesced for the same reason, `JoinRules`)."""

    typing_interval_ms: int = 3_000
    """The least time between two `typing` frames of a connection that are relayed."""
    typing_up_to: int = 20
    """The most people a room may have for typing to be told in it."""


class Rules(msgspec.Struct, frozen=True):
    """Every rule of the room, handed to the chat core whole (built by
    `papo.settings.Settings` from the environment, or by a test)."""

    limits: Limits = msgspec.field(default_factory=Limits)
    bot: BotRules = msgspec.field(default_factory=BotRules)
    history: HistoryRules = msgspec.field(default_factory=HistoryRules)
    streaming: StreamingRules = msgspec.field(default_factory=StreamingRules)
    resume: ResumeRules = msgspec.field(default_factory=ResumeRules)
    rate: RateRules = msgspec.field(default_factory=RateRules)
    joins: JoinRules = msgspec.field(default_factory=JoinRules)
    edits: EditRules = msgspec.field(default_factory=EditRules)
    presence: PresenceRules = msgspec.field(default_factory=PresenceRules)


def check_question(text: str, rules: BotRules) -> str:
    """The question as asked, or a Refusal as for a message."""
    return _check_text(text, rules.max_question_length, ErrorCode.QUESTION_TOO_LONG)
