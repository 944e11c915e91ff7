"""Reactions: anyone here adds or removes an emoji on a line (`react`).

A line's reactions are kept with it (its frame and its message), so history,
`sync`, `lines` and resuming give them with the line; everyone here is sent
the line's reactions whole (`reactions`), in a frame of the room's stream, so
the latest a client has is the truth, also after a drop. A reaction is one
emoji, as Unicode's emoji data lists them (the `emoji` package); a line holds
a bounded number of different ones.
"""

from __future__ import annotations

import msgspec.structs

from papo.core import protocol
from papo.core.changing import message_of, named_line, rewritten, tell
from papo.core.messages import named
from papo.core.ports import KeptLine, LineChange, Reaction
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room


def react(room: Room, actor: Actor, payload: Payload) -> None:
    """`react`: adds (`add`: true, the default) or removes the sender's `emoji`
    on the line at `offset` (or with `id`)."""
    emoji = one_emoji(protocol.text_field(payload, "react", "emoji"))
    add = payload.get("add", True)
    if not isinstance(add, bool):
        raise Refusal(ErrorCode.INVALID_FIELD, action="react", field="add", expected="switch")
    name = named(room, actor.connection_id)
    offset = named_line(room, "react", payload)
    limit = room.rules.edits.reactions_per_line

    def change(line: KeptLine) -> LineChange:
        message = message_of(line)
        reactions = toggled(message.reactions, emoji, name, add=add, limit=limit)
        fields = {"reactions": protocol.reactions_field(reactions)} if reactions else {}
        frame = rewritten(line.frame, drop=("reactions",), **fields)
        return LineChange(frame, msgspec.structs.replace(message, reactions=reactions))

    changed = room.store.change_line(offset, change)
    if changed is None:
        raise Refusal(ErrorCode.LINE_NOT_FOUND, line=offset)
    tell(
        room,
        offset,
        lambda m, at: protocol.reactions_frame(
            offset, m.reactions, msg_id=m.msg_id, ts=room.clock(), offset=at
        ),
    )


def toggled(
    reactions: tuple[Reaction, ...], emoji: str, name: str, *, add: bool, limit: int
) -> tuple[Reaction, ...]:
    """`reactions` with `name`'s `emoji` added or removed; an emoji nobody
    reacts with any more goes. A new emoji beyond `limit` different ones is
    refused."""
    found = next((r for r in reactions if r.emoji == emoji), None)
    if add:
        if found is None:
            if len(reactions) >= limit:
                raise Refusal(ErrorCode.REACTIONS_FULL, limit=limit)
            return (*reactions, Reaction(emoji, (name,)))
        if name in found.by:
            return reactions
        return tuple(Reaction(emoji, (*r.by, name)) if r is found else r for r in reactions)
    if found is None or name not in found.by:
        return reactions
    by = tuple(n for n in found.by if n != name)
    return tuple(
        r if r is not found else Reaction(emoji, by) for r in reactions if r is not found or by
    )


_VARIATION_SELECTOR_16 = "\ufe0f"


def one_emoji(text: str) -> str:
    """`text` if it is one emoji (a skin tone alone is none), in its fully
    qualified form where it has one (`❤` as `❤️`), so that one emoji is one
    reaction however it was typed."""
    import emoji  # its data: the react route only

    data = emoji.EMOJI_DATA.get(text)
    if data is None or data["status"] == emoji.STATUS["component"]:
        raise Refusal(ErrorCode.REACTION_NOT_EMOJI)
    if data["status"] != emoji.STATUS["fully_qualified"]:
        qualified = emoji.EMOJI_DATA.get(text + _VARIATION_SELECTOR_16)
        if qualified is not None and qualified["status"] == emoji.STATUS["fully_qualified"]:
            return text + _VARIATION_SELECTOR_16
    return text
