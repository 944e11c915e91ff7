"""Limits, kept as counters in the store so that every invocation shares them:
how fast each connection may send (`Pace`), and the bot's own (`Quota`): one
answer in flight per asker, a few questions a minute per connection, the
room's daily token budget, and each person's share of a day's tokens (their
identity with `PAPO_AUTH` on, their session otherwise; see
`papo.core.answer_notes.person_of`).

An answer sets aside its allowance (memory + answer tokens) before it
starts, may set aside more once it knows its prompt's size, and gives back
what it did not use once it ends; so concurrent answers never together set
aside more than the budget, and an answer costs at most what it set aside
(see `papo.core.memory.prompt_bound`).
"""

from __future__ import annotations

import math
import sys

import msgspec

from papo.core.ports import AnswerJob, Counters, PaceWindow
from papo.core.refusals import ErrorCode, Refusal
from papo.core.rules import BotRules, RateRules

MINUTE_MS = 60_000
DAY_MS = 24 * 60 * MINUTE_MS


class Reservation(msgspec.Struct, frozen=True):
    tokens: int
    budget_key: str
    budget_expires_at: int


def _seconds_until(moment_ms: int, now: int) -> int:
    return max(1, math.ceil((moment_ms - now) / 1000))


def _busy_key(connection_id: str) -> str:
    return f"busy:{connection_id}"


class Quota(msgspec.Struct, frozen=True):
    counters: Counters
    rules: BotRules

    def reserve(self, connection_id: str, now: int, person: str | None = None) -> Reservation:
        """Takes the asker's turn, one of their questions this minute, and the
        answer's allowance from the day's budget and from the `person`'s; or
        raises a Refusal saying which limit is hit and when to ask again,
        having taken nothing."""
        rules = self.rules
        if not self.counters.add_to_counter(
            _busy_key(connection_id), 1, limit=1, now=now, expires_at=now + rules.answer_lock_ms
        ):
            raise Refusal(ErrorCode.BOT_BUSY)
        minute_ends = (now // MINUTE_MS + 1) * MINUTE_MS
        day_ends = (now // DAY_MS + 1) * DAY_MS
        reservation = Reservation(rules.reservation, f"tokens:{now // DAY_MS}", day_ends)
        rate_key = f"rate:{connection_id}:{now // MINUTE_MS}"
        if not self.counters.add_to_counter(
            rate_key, 1, limit=rules.questions_per_minute, now=now, expires_at=minute_ends
        ):
            self.release(connection_id, now)
            raise Refusal(
                ErrorCode.BOT_RATE_LIMITED,
                retry_after_s=_seconds_until(minute_ends, now),
                limit=rules.questions_per_minute,
            )
        if not self.counters.add_to_counter(
            reservation.budget_key,
            reservation.tokens,
            limit=rules.daily_tokens,
            now=now,
            expires_at=day_ends,
        ):
            self.counters.add_to_counter(rate_key, -1, limit=1, now=now, expires_at=minute_ends)
            self.release(connection_id, now)
            raise Refusal(
                ErrorCode.BOT_BUDGET_EXHAUSTED, retry_after_s=_seconds_until(day_ends, now)
            )
        if person and not self._add_for_person(
            reservation.budget_key, person, reservation.tokens, now, day_ends
        ):
            self._give_back(reservation.budget_key, reservation.tokens, now, day_ends)
            self.counters.add_to_counter(rate_key, -1, limit=1, now=now, expires_at=minute_ends)
            self.release(connection_id, now)
            raise Refusal(
                ErrorCode.BOT_PERSON_BUDGET_EXHAUSTED,
                retry_after_s=_seconds_until(day_ends, now),
                limit=rules.person_daily_tokens,
            )
        return reservation

    def _add_for_person(
        self, budget_key: str, person: str, tokens: int, now: int, expires_at: int
    ) -> bool:
        """Takes `tokens` from the person's share of the day, if it has them (or
        if there is no such share)."""
        if self.rules.person_daily_tokens <= 0:
            return True
        return self.counters.add_to_counter(
            f"{budget_key}:{person}",
            tokens,
            limit=self.rules.person_daily_tokens,
            now=now,
            expires_at=expires_at,
        )

    def _give_back(self, key: str, tokens: int, now: int, expires_at: int) -> None:
        self.counters.add_to_counter(
            key, -tokens, limit=sys.maxsize, now=now, expires_at=expires_at
        )

    @staticmethod
    def exhausted(job: AnswerJob, now: int) -> Refusal:
        """The refusal of an answer the day's budget cannot hold, until it renews."""
        return Refusal(
            ErrorCode.BOT_BUDGET_EXHAUSTED,
            retry_after_s=_seconds_until(job.budget_expires_at, now),
        )

    def top_up(self, job: AnswerJob, tokens: int, now: int) -> bool:
        """Sets aside `tokens` more for an answer, if the day's budget and its
        asker's share have them."""
        if not self.counters.add_to_counter(
            job.budget_key,
            tokens,
            limit=self.rules.daily_tokens,
            now=now,
            expires_at=job.budget_expires_at,
        ):
            return False
        if job.person and not self._add_for_person(
            job.budget_key, job.person, tokens, now, job.budget_expires_at
        ):
            self._give_back(job.budget_key, tokens, now, job.budget_expires_at)
            return False
        return True

    def release(self, connection_id: str, now: int) -> None:
        """Gives the asker their turn back."""
        self.counters.add_to_counter(_busy_key(connection_id), -1, limit=1, now=now, expires_at=now)

    def settle(self, job: AnswerJob, reserved: int, used_tokens: int, now: int) -> None:
        """Ends an answer: the budget gets back what it set aside and did not
        use, the asker their turn."""
        keys = [job.budget_key]
        if job.person and self.rules.person_daily_tokens > 0:
            keys.append(f"{job.budget_key}:{job.person}")
        for key in keys:
            self.counters.add_to_counter(
                key,
                used_tokens - reserved,
                limit=sys.maxsize,
                now=now,
                expires_at=job.budget_expires_at,
            )
        self.release(job.asker_id, now)


class Pace(msgspec.Struct, frozen=True):
    """How fast one connection may send: at most `burst` frames in each window
    of `burst_window_ms`, and `per_minute` in each calendar minute; counted
    atomically in the store, so that it holds across containers."""

    counters: Counters
    rules: RateRules

    def take(self, connection_id: str, now: int) -> None:
        """Counts one frame, or raises a Refusal saying when to send again."""
        r = self.rules
        window_ends = (now // r.burst_window_ms + 1) * r.burst_window_ms
        minute_ends = (now // MINUTE_MS + 1) * MINUTE_MS
        windows = (
            PaceWindow(now // r.burst_window_ms, r.burst, window_ends),
            PaceWindow(now // MINUTE_MS, r.per_minute, minute_ends),
        )
        refused = self.counters.count_frame(connection_id, windows, now)
        if refused is not None:
            raise Refusal(
                ErrorCode.RATE_LIMITED,
                retry_after_s=_seconds_until(windows[refused].ends, now),
                burst=r.burst,
                window=r.burst_window_ms // 1000,
                per_minute=r.per_minute,
            )
