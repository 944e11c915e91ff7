"""A short run of `bench/fuzz_frames.py`: random hostile frames at `papo serve`
from outside, on SQLite with the handler in threads and on DynamoDB with two
worker processes. No internal error, nothing refused reaches the watchers,
every client still gets an answer, and the log has no traceback."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.conftest import PapoServe
from tests.hostile_frames import fuzz, log_findings
from tests.served import UNPACED


@pytest.fixture
def served(
    store_kind: str,
    papo_serve: PapoServe,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> str:
    for name, value in UNPACED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PAPO_STORE", store_kind)
    if store_kind == "sqlite":
        monkeypatch.setenv("PAPO_SQLITE_PATH", str(tmp_path / "papo.sqlite3"))
        _, url = papo_serve("--workers", "0")
    else:
        monkeypatch.setenv("PAPO_TABLE", request.getfixturevalue("dynamodb_table"))
        _, url = papo_serve("--workers", "2")
    return url


def test_hostile_frames_from_outside(served: str, tmp_path: Path) -> None:
    findings = asyncio.run(fuzz(served, clients=3, frames=60, seed=19, answer_s=30))
    assert findings.internal_errors == []
    assert findings.wrongly_heard == []
    assert dict(findings.unanswered) == {}
    assert findings.answered_at_the_end == 3
    assert 0 < findings.closes[1007] <= findings.frames["not UTF-8"]
    # A close's line may reach the log a moment after its client saw the close.
    expected, deadline = min(5, findings.closes[1007]), time.monotonic() + 30
    while True:
        log = log_findings((tmp_path / "papo-serve.log").read_text())
        said_1007 = sum(n for line, n in log["own lines"].items() if "not in UTF" in line)
        if said_1007 >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert log["tracebacks"] == 0
    assert said_1007 == expected
