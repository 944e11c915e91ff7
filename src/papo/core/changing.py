"""What edits, deletes and reactions share: finding the line a frame names,
by its offset or its message's id, and rewriting its kept frame."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from papo.core import protocol
from papo.core.ports import KeptLine, LoggedMessage
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Payload, Room

_decode = msgspec.json.Decoder(dict[str, Any]).decode
_encode = msgspec.json.Encoder().encode


def named_line(room: Room, action: str, payload: Payload) -> int:
    """The offset of the line a frame names: its `offset`, or its message's `id`."""
    if "offset" in payload:
        offset = protocol.optional_int(payload, action, "offset")
        if offset == 0:
            raise Refusal(ErrorCode.LINE_NOT_FOUND, line=0)
        return offset
    if "id" not in payload:
        raise Refusal(ErrorCode.MISSING_FIELD, action=action, field="offset")
    msg_id = protocol.text_field(payload, action, "id")
    found = room.store.offset_of(msg_id)
    if found is None:
        raise Refusal(ErrorCode.LINE_NOT_FOUND, line=msg_id)
    return found


def message_of(line: KeptLine) -> LoggedMessage:
    """The public message a line carries, unless it is a system line or was deleted."""
    if line.message is None or line.message.deleted:
        raise Refusal(ErrorCode.LINE_NOT_FOUND, line=line.offset)
    return line.message


def rewritten(frame: bytes, drop: tuple[str, ...] = (), **fields: Any) -> bytes:
    """A kept frame with `fields` in place of its own and the keys `drop` left
    out; the rest (an answer's ids, its status) as it was."""
    kept = _decode(frame)
    for key in drop:
        kept.pop(key, None)
    kept.update(fields)
    return _encode(kept)


FrameOf = Callable[[LoggedMessage, int], bytes]
"""A change's frame, told of the line's message as it is, at the offset given."""


def tell(room: Room, offset: int, frame_of: FrameOf | None = None) -> None:
    """Tells everyone here of a change to the line at `offset`, in a frame of the
    room's stream built from the line as it is once the frame has its offset.

    Changes of one line made at once take their offsets in any order; built
    from what each changed, an earlier state could come at the later offset
    and stay (two reactions at once, each frame listing only its own). Read
    after the offset is taken, the frame at the highest offset has seen every
    change that took one before it: the last a client applies is the line as
    it is. A line deleted meanwhile (or without `frame_of`, by this change) is
    told as deleted."""

    def build(at: int) -> bytes:
        line = room.store.line(offset)
        message = line.message if line is not None else None
        if message is None:  # expired meanwhile: nothing left to tell of it
            return protocol.deleted_frame(offset, msg_id="", sender="", ts=room.clock(), offset=at)
        if message.deleted or frame_of is None:
            return protocol.deleted_frame(
                offset,
                msg_id=message.msg_id,
                sender=message.sender,
                ts=message.edited_at or room.clock(),
                offset=at,
            )
        return frame_of(message, at)

    _, frame = room.publish(build)
    room.broadcast(room.audience(), frame)
