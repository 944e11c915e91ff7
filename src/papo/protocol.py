"""papo's wire protocol: reading client frames and writing server frames.

Server frames keep the course's four keys (`members`, `systemMessage`,
`publicMessage`, `privateMessage`) in their original form, first in the
object, with structured fields beside them for newer clients. Errors use a
key of their own (`error`), so older clients ignore them.
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec

ACTIONS = ("setName", "sendPublic", "sendPrivate", "sendBot")

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class ErrorCode(enum.StrEnum):
    """Stable machine codes of the error frames; clients may rely on them."""

    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_ACTION = "unknown_action"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    NAME_EMPTY = "name_empty"
    NAME_TOO_LONG = "name_too_long"
    NAME_INVALID_CHARACTERS = "name_invalid_characters"
    NAME_RESERVED = "name_reserved"
    NAME_TAKEN = "name_taken"
    NOT_JOINED = "not_joined"
    MESSAGE_EMPTY = "message_empty"
    MESSAGE_TOO_LONG = "message_too_long"
    UNKNOWN_RECIPIENT = "unknown_recipient"
    NOT_CONNECTED = "not_connected"
    QUESTION_TOO_LONG = "question_too_long"
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


class BadFrame(Exception):
    """A client frame papo cannot act on; carries what to tell the sender."""

    def __init__(
        self, code: ErrorCode, *, fields: dict[str, str | int] | None = None, **details: object
    ) -> None:
        super().__init__(code.value)
        self.code = code
        self.details = details
        self.fields = fields or {}
        """Structured fields for the error frame, such as `retryAfter`."""


def parse(body: str | bytes | None) -> dict[str, Any]:
    """Decodes a client frame into its JSON object."""
    try:
        payload = _decode(body or b"")
    except msgspec.DecodeError:
        raise BadFrame(ErrorCode.INVALID_JSON) from None
    if not isinstance(payload, dict):
        raise BadFrame(ErrorCode.NOT_AN_OBJECT)
    return payload


def text_field(payload: dict[str, Any], action: str, field: str) -> str:
    """The string field `field` of an `action` frame."""
    if field not in payload:
        raise BadFrame(ErrorCode.MISSING_FIELD, action=action, field=field)
    value = payload[field]
    if not isinstance(value, str):
        raise BadFrame(ErrorCode.INVALID_FIELD, action=action, field=field)
    return value


def members_frame(names: list[str], ts: int) -> bytes:
    return _encode({"members": names, "type": "members", "ts": ts})


def system_frame(
    text: str, *, event: str, name: str, msg_id: str, ts: int, previous: str | None = None
) -> bytes:
    frame: dict[str, Any] = {
        "systemMessage": text,
        "type": "system",
        "event": event,
        "name": name,
        "id": msg_id,
        "ts": ts,
    }
    if previous is not None:
        frame["previousName"] = previous
    return _encode(frame)


def public_frame(sender: str, text: str, *, msg_id: str, ts: int, **answer: str | None) -> bytes:
    """A public message; `answer` links a bot question or answer (`answerId`,
    `questionId`, `status`) for clients that show answers as they stream."""
    frame: dict[str, Any] = {
        "publicMessage": f"{sender}: {text}",
        "type": "public",
        "from": sender,
        "text": text,
        "id": msg_id,
        "ts": ts,
    }
    frame.update((key, value) for key, value in answer.items() if value is not None)
    return _encode(frame)


def bot_delta_frame(
    text: str, *, answer_id: str, question_id: str, seq: int, sender: str, ts: int
) -> bytes:
    """A piece of a bot answer as it streams, under a key old clients ignore.

    Appending the pieces in `seq` order gives the text of the final frame.
    """
    return _encode(
        {
            "botDelta": text,
            "type": "botDelta",
            "from": sender,
            "answerId": answer_id,
            "questionId": question_id,
            "seq": seq,
            "ts": ts,
        }
    )


MAX_POST_BYTES = 128 * 1024
"""The most API Gateway's Management API posts in one frame."""


def history_frame(
    messages: list[dict[str, Any]], ts: int, max_bytes: int = MAX_POST_BYTES
) -> bytes:
    """The room's recent public messages, oldest first, for someone who just joined;
    the oldest are left out as needed to keep the frame within `max_bytes`."""
    sizes = [len(_encode(m)) + 1 for m in messages]
    room = max_bytes - len(_encode({"history": [], "type": "history", "ts": ts}))
    first = len(messages)
    while first > 0 and sizes[first - 1] <= room:
        first -= 1
        room -= sizes[first]
    return _encode({"history": messages[first:], "type": "history", "ts": ts})


def private_frame(sender: str, recipient: str, text: str, *, msg_id: str, ts: int) -> bytes:
    return _encode(
        {
            "privateMessage": f"{sender}: {text}",
            "type": "private",
            "from": sender,
            "to": recipient,
            "text": text,
            "id": msg_id,
            "ts": ts,
        }
    )


def error_frame(
    code: ErrorCode, message: str, *, action: str | None, **extra: str | int | None
) -> bytes:
    """An error for one sender; `extra` may say when to retry (`retryAfter`, in
    seconds) or which answer failed (`answerId`, `questionId`)."""
    frame: dict[str, Any] = {"error": message, "code": code.value, "type": "error"}
    if action is not None:
        frame["action"] = action
    frame.update((key, value) for key, value in extra.items() if value is not None)
    return _encode(frame)
