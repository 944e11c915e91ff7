"""`catchUp`: a private summary of what the room said after an offset, for
someone who comes back (resumes, reloads, joins with unread lines).

It is made from exactly the room's public lines after that offset (people's
and the bot's; private messages are no line of the room, so nobody's reach
the model), the newest that fit in the bot's memory tokens
(`PAPO_BOT_MEMORY_TOKENS`) and at most `PAPO_BOT_CATCH_UP_MESSAGES`. It
streams to its asker alone, like an answer, and ends with a `privateMessage`
from `Bot` saying the offsets it `covers`; it costs the asker a question and
the room's budget what it uses. The asker may stop it as an answer.
"""

from __future__ import annotations

import msgspec.structs

from papo.core import asking, protocol
from papo.core.memory import newest_that_fit
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room

SUMMARY_QUESTION = "(catch up)"
"""A summary's question, as its job and its notes keep it: none was asked."""


def catch_up(room: Room, actor: Actor, payload: Payload) -> None:
    asker = room.joined(actor.connection_id)
    after = protocol.optional_int(payload, "catchUp", "after")
    rules = room.rules.bot
    lines = room.store.recent(rules.catch_up_messages, after=after)
    lines = newest_that_fit(lines, rules.memory_tokens)
    if not lines:
        raise Refusal(ErrorCode.NOTHING_TO_CATCH_UP)
    job = asking.reserve(room, asker, SUMMARY_QUESTION, action="catchUp")
    job = msgspec.structs.replace(
        job, covers=(lines[0].offset, lines[-1].offset), asker_session=asker.session
    )
    asking.start(room, job, ask=False)
