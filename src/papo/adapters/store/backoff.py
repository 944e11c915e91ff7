"""Pauses between attempts at a write that lost a race to another writer."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Full jitter, as botocore's standard retry mode waits for DynamoDB: before
    attempt `i` (0 for the first, which does not wait) a pause drawn at random
    up to `first_s * 2 ** (i - 1)`, at most `longest_s`. Writers that collided
    spread out instead of colliding again at once."""

    attempts: int = 5
    first_s: float = 0.025
    longest_s: float = 0.2
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random

    def __iter__(self) -> Iterator[int]:
        """The attempts' numbers, each after its pause."""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.random() * min(self.first_s * 2 ** (attempt - 1), self.longest_s))
            yield attempt
