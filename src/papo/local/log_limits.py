"""Bounded logs: what a client can make the emulator say, said a few times a minute.

A client decides how often it sends a broken frame, a handshake the
authorizer refuses or a request that is not HTTP; each one is worth a line in
the log, but a client must not be able to fill the log at will. `RepeatLimit` lets a
few lines of each kind through in every window, holds back the rest, and
says how many it held back in the next line of that kind it lets through.

The functions' own logs (START, END, REPORT and what a handler writes) are
not limited: they are the function's log stream, one per invocation, as
Lambda writes them to CloudWatch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

LOGGERS = ("uvicorn.error", "papo.local", "papo.local.web")
"""The emulator's own loggers, where a line can come from what a client sent."""


@dataclass
class _Kind:
    since: float
    passed: int = 0
    held: int = 0


class RepeatLimit(logging.Filter):
    """At most `burst` lines of one kind (logger and message, before its
    arguments are put in) every `window_s` seconds."""

    MAX_KINDS = 1000

    def __init__(
        self,
        burst: int = 5,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.window_s = window_s
        self._clock = clock
        self._kinds: dict[tuple[str, str], _Kind] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = self._clock()
        with self._lock:
            kind = self._kinds.get(key)
            if kind is None or now - kind.since >= self.window_s:
                held = kind.held if kind is not None else 0
                kind = self._kinds[key] = _Kind(since=now)
                self._forget_old(now)
                if held:
                    _add(record, f"{held} more like this were not logged")
            if kind.passed >= self.burst:
                kind.held += 1
                return False
            kind.passed += 1
            if kind.passed == self.burst:
                _add(record, f"more like this in the next {self.window_s:g} s are not logged")
            return True

    def _forget_old(self, now: float) -> None:
        """Keeps the table small: past `MAX_KINDS`, kinds whose window ended go."""
        if len(self._kinds) > self.MAX_KINDS:
            for key, kind in list(self._kinds.items()):
                if now - kind.since >= self.window_s:
                    del self._kinds[key]


def _add(record: logging.LogRecord, note: str) -> None:
    """Adds a note to a line, after its message and its arguments."""
    record.msg = f"{record.getMessage()} ({note})"
    record.args = None


_installed = RepeatLimit()


def install(loggers: tuple[str, ...] = LOGGERS) -> None:
    """Puts the one limit on the emulator's loggers (once, however many emulators run)."""
    for name in loggers:
        logger = logging.getLogger(name)
        if _installed not in logger.filters:
            logger.addFilter(_installed)
