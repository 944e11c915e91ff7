"""`stopAnswer`: the asker stops an answer while it streams.

The stop is a note in the store: the answer may be streaming in another
invocation (on AWS it always is), which looks for the note as it streams
(every `PAPO_BOT_STOP_CHECK_MS`), ends the answer with what was said so far,
marked `stopped`, and gives back the tokens it did not use.
"""

from __future__ import annotations

from papo.core import answer_notes, protocol
from papo.core.refusals import ErrorCode, Refusal
from papo.core.room import Actor, Payload, Room


def stop_answer(room: Room, actor: Actor, payload: Payload) -> None:
    asker = room.joined(actor.connection_id)
    answer_id = protocol.text_field(payload, "stopAnswer", "answerId")
    job = answer_notes.own_answer(room.store, asker, answer_id)
    if answer_notes.has_ended(room.store, answer_id):
        raise Refusal(ErrorCode.ANSWER_ENDED)
    expires_at = room.clock() + room.rules.history.ttl_ms
    answer_notes.stop(room.store, job.answer_id, asker.name or "", expires_at)
