"""Wall-clock time in epoch milliseconds, the unit of API Gateway's events and papo's frames."""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
