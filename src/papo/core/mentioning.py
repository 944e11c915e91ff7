"""`sendPublic` that mentions the bot (`@bot`, any case, as a word): a public
message and a question at once. Everyone sees it, and the bot's answer
streams to the room, with the room's recent conversation as its memory, as
an answer to `sendBot` does; the course's clients see it end as `Bot: …`.

A message whose question is refused (too long for a question, no bot, a
limit) still goes to the room as the public message it also is; its sender
alone hears why the bot will not answer. One the moderation check flags
(`papo.core.moderation`) goes nowhere.
"""

from __future__ import annotations

import re

from papo.core import asking, messages, moderation, protocol
from papo.core.ports import AnswerJob
from papo.core.refusals import Refusal
from papo.core.room import Actor, Payload, Room
from papo.core.rules import check_message

_MENTION = re.compile(r"(?<![\w@.])@bot(?![\w@])", re.IGNORECASE)


def mentions_bot(text: str) -> bool:
    """Whether `text` mentions the bot: `@bot` as a word, in any case (not
    `@bots`, `ana@bot.com` or `@bot@host`)."""
    return _MENTION.search(text) is not None


def send_public(room: Room, actor: Actor, payload: Payload) -> None:
    raw = protocol.text_field(payload, "sendPublic", "message")
    if not mentions_bot(raw):
        if room.rules.bot.moderation == "messages":
            text = check_message(raw, room.rules.limits)
            moderation.check_message(room.bot, room.rules.bot, text)
        messages.send_public(room, actor, payload)
        return
    text = check_message(raw, room.rules.limits)
    asker = room.joined(actor.connection_id)
    moderation.check_question(room.bot, room.rules.bot, text)
    job: AnswerJob | None = None
    try:
        job = asking.reserve(room, asker, text, action="sendPublic")
    except Refusal:
        messages.send_public(room, actor, payload)
        raise
    asking.start(room, job, ask=True)
