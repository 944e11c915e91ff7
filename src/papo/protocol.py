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
    BOT_UNAVAILABLE = "bot_unavailable"
    NOT_CONNECTED = "not_connected"


class BadFrame(Exception):
    """A client frame papo cannot act on; carries what to tell the sender."""

    def __init__(self, code: ErrorCode, **details: object) -> None:
        super().__init__(code.value)
        self.code = code
        self.details = details


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


def public_frame(sender: str, text: str, *, msg_id: str, ts: int) -> bytes:
    return _encode(
        {
            "publicMessage": f"{sender}: {text}",
            "type": "public",
            "from": sender,
            "text": text,
            "id": msg_id,
            "ts": ts,
        }
    )


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


def error_frame(code: ErrorCode, message: str, *, action: str | None) -> bytes:
    frame: dict[str, Any] = {"error": message, "code": code.value, "type": "error"}
    if action is not None:
        frame["action"] = action
    return _encode(frame)
