"""papo's wire protocol: reading client frames and writing server frames.

Server frames keep the course's four keys (`members`, `systemMessage`,
`publicMessage`, `privateMessage`) in their original form, with structured
fields beside them for newer clients. Errors use a key of their own
(`error`, with `code`), which papo's own client reads; a refusal the person
must see also carries its sentence as a `systemMessage`, which the course's
clients display.

This module knows the shape of frames, not what they say: sentences come
from `papo.core.texts`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from papo.core.ports import LoggedMessage, Reaction
from papo.core.refusals import ErrorCode, Refusal

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


def parse(body: str | bytes | None) -> dict[str, Any]:
    """Decodes a client frame into its JSON object."""
    try:
        payload = _decode(body or b"")
    except (msgspec.DecodeError, RecursionError):
        # Nested deeper than the decoder goes (some hundreds of levels): no frame is.
        raise Refusal(ErrorCode.INVALID_JSON) from None
    if not isinstance(payload, dict):
        raise Refusal(ErrorCode.NOT_AN_OBJECT)
    return payload


def text_field(payload: dict[str, Any], action: str, field: str) -> str:
    """The string field `field` of an `action` frame."""
    if field not in payload:
        raise Refusal(ErrorCode.MISSING_FIELD, action=action, field=field)
    value = payload[field]
    if not isinstance(value, str):
        raise Refusal(ErrorCode.INVALID_FIELD, action=action, field=field, expected="text")
    return value


MAX_WHOLE_NUMBER = 2**53 - 1
"""The largest whole number a frame may carry: the largest every JSON reader
holds exactly (JavaScript's `Number.MAX_SAFE_INTEGER`), far past any offset
papo gives, and within what SQLite and DynamoDB store."""


def optional_int(payload: dict[str, Any], action: str, field: str) -> int:
    """A whole number field from 0 to `MAX_WHOLE_NUMBER`, or 0 when absent."""
    value = payload.get(field, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WHOLE_NUMBER:
        raise Refusal(
            ErrorCode.INVALID_FIELD,
            action=action,
            field=field,
            expected="number",
            most=MAX_WHOLE_NUMBER,
        )
    return value


def members_frame(names: list[str], ts: int, as_of: int | None = None) -> bytes:
    """Everyone in the room; `asOf` is the offset of the room's stream it reflects,
    so a client keeps the list of the highest `asOf` whatever order they come in."""
    frame: dict[str, Any] = {"members": names, "type": "members", "ts": ts}
    if as_of is not None:
        frame["asOf"] = as_of
    return _encode(frame)


def system_frame(
    text: str,
    *,
    event: str,
    name: str,
    msg_id: str,
    ts: int,
    previous: str | None = None,
    offset: int | None = None,
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
    if offset is not None:
        frame["offset"] = offset
    return _encode(frame)


def public_frame(
    sender: str,
    text: str,
    *,
    msg_id: str,
    ts: int,
    offset: int | None = None,
    **answer: str | None,
) -> bytes:
    """A public message at `offset` of the room's stream; `answer` links a bot
    question or answer (`answerId`, `questionId`, `status`) for clients that
    show answers as they stream."""
    frame: dict[str, Any] = {
        "publicMessage": f"{sender}: {text}",
        "type": "public",
        "from": sender,
        "text": text,
        "id": msg_id,
        "ts": ts,
    }
    if offset is not None:
        frame["offset"] = offset
    frame.update((key, value) for key, value in answer.items() if value is not None)
    return _encode(frame)


def bot_delta_frame(
    text: str,
    *,
    answer_id: str,
    question_id: str,
    seq: int,
    sender: str,
    ts: int,
    so_far: bool = False,
) -> bytes:
    """A piece of a bot answer as it streams, under a key old clients ignore.

    Appending the pieces in `seq` order gives the text of the final frame. A
    reader who came in while it streamed (resumed, joined) gets instead the
    whole text up to `seq` at once, marked `soFar`, and the pieces after it.
    """
    frame: dict[str, Any] = {
        "botDelta": text,
        "type": "botDelta",
        "from": sender,
        "answerId": answer_id,
        "questionId": question_id,
        "seq": seq,
        "ts": ts,
    }
    if so_far:
        frame["soFar"] = True
    return _encode(frame)


def summary_frame(
    text: str,
    *,
    recipient: str,
    answer_id: str,
    covers: tuple[int, int],
    status: str,
    ts: int,
    private_offset: int | None = None,
) -> bytes:
    """A summary of the room's lines `covers` (first and last offsets) for its
    asker alone: a `privateMessage` from `Bot`, which the course's clients
    show, placed `after` the last line it covers."""
    frame: dict[str, Any] = {
        "privateMessage": f"Bot: {text}",
        "type": "private",
        "from": "Bot",
        "to": recipient,
        "text": text,
        "id": answer_id,
        "ts": ts,
        "after": covers[1],
        "answerId": answer_id,
        "status": status,
        "covers": {"from": covers[0], "to": covers[1]},
    }
    if private_offset is not None:
        frame["privateOffset"] = private_offset
    return _encode(frame)


def persona_frame(persona: str | None, *, model: str | None, by: str | None, ts: int) -> bytes:
    """The room's own bot: its persona (None: the server's) and model (None:
    the server's), and who set them (None: the operator)."""
    return _encode({"persona": persona, "type": "persona", "model": model, "by": by, "ts": ts})


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


def private_frame(
    sender: str,
    recipient: str,
    text: str,
    *,
    msg_id: str,
    ts: int,
    private_offset: int | None = None,
    room_offset: int = 0,
) -> bytes:
    """A private message; `privateOffset` is its place in its reader's own
    stream, `after` the room's offset when it was sent (to place it among
    the room's lines)."""
    frame: dict[str, Any] = {
        "privateMessage": f"{sender}: {text}",
        "type": "private",
        "from": sender,
        "to": recipient,
        "text": text,
        "id": msg_id,
        "ts": ts,
        "after": room_offset,
    }
    if private_offset is not None:
        frame["privateOffset"] = private_offset
    return _encode(frame)


def session_frame(token: str, *, name: str, offset: int, private_offset: int, ts: int) -> bytes:
    """The resume token of a resumable joiner, and where its streams stand."""
    return _encode(
        {
            "resumeToken": token,
            "type": "session",
            "name": name,
            "offset": offset,
            "privateOffset": private_offset,
            "ts": ts,
        }
    )


def missed_frames(
    room: list[bytes], private: list[bytes], ts: int, max_bytes: int = MAX_POST_BYTES
) -> list[bytes]:
    """What a client missed, as few `missed` frames as fit in posts of `max_bytes`:
    the room's frames in offset order, then its private ones; the last says
    `complete`. The stored frames are spliced in as they are, not re-encoded."""
    head = b'{"missed":['
    items = [*room, *private]
    posts: list[bytes] = []
    batch: list[bytes] = []
    size = len(head) + 64
    for item in items:
        if batch and size + len(item) + 1 > max_bytes:
            posts.append(_missed(batch, ts, complete=False))
            batch, size = [], len(head) + 64
        batch.append(item)
        size += len(item) + 1
    posts.append(_missed(batch, ts, complete=True))
    return posts


def _missed(batch: list[bytes], ts: int, *, complete: bool) -> bytes:
    tail = f'],"type":"missed","complete":{"true" if complete else "false"},"ts":{ts}}}'
    return b'{"missed":[' + b",".join(batch) + tail.encode()


def lines_frames(
    items: list[tuple[int, bytes]],
    span: tuple[int, int],
    asked: dict[str, int],
    *,
    backward: bool,
    start: bool,
    end: bool,
    ts: int,
    max_bytes: int = MAX_POST_BYTES,
) -> list[bytes]:
    """The answer to `lines`: `items` (each frame with the room offset it is
    placed at, in the room's order) in `lines` frames of at most `max_bytes`,
    each saying the span of offsets it holds whole (`from`, `to`). The first
    post is the one nearest the asker's lines (the newest when reading
    `backward`), each next one adjoins it, and the last says `complete`; the
    oldest says `start` when the room keeps nothing earlier, the newest
    `end` when it had nothing later. Each repeats what was `asked` (`before`,
    `after`), so the client tells the answer it waits for from an older one."""
    budget = max_bytes - 200  # the keys around the items
    chunks: list[list[tuple[int, bytes]]] = [[]]
    size = 0
    for item in reversed(items) if backward else items:
        if chunks[-1] and size + len(item[1]) + 1 > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += len(item[1]) + 1
    low, high = span
    posts: list[bytes] = []
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        if backward:
            chunk.reverse()
            # A place shared with the next (older) post is that post's to hold whole.
            first = low if last else chunk[0][0] + (chunk[0][0] == chunks[index + 1][0][0])
            post_span, high = (first, high), first - 1
        else:
            top = high if last else chunk[-1][0] - (chunk[-1][0] == chunks[index + 1][0][0])
            post_span, low = (low, top), top + 1
        head: dict[str, Any] = {"type": "lines", **asked, "from": post_span[0], "to": post_span[1]}
        if start and (last if backward else index == 0):
            head["start"] = True
        if end and (index == 0 if backward else last):
            head["end"] = True
        tail = _encode({**head, "complete": last, "ts": ts})
        posts.append(b'{"lines":[' + b",".join(f for _, f in chunk) + b"]," + tail[1:])
    return posts


_PONG = _encode({"type": "pong"})


def pong_frame() -> bytes:
    """The heartbeat's answer: the same body as the template's `MOCK` route response."""
    return _PONG


def error_frame(
    code: ErrorCode,
    message: str,
    *,
    action: str | None,
    for_course_clients: bool = True,
    **extra: str | int | None,
) -> bytes:
    """An error for one sender; `extra` may say when to retry (`retryAfter`, in
    seconds) or which answer failed (`answerId`, `questionId`).

    The course's clients show only the four original keys, so the sentence
    also goes as a `systemMessage` for them to display; papo's own client reads
    `error` first and shows it once."""
    frame: dict[str, Any] = {"error": message, "code": code.value, "type": "error"}
    if for_course_clients:
        frame["systemMessage"] = message
    if action is not None:
        frame["action"] = action
    frame.update((key, value) for key, value in extra.items() if value is not None)
    return _encode(frame)


# Lines that change: edits, deletes and reactions. Each is a frame of the
# room's stream at an offset of its own (so a client that was away gets it
# with what it missed), naming the line it changes by that line's offset
# (`line`).


def reactions_field(reactions: tuple[Reaction, ...]) -> list[dict[str, Any]]:
    """A line's reactions as frames carry them: each emoji and who reacted with it."""
    return [{"emoji": r.emoji, "by": list(r.by)} for r in reactions]


def edited_frame(line: int, text: str, *, msg_id: str, sender: str, ts: int, offset: int) -> bytes:
    """The line at offset `line` now says `text`."""
    return _encode(
        {
            "edited": text,
            "type": "edited",
            "line": line,
            "id": msg_id,
            "from": sender,
            "ts": ts,
            "offset": offset,
        }
    )


def deleted_frame(line: int, *, msg_id: str, sender: str, ts: int, offset: int) -> bytes:
    """The line at offset `line` was deleted by its sender."""
    return _encode(
        {
            "deleted": True,
            "type": "deleted",
            "line": line,
            "id": msg_id,
            "from": sender,
            "ts": ts,
            "offset": offset,
        }
    )


def reactions_frame(
    line: int, reactions: tuple[Reaction, ...], *, msg_id: str, ts: int, offset: int
) -> bytes:
    """The reactions the line at offset `line` has now, all of them."""
    return _encode(
        {
            "reactions": reactions_field(reactions),
            "type": "reactions",
            "line": line,
            "id": msg_id,
            "ts": ts,
            "offset": offset,
        }
    )


# Who is here, who is typing, and how far each person has read: keys the
# course's clients do not read.


def presence_frame(
    states: dict[str, str], *, here: int, away: int, complete: bool, ts: int
) -> bytes:
    """Who is here and who is away: `presence` maps names to `here` or `away`,
    everyone listed when `complete`, else only those who changed (nobody, in a
    big room told only its counts); `here` and `away` count the people."""
    return _encode(
        {
            "presence": states,
            "type": "presence",
            "complete": complete,
            "here": here,
            "away": away,
            "ts": ts,
        }
    )


def history_item(message: LoggedMessage) -> dict[str, Any]:
    """A public message as the history frame lists it, in its latest version."""
    item: dict[str, Any] = {
        "type": "public",
        "id": message.msg_id,
        "ts": message.ts,
        "from": message.sender,
        "text": message.text,
        "offset": message.offset,
    }
    if message.deleted:
        item["deletedAt"] = message.edited_at
    elif message.edited_at is not None:
        item["editedAt"] = message.edited_at
    if message.reactions:
        item["reactions"] = reactions_field(message.reactions)
    return item


def typing_frame(name: str, ts: int) -> bytes:
    """`name` is typing now; a client shows it for a few seconds, unless told again."""
    return _encode({"typing": name, "type": "typing", "ts": ts})


def unread_frame(rooms: dict[str, dict[str, int]], ts: int) -> bytes:
    """For each room named, the reader's marker (`read`: the newest offset they
    have read), the room's newest offset (`newest`) and the public messages
    after the marker (`count`, at most `UNREAD_COUNT_LIMIT`)."""
    return _encode({"unread": rooms, "type": "unread", "ts": ts})
