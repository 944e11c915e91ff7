"""What a client can make `papo serve` log: a short line, a few times a minute,
never a traceback, however often it tries."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from papo.local.log_limits import RepeatLimit
from tests.conftest import PapoServe

BROKEN_TEXT = [b"\xff\xfe", b"ok \xc3", b"\xed\xa0\x80", b'{"action": "ping", "x": "\xc0\xaf"}']
"""Text frames that are not UTF-8: stray bytes, a cut sequence, an encoded
surrogate, an overlong slash."""


def test_text_not_in_utf8_closes_with_1007_and_a_short_line(
    papo_serve: PapoServe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPO_SQLITE_PATH", str(tmp_path / "papo.sqlite3"))
    _, url = papo_serve("--store", "sqlite")

    async def scenario() -> None:
        for attempt in range(24):
            async with connect(url) as ws:
                await ws.send(BROKEN_TEXT[attempt % len(BROKEN_TEXT)], text=True)
                with pytest.raises(ConnectionClosedError) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 1007
        async with connect(url) as ws:
            # A character cut between two frames of one message is whole again.
            await ws.send([b'{"action": "setName", "name": "Jo\xc3', b'\xa3o"}'], text=True)
            assert json.loads(await ws.recv())["members"] == ["João"]

    asyncio.run(asyncio.wait_for(scenario(), 60))
    log = (tmp_path / "papo-serve.log").read_text()
    assert "Traceback" not in log
    said = [line for line in log.splitlines() if "1007" in line]
    assert len(said) == RepeatLimit().burst, said
    assert all(len(line) < 300 for line in said)
    assert "more like this in the next 60 s are not logged" in said[-1]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(message: str, *args: object, name: str = "papo.local") -> logging.LogRecord:
    return logging.LogRecord(name, logging.WARNING, __file__, 1, message, args, None)


def test_a_few_lines_of_a_kind_a_window_and_then_how_many_were_held_back() -> None:
    clock = Clock()
    limit = RepeatLimit(burst=3, window_s=60, clock=clock)
    lines = [record("closed %s with 1007", f"peer{n}") for n in range(10)]
    passed = [line.getMessage() for line in lines if limit.filter(line)]
    assert passed == [
        "closed peer0 with 1007",
        "closed peer1 with 1007",
        "closed peer2 with 1007 (more like this in the next 60 s are not logged)",
    ]
    other = record("$disconnect failed for %s", "x")
    assert limit.filter(other)  # another kind has its own count
    clock.now = 59.9
    assert not limit.filter(record("closed %s with 1007", "late"))
    clock.now = 60
    again = record("closed %s with 1007", "peer11")
    assert limit.filter(again)
    assert again.getMessage() == "closed peer11 with 1007 (8 more like this were not logged)"


def test_the_same_words_from_another_logger_are_another_kind() -> None:
    limit = RepeatLimit(burst=1, clock=Clock())
    assert limit.filter(record("Invalid HTTP request received.", name="uvicorn.error"))
    assert not limit.filter(record("Invalid HTTP request received.", name="uvicorn.error"))
    assert limit.filter(record("Invalid HTTP request received.", name="papo.local"))
