"""papo's chat core in a room of a test's own: over SQLite in the test's
folder, posting to a `RecordingDelivery`, on a clock the test moves
(`room.now`), for the tests of one concern's rules."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from papo.adapters.store.sqlite import SqliteStore
from papo.core.chat import Chat
from papo.core.rules import Rules
from tests.recording import RecordingDelivery

T0 = 1_795_737_600_000 + 3_000
"""A moment 3 s into a minute, a window of the pace: a test's frames all fall in it."""


class ChatRoom:
    def __init__(self, tmp_path: Path, rules: Rules, *, now: int = T0) -> None:
        self.now = now
        self.delivery = RecordingDelivery()
        self.chat = Chat(
            store=SqliteStore(tmp_path / "papo.sqlite3", clock=lambda: self.now),
            delivery=self.delivery,
            rules=rules,
            clock=lambda: self.now,
            sleep=lambda _: None,  # the clock moves when the test moves it
        )
        self._ids = itertools.count(1)

    def join(self, name: str, *, resume: bool = True) -> str:
        """A new connection that takes `name`; its id."""
        cid = f"C{next(self._ids)}="
        self.chat.connect(cid)
        self.say(cid, "setName", name=name, resume=resume)
        return cid

    def say(self, cid: str, action: str, **fields: Any) -> None:
        self.chat.act(action, cid, json.dumps({"action": action, **fields}))
