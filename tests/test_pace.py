"""How much each connection may say: a burst and a steady rate, counted in the
store so that they hold across containers; over them, the sender alone is told
when to send again, and the frame goes nowhere."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from papo.adapters.store.sqlite import SqliteStore
from papo.core.chat import Chat
from papo.core.clock import now_ms
from papo.core.rules import RateRules, Rules
from papo.local.server import Emulator
from tests.recording import RecordingDelivery
from tests.served import Reader, Serve, environment, public, serve

__all__ = ["environment", "serve"]  # fixtures

T0 = 1_795_737_600_000 + 3_000  # 3 s into a minute
WINDOW_MS = RateRules().burst_window_ms


def test_a_burst_over_the_limit_is_refused_to_its_sender_alone(tmp_path: Path) -> None:
    now = T0
    delivery = RecordingDelivery()
    chat = Chat(
        store=SqliteStore(tmp_path / "papo.sqlite3", clock=lambda: now),
        delivery=delivery,
        rules=Rules(rate=RateRules(burst=5, burst_window_ms=10_000, per_minute=8)),
        clock=lambda: now,
    )
    for cid, name in (("A=", "Ana"), ("B=", "Bruno")):
        chat.connect(cid)
        chat.act("setName", cid, json.dumps({"name": name}))
    delivery.everyone()
    for n in range(6):
        chat.act("sendPublic", "A=", json.dumps({"message": f"m{n}"}))
    heard = [f.get("text") for f in delivery.take("B=")]
    assert heard == ["m0", "m1", "m2", "m3"]  # setName was the first of Ana's five
    refusals = [f for f in delivery.take("A=") if "code" in f]
    assert len(refusals) == 2  # m4 and m5
    refusal = refusals[0]
    assert (refusal["code"], refusal["retryAfter"]) == ("rate_limited", 7)
    assert refusal["error"] == (
        "You are sending too fast: at most 5 messages in 10 s and 8 a minute. Try again in 7 s."
    )
    chat.act("sendPublic", "B=", json.dumps({"message": "I can still talk"}))
    assert delivery.take("A=")[-1]["text"] == "I can still talk"
    chat.act("ping", "A=", "{}")
    assert delivery.take("A=") == [{"type": "pong"}]  # the heartbeat is not counted
    now += 7_000  # the next 10 s window: the minute's 8 are the limit now
    for n in range(3):
        chat.act("sendPublic", "A=", json.dumps({"message": f"again {n}"}))
    codes = [f.get("code") or f.get("text") for f in delivery.take("A=")]
    # The two refused frames counted in the minute too: a refused sender is not let off.
    assert codes == ["again 0", "rate_limited", "rate_limited"]


def test_a_burst_across_two_windows_gets_each_windows_limit(tmp_path: Path) -> None:
    """What the served test allows on a slow machine, exactly: the windows are
    the clock's, so a burst that straddles two gets through up to each one's."""
    now = T0 + 6_500  # half a second before the burst's window ends
    delivery = RecordingDelivery()
    chat = Chat(
        store=SqliteStore(tmp_path / "papo.sqlite3", clock=lambda: now),
        delivery=delivery,
        rules=Rules(rate=RateRules(burst=10, per_minute=60)),
        clock=lambda: now,
    )
    for cid, name in (("A=", "Ana"), ("B=", "Bruno")):
        chat.connect(cid)
        chat.act("setName", cid, json.dumps({"name": name}))
    delivery.everyone()
    for n in range(25):
        if n == 12:
            now += 500  # the next window
        chat.act("sendPublic", "A=", json.dumps({"message": f"m{n}"}))
    heard = [f["text"] for f in delivery.take("B=")]
    assert heard == [f"m{n}" for n in [*range(9), *range(12, 22)]]
    retry = [f["retryAfter"] for f in delivery.take("A=") if "code" in f]
    assert retry == [1] * 3 + [10] * 3


def test_the_limit_holds_across_worker_processes(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        ana, bruno = Reader(api, "Ana"), Reader(api, "Bruno")
        await bruno.open()
        # The windows are the clock's (every 10 s): setName and the 25 frames
        # mostly fall in one, and may straddle two (both are checked below; the
        # counts of a straddle exactly, on a clock of their own, above).
        began = now_ms()
        await ana.open()
        for n in range(25):
            await ana.say("sendPublic", message=f"m{n}")
        await ana.until(lambda: len(ana.errors) + len(public(ana)) == 25)
        ended = now_ms()
        await bruno.say("sendPublic", message="still here")
        await ana.until(lambda: "Bruno: still here" in public(ana))
        sent = [m for m in public(bruno) if m.startswith("Ana: ")]
        if began // WINDOW_MS == ended // WINDOW_MS:
            # Ten frames in the window, setName the first: 9 get through.
            assert len(sent) == 9
        else:  # a machine so slow the burst straddled two windows: 9 + 10 at most
            assert 9 <= len(sent) <= 19
        assert ana.errors == ["rate_limited"] * (25 - len(sent))
        refusals = [f for f in ana.wire if f.get("code") == "rate_limited"]
        assert all(1 <= f["retryAfter"] <= 10 for f in refusals)
        await ana.close()
        await bruno.close()

    settings = {"PAPO_RATE_BURST": "10", "PAPO_RATE_PER_MINUTE": "60"}
    with serve(settings) as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))


def test_the_limits_are_settings() -> None:
    from papo.settings import Settings

    rate = Settings.from_env({"PAPO_RATE_BURST": "3", "PAPO_RATE_PER_MINUTE": "7"}).rules.rate
    assert (rate.burst, rate.per_minute) == (3, 7)
    assert Settings.from_env({}).rules.rate == RateRules()
