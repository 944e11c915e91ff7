"""`askAgain`: the asker asks for another answer to the same question.

The room hears the new answer as it heard the first (its frames say which
answer it `replaces`); the question is not asked twice. The bot's memory
keeps the latest answer of each question (`papo.core.memory.latest_answers`),
so a follow-up builds on the answer the asker chose to keep.
"""

from __future__ import annotations

import msgspec.structs

from papo.core import answer_notes, asking, protocol
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room


def ask_again(room: Room, actor: Actor, payload: Payload) -> None:
    asker = room.joined(actor.connection_id)
    answer_id = protocol.text_field(payload, "askAgain", "answerId")
    before = answer_notes.own_answer(room.store, asker, answer_id)
    if before.covers is not None:  # a summary: asked for again with `catchUp`
        raise Refusal(ErrorCode.UNKNOWN_ANSWER)
    if not answer_notes.has_ended(room.store, answer_id):
        raise Refusal(ErrorCode.BOT_BUSY)
    job = asking.reserve(
        room, asker, before.question, action="askAgain", question_id=before.question_id
    )
    job = msgspec.structs.replace(
        job,
        asker=before.asker,
        question_offset=before.question_offset,
        replaces=before.answer_id,
    )
    asking.start(room, job, ask=False)
