"""`setRoomBot`: an owner of the room (whose invite grants the room's owner
role, with `PAPO_AUTH=invite`) sets the room's persona and model
(`papo.core.room_bot`); everyone in the room is told, in a `persona` frame,
and whoever joins later is told as they join.
"""

from __future__ import annotations

from typing import Any

from papo.core import protocol
from papo.core.ports import Envelope
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room
from papo.core.room_bot import RoomBot, room_bot, set_room_bot
from papo.core.rooms import OWNER
from papo.core.rules import check_message


def set_bot(room: Room, actor: Actor, payload: Payload) -> None:
    person = room.joined(actor.connection_id)
    if actor.identity is None or actor.identity.role != OWNER:
        raise Refusal(ErrorCode.NOT_ROOM_OWNER)
    persona = _optional_text(payload, "persona")
    model = _optional_text(payload, "model")
    allowed = room.rules.bot.models
    if model is not None and model not in allowed:
        raise Refusal(ErrorCode.MODEL_NOT_ALLOWED, model=model, models=", ".join(allowed) or "-")
    if persona is not None:
        persona = check_message(persona, room.rules.limits)
    before = room_bot(room.store)
    now = room.clock()
    bot = RoomBot(
        persona=persona if "persona" in payload else before.persona,
        model=model if "model" in payload else before.model,
        by=person.name,
        at=now,
    )
    set_room_bot(room.store, bot)
    room.broadcast(room.audience(), persona_frame(bot, now))


def _optional_text(payload: Payload, field: str) -> str | None:
    """A text field that may be absent, null or empty (the default again)."""
    value: Any = payload.get(field)
    if value is None or value == "":
        return None
    return protocol.text_field(payload, "setRoomBot", field)


def persona_frame(bot: RoomBot, now: int) -> bytes:
    return protocol.persona_frame(bot.persona, model=bot.model, by=bot.by, ts=now)


def tell_joiner(room: Room, connection_id: str) -> None:
    """Tells someone who just joined the room's own bot, if it has one."""
    bot = room_bot(room.store)
    if not bot.is_default:
        room.send([Envelope(connection_id, (persona_frame(bot, room.clock()),))])
