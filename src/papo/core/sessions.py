"""Resumable sessions: their tokens, and what a client missed.

A resume token is `session id.secret`: the secret is 256 random bits, and the
store keeps only its SHA-256, compared in constant time. What a client missed
is read from the room's stream and the session's own, after the offsets it
names, a page at a time.

hashlib, hmac and secrets are imported by the routes that use a token, not
with the handler: most routes never do, and OpenSSL's hashes are a
noticeable part of a cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from papo.core import protocol
from papo.core.ports import RoomStream, Session, Sessions

_PAGE = 500


class Streams(RoomStream, Sessions, Protocol):
    """The room's stream and the sessions' streams: where missed frames are read."""


def _hash(secret: str) -> str:
    import hashlib

    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(session_id: str) -> tuple[str, str]:
    """A fresh resume token for a session, and the hash the store keeps of it."""
    import secrets

    secret = secrets.token_urlsafe(32)
    return f"{session_id}.{secret}", _hash(secret)


def session_id_of(token: str) -> str:
    return token.partition(".")[0]


def token_matches(token: str, session: Session) -> bool:
    import hmac

    _, _, secret = token.partition(".")
    return hmac.compare_digest(_hash(secret), session.token_hash)


def open_session(
    streams: Streams, session_id: str, name: str, connection_id: str, now: int, ttl_ms: int
) -> bytes:
    """Gives a joiner a fresh resume token for its session (the store keeps
    only its hash); returns the frame that hands it over."""
    token, token_hash = new_token(session_id)
    streams.save_session(Session(session_id, token_hash, name, connection_id, now + ttl_ms))
    return protocol.session_frame(
        token, name=name, offset=streams.last_offset(), private_offset=0, ts=now
    )


def missed(
    streams: Streams, offset: int, session: str | None, private_offset: int, now: int
) -> list[bytes]:
    """The `missed` frames that carry what came after `offset` in the room's
    stream and after `private_offset` in the session's own."""
    room = _all(lambda after: streams.frames_after(after, _PAGE), offset)
    private: list[bytes] = []
    if session is not None:
        private = _all(
            lambda after: streams.private_frames_after(session, after, _PAGE), private_offset
        )
    return protocol.missed_frames(room, private, now)


def _all(page: Callable[[int], list[tuple[int, bytes]]], after: int) -> list[bytes]:
    frames: list[bytes] = []
    while batch := page(after):
        frames.extend(frame for _, frame in batch)
        after = batch[-1][0]
        if len(batch) < _PAGE:
            break
    return frames
