"""Editing and deleting one's own public messages (`edit`, `delete`).

The line is changed where the room keeps it: its frame in the stream and the
message history and the bot's memory read. Every path that shows a line then
shows its latest version, marked (`editedAt`, or `deletedAt` with a
placeholder instead of the text), and the bot remembers no deleted text. The
version an edit or a delete replaces is kept beside the line, as long as it,
for the operator (`papo versions`). Everyone here is told at once, in a frame of
the room's stream (`edited`, `deleted`), which a client that was away gets
with what it missed: the course's clients, which read only their four keys,
see no line twice.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec.structs

from papo.core import protocol
from papo.core.authors import author_of
from papo.core.changing import message_of, named_line, rewritten, tell
from papo.core.ports import Connection, KeptLine, LineChange, LoggedMessage
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room
from papo.core.rules import check_message

_MINUTE_MS = 60_000


def edit(room: Room, actor: Actor, payload: Payload) -> None:
    """`edit`: the sender's public message at `offset` (or with `id`) now says `message`."""
    text = check_message(protocol.text_field(payload, "edit", "message"), room.rules.limits)
    connection = room.joined(actor.connection_id)
    offset = named_line(room, "edit", payload)
    now, window = room.clock(), room.rules.edits.window_ms

    def change(line: KeptLine) -> LineChange:
        message = _own(line, connection)
        if now - message.ts > window:
            raise Refusal(ErrorCode.EDIT_WINDOW_CLOSED, minutes=window // _MINUTE_MS)
        frame = rewritten(
            line.frame, publicMessage=f"{message.sender}: {text}", text=text, editedAt=now
        )
        edited = msgspec.structs.replace(message, text=text, edited_at=now)
        return LineChange(frame, edited, keeps_earlier=True)

    _change(room, offset, change)
    tell(
        room,
        offset,
        lambda m, at: protocol.edited_frame(
            offset, m.text, msg_id=m.msg_id, sender=m.sender, ts=m.edited_at or now, offset=at
        ),
    )


def delete(room: Room, actor: Actor, payload: Payload) -> None:
    """`delete`: the sender's public message at `offset` (or with `id`) is gone;
    a placeholder stands in its place, without its reactions."""
    connection = room.joined(actor.connection_id)
    offset = named_line(room, "delete", payload)
    now = room.clock()
    placeholder = room.texts.deleted()

    def change(line: KeptLine) -> LineChange:
        message = _own(line, connection)
        frame = rewritten(
            line.frame,
            drop=("editedAt", "reactions"),
            publicMessage=f"{message.sender}: {placeholder}",
            text="",
            deletedAt=now,
        )
        deleted = msgspec.structs.replace(
            message, text="", edited_at=now, deleted=True, reactions=()
        )
        return LineChange(frame, deleted, keeps_earlier=True)

    _change(room, offset, change)
    tell(room, offset)


def _own(line: KeptLine, connection: Connection) -> LoggedMessage:
    """The line's message, if the person on `connection` said it."""
    if line.message is None or line.message.by_bot:
        raise Refusal(ErrorCode.NOT_YOUR_LINE)
    message = message_of(line)
    if message.author != author_of(connection):
        raise Refusal(ErrorCode.NOT_YOUR_LINE)
    return message


def _change(room: Room, offset: int, change: Callable[[KeptLine], LineChange]) -> LineChange:
    changed = room.store.change_line(offset, change)
    if changed is None:
        raise Refusal(ErrorCode.LINE_NOT_FOUND, line=offset)
    return changed
