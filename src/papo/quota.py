"""The bot's limits, kept as counters in the store so that every invocation
shares them: one answer in flight per asker, a few questions a minute per
connection, and the room's daily token budget.

An answer sets aside its whole allowance (memory + answer tokens) before it
starts and gives back what it did not use once it ends, so concurrent
answers can never overrun the budget.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from papo.ports import AnswerJob, Counters
from papo.protocol import BadFrame, ErrorCode
from papo.rules import BotRules
from papo.texts import Texts

MINUTE_MS = 60_000
DAY_MS = 24 * 60 * MINUTE_MS


@dataclass(frozen=True, slots=True)
class Reservation:
    tokens: int
    budget_key: str
    budget_expires_at: int


def _seconds_until(moment_ms: int, now: int) -> int:
    return max(1, math.ceil((moment_ms - now) / 1000))


def _busy_key(connection_id: str) -> str:
    return f"busy:{connection_id}"


@dataclass(frozen=True)
class Quota:
    counters: Counters
    rules: BotRules
    texts: Texts

    def reserve(self, connection_id: str, now: int) -> Reservation:
        """Takes the asker's turn, one of their questions this minute, and the
        answer's allowance from the day's budget; or raises BadFrame saying
        which limit is hit, and when to ask again."""
        rules = self.rules
        if not self.counters.add_to_counter(
            _busy_key(connection_id), 1, limit=1, now=now, expires_at=now + rules.answer_lock_ms
        ):
            raise BadFrame(ErrorCode.BOT_BUSY)
        minute_ends = (now // MINUTE_MS + 1) * MINUTE_MS
        day_ends = (now // DAY_MS + 1) * DAY_MS
        reservation = Reservation(rules.reservation, f"tokens:{now // DAY_MS}", day_ends)
        if not self.counters.add_to_counter(
            f"rate:{connection_id}:{now // MINUTE_MS}",
            1,
            limit=rules.questions_per_minute,
            now=now,
            expires_at=minute_ends,
        ):
            self.release(connection_id, now)
            raise self._refusal(
                ErrorCode.BOT_RATE_LIMITED, minute_ends, now, limit=rules.questions_per_minute
            )
        if not self.counters.add_to_counter(
            reservation.budget_key,
            reservation.tokens,
            limit=rules.daily_tokens,
            now=now,
            expires_at=day_ends,
        ):
            self.release(connection_id, now)
            raise self._refusal(ErrorCode.BOT_BUDGET_EXHAUSTED, day_ends, now)
        return reservation

    def _refusal(self, code: ErrorCode, until: int, now: int, **details: object) -> BadFrame:
        wait = _seconds_until(until, now)
        return BadFrame(
            code, fields={"retryAfter": wait}, wait=self.texts.duration(wait), **details
        )

    def release(self, connection_id: str, now: int) -> None:
        """Gives the asker their turn back."""
        self.counters.add_to_counter(_busy_key(connection_id), -1, limit=1, now=now, expires_at=now)

    def settle(self, job: AnswerJob, used_tokens: int, now: int) -> None:
        """Ends an answer: the budget gets back what it did not use, the asker their turn."""
        self.counters.add_to_counter(
            job.budget_key,
            used_tokens - job.reserved_tokens,
            limit=sys.maxsize,
            now=now,
            expires_at=job.budget_expires_at,
        )
        self.release(job.asker_id, now)
