"""A room's own bot: its persona (the system prompt it answers with) and its
model, one of those the operator allows (`PAPO_BOT_MODELS`). Set by the
operator (`papo room set`) or by an owner of the room (`setRoomBot`); kept
as a note of the room's, read by each answer. Without one, the bot is what
`PAPO_BOT_SYSTEM_PROMPT` and `PAPO_BOT_MODEL` say.
"""

from __future__ import annotations

import msgspec

from papo.core.ports import Notes

NOTE = "room-bot"
FOREVER_MS = 253_402_300_799_000
"""A note kept until the year 9999: the room's bot stays until it is changed."""


class RoomBot(msgspec.Struct, frozen=True, omit_defaults=True):
    persona: str | None = None
    """The system prompt, instead of `PAPO_BOT_SYSTEM_PROMPT`."""
    model: str | None = None
    """The model, instead of `PAPO_BOT_MODEL`."""
    by: str | None = None
    """Who set it: a person's name, or None for the operator."""
    at: int = 0
    """When (epoch ms)."""

    @property
    def is_default(self) -> bool:
        return self.persona is None and self.model is None


_decode = msgspec.json.Decoder(RoomBot).decode


def room_bot(notes: Notes) -> RoomBot:
    kept = notes.note(NOTE)
    return RoomBot() if kept is None else _decode(kept)


def set_room_bot(notes: Notes, bot: RoomBot) -> None:
    notes.put_note(NOTE, msgspec.json.encode(bot), FOREVER_MS)
