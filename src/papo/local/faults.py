"""Faults on demand, and the account's throttle, on the `@connections` calls.

On AWS a fan-out to many connections meets answers a quiet local run never
gives: a connection gone between two posts (410), throttling (429) and the
odd internal error (500). `papo serve --faults 410=0.01,429=0.01,500=0.005`
answers that share of calls so, drawn from a random source that
`--faults-seed` makes repeatable; `--account-throttle` applies API Gateway's
account-level limit (a token bucket shared by every call of the account in
its region: 10,000 a second, a burst of 5,000) and answers what exceeds it
with 429, as API Gateway does. Both are used from any thread: the event
loop's for calls over HTTP, handlers' threads for the in-process way in.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from papo.local.config import Throttle
from papo.local.throttling import TokenBucket

FAULT_STATUSES = (410, 429, 500)


class FaultsError(ValueError):
    """A `--faults` value papo serve cannot use."""


@dataclass(frozen=True)
class Faults:
    """The share of `@connections` calls answered with each status, 0 to 1."""

    shares: Mapping[int, float] = field(default_factory=dict)
    seed: int | None = None
    """None: a different draw at each run."""

    def __post_init__(self) -> None:
        for status, share in self.shares.items():
            if status not in FAULT_STATUSES:
                raise FaultsError(f"a fault is one of {', '.join(map(str, FAULT_STATUSES))}")
            if not 0 <= share <= 1:
                raise FaultsError(f"the share of {status} is a number from 0 to 1, not {share}")
        if sum(self.shares.values()) > 1:
            raise FaultsError("the faults' shares add up to more than 1")

    @classmethod
    def parse(cls, text: str, seed: int | None = None) -> Faults:
        """`410=0.01,429=0.01,500=0.005`; an empty text: no faults."""
        shares: dict[int, float] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            status, equals, share = item.partition("=")
            try:
                if not equals:
                    raise ValueError(item)
                shares[int(status)] = float(share)
            except ValueError:
                raise FaultsError(
                    f"a fault is STATUS=SHARE, such as 429=0.01, not {item!r}"
                ) from None
        return cls(shares, seed)

    def __bool__(self) -> bool:
        return any(self.shares.values())

    def __str__(self) -> str:
        shares = ", ".join(f"{status} {share:g}" for status, share in sorted(self.shares.items()))
        return shares + (f" (seed {self.seed})" if self.seed is not None else "")


class FaultDraws:
    """Which calls fail: one draw per call, from one seeded source."""

    def __init__(self, faults: Faults) -> None:
        self._shares = sorted(faults.shares.items())
        self._random = random.Random(faults.seed)
        self._lock = threading.Lock()

    def draw(self) -> int | None:
        """The status this call fails with, or None."""
        with self._lock:
            roll = self._random.random()
        for status, share in self._shares:
            if roll < share:
                return status
            roll -= share
        return None


class AccountThrottle:
    """The account's token bucket, shared by every `@connections` call."""

    def __init__(self, throttle: Throttle, clock: Callable[[], float] = time.monotonic) -> None:
        self.throttle = throttle
        self._bucket = TokenBucket(throttle, clock)
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            return self._bucket.take()
