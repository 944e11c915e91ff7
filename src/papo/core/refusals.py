"""Refusals: what the core says no to, apart from how it is said.

Rules and limits raise a `Refusal` with a stable machine code, the details
its sentence needs, and, where waiting helps, how long to wait. Turning it
into words and a frame is `papo.core.render`'s job, in the reader's language.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    """Stable machine codes of the error frames; clients may rely on them."""

    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_ACTION = "unknown_action"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    NAME_EMPTY = "name_empty"
    NAME_TOO_LONG = "name_too_long"
    NAME_NO_LETTERS = "name_no_letters"
    NAME_INVALID_CHARACTERS = "name_invalid_characters"
    NAME_HAS_COLON = "name_has_colon"
    NAME_MIXED_SCRIPTS = "name_mixed_scripts"
    NAME_RESERVED = "name_reserved"
    NAME_TAKEN = "name_taken"
    NAME_CONFUSABLE = "name_confusable"
    NAME_OWNED = "name_owned"
    NAME_BOUND = "name_bound"
    TAKEN_OVER = "taken_over"
    """Not a refusal of what was asked: the connection's name was taken by
    another device of the same identity, and it is closed."""
    NOT_JOINED = "not_joined"
    MESSAGE_EMPTY = "message_empty"
    MESSAGE_TOO_LONG = "message_too_long"
    MESSAGE_INVALID_CHARACTERS = "message_invalid_characters"
    UNKNOWN_RECIPIENT = "unknown_recipient"
    NOT_CONNECTED = "not_connected"
    RESUME_INVALID = "resume_invalid"
    QUESTION_TOO_LONG = "question_too_long"
    RATE_LIMITED = "rate_limited"
    BOT_NOT_CONFIGURED = "bot_not_configured"
    BOT_BUSY = "bot_busy"
    BOT_RATE_LIMITED = "bot_rate_limited"
    BOT_BUDGET_EXHAUSTED = "bot_budget_exhausted"
    BOT_UNAVAILABLE = "bot_unavailable"
    BOT_UPSTREAM_UNAUTHORIZED = "bot_upstream_unauthorized"
    BOT_UPSTREAM_RATE_LIMITED = "bot_upstream_rate_limited"
    BOT_UPSTREAM_REFUSED = "bot_upstream_refused"
    BOT_UPSTREAM_FAILED = "bot_upstream_failed"
    BOT_TIMEOUT = "bot_timeout"
    BOT_INTERRUPTED = "bot_interrupted"
    LINE_NOT_FOUND = "line_not_found"
    NOT_YOUR_LINE = "not_your_line"
    EDIT_WINDOW_CLOSED = "edit_window_closed"
    REACTION_NOT_EMOJI = "reaction_not_emoji"
    REACTIONS_FULL = "reactions_full"
    UNKNOWN_OFFSET = "unknown_offset"
    NO_READER = "no_reader"
    UNKNOWN_ANSWER = "unknown_answer"
    NOT_YOUR_ANSWER = "not_your_answer"
    ANSWER_ENDED = "answer_ended"
    NOTHING_TO_CATCH_UP = "nothing_to_catch_up"
    BOT_PERSON_BUDGET_EXHAUSTED = "bot_person_budget_exhausted"
    QUESTION_FLAGGED = "question_flagged"
    MESSAGE_FLAGGED = "message_flagged"
    ANSWER_FLAGGED = "answer_flagged"
    NOT_ROOM_OWNER = "not_room_owner"
    MODEL_NOT_ALLOWED = "model_not_allowed"


class Refusal(Exception):
    """Something papo will not do, and why: `code`, the `details` its sentence
    names (a limit, a name, a field), and `retry_after_s` when waiting helps."""

    def __init__(
        self, code: ErrorCode, *, retry_after_s: int | None = None, **details: str | int
    ) -> None:
        super().__init__(code.value)
        self.code = code
        self.retry_after_s = retry_after_s
        self.details = details
