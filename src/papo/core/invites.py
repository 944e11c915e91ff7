"""Invite links: a signed token that lets its holder into one room, until it
expires, optionally under one name only.

A token is `payload.signature`, both base64url: the payload is compact JSON
(`id`, `exp` in epoch seconds, `room`, and `name` when the invite is for one
name), the signature its HMAC-SHA256 under the server's secret, compared in
constant time. Nothing is stored: the secret alone tells a good token from a
forged or altered one. A token without `room` (made before rooms) is for
`main`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace

from papo.core.rooms import OWNER, ROOM_DEFAULT, room_name


class InvalidInvite(Exception):
    """The token is malformed, forged, altered, or expired."""


@dataclass(frozen=True, slots=True)
class Invite:
    invite_id: str
    expires_at: int
    """Epoch seconds."""
    name: str | None = None
    """The one name its holder may take, if any."""
    room: str = ROOM_DEFAULT
    """The room it lets its holder into."""
    role: str | None = None
    """`owner`: its holder may set the room's bot (its persona, its model)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


def make_invite(
    secret: bytes,
    *,
    expires_at: int,
    name: str | None = None,
    room: str | None = None,
    role: str | None = None,
) -> str:
    """A token for a new invite, valid until `expires_at` (epoch seconds), into
    `room` (its name folded; ValueError when it is no room's name) or, without
    one, `main` as before rooms."""
    # Hex: an id never begins with "-", which a command line would read as an option.
    claims: dict[str, object] = {"id": secrets.token_hex(9), "exp": expires_at}
    if room is not None:
        claims["room"] = room_name(room)
    if name is not None:
        claims["name"] = name
    if role is not None:
        claims["role"] = role
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{payload}.{_sign(secret, payload)}"


def read_invite(secret: bytes, token: str, now_s: int) -> Invite:
    """The invite a token carries, or InvalidInvite."""
    if not token.isascii():  # papo's invites are base64url: anything else is not one
        raise InvalidInvite("bad signature")
    payload, _, signature = token.partition(".")
    if not payload or not hmac.compare_digest(signature, _sign(secret, payload)):
        raise InvalidInvite("bad signature")
    try:
        claims = json.loads(_unb64(payload))
        invite = Invite(str(claims["id"]), int(claims["exp"]), claims.get("name"))
    except (ValueError, KeyError, TypeError, OverflowError) as error:  # `exp` Infinity, say
        raise InvalidInvite("bad payload") from error
    if invite.name is not None and not isinstance(invite.name, str):
        raise InvalidInvite("bad name")
    room = claims.get("room", ROOM_DEFAULT)  # none before rooms: main
    try:
        if not isinstance(room, str) or not room:
            raise ValueError(room)
        invite = replace(invite, room=room_name(room))
    except ValueError as error:
        raise InvalidInvite("bad room") from error
    role = claims.get("role")
    if role is not None and role != OWNER:
        raise InvalidInvite("bad role")
    invite = replace(invite, role=role)
    if invite.expires_at <= now_s:
        raise InvalidInvite("expired")
    return invite
