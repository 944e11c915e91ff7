"""The bot's rules in the chat core, on a clock the test moves: a real SQLite
store, a recording delivery, and the OpenAI adapter against the fake server."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from papo.aws.answers import SelfInvokedAnswers
from papo.bot.openai_bot import OpenAiBot, OpenAiSettings
from papo.chat import Chat
from papo.rules import BotRules
from papo.store.sqlite import SqliteStore
from tests.conftest import free_port
from tests.fake_openai import FakeOpenAi, Reply
from tests.recording import RecordingDelivery

MIDNIGHT = 1_795_737_600_000  # 2026-11-27T00:00:00Z
MINUTE = 60_000


class BotRoom:
    def __init__(
        self, tmp_path: Path, fake: FakeOpenAi, rules: BotRules, now: int = MIDNIGHT + 15_000
    ) -> None:
        self.now = now
        self.delivery = RecordingDelivery()
        ids = itertools.count(1)
        self.chat = Chat(
            store=SqliteStore(tmp_path / "papo.sqlite3", clock=lambda: self.now),
            delivery=self.delivery,
            bot=OpenAiBot(OpenAiSettings(base_url=fake.url, max_retries=0), lambda: "sk-test"),
            bot_rules=rules,
            clock=lambda: self.now,
            new_id=lambda: f"id{next(ids)}",
        )
        for connection_id, name in (("A=", "Ana"), ("B=", "Bruno")):
            self.chat.connect(connection_id)
            self.chat.set_name(connection_id, json.dumps({"name": name}))
        self.delivery.everyone()

    def ask(self, connection_id: str = "A=") -> dict[str, object]:
        """Asks the bot (answered at once, in this call); what the asker got last."""
        self.chat.send_bot(connection_id, json.dumps({"message": "Well?"}))
        return self.delivery.everyone()[connection_id][-1]


def test_the_questions_of_a_minute_come_back_the_next_minute(
    tmp_path: Path, fake: FakeOpenAi
) -> None:
    room = BotRoom(tmp_path, fake, BotRules(questions_per_minute=2))
    assert room.ask()["status"] == "complete"
    assert room.ask()["status"] == "complete"
    refusal = room.ask()
    assert (refusal["code"], refusal["retryAfter"]) == ("bot_rate_limited", 45)
    assert refusal["error"] == "You can ask the bot 2 questions a minute. Try again in 45 s."
    assert room.ask("B=")["status"] == "complete"  # a limit of each connection
    room.now += 45_000
    assert room.ask()["status"] == "complete"


def test_the_daily_budget_comes_back_at_midnight_utc(tmp_path: Path, fake: FakeOpenAi) -> None:
    """An answer reserves 1,000 + 800 tokens and keeps what the server says it
    used (1,100): a second answer would pass 2,000 until the next UTC day."""
    fake.default = Reply(usage=(1_000, 100))
    rules = BotRules(daily_tokens=2_000, memory_tokens=1_000, max_answer_tokens=800)
    next_midnight = MIDNIGHT + 24 * 60 * MINUTE
    room = BotRoom(tmp_path, fake, rules, now=next_midnight - 90_000)  # 23:58:30
    assert room.ask()["status"] == "complete"
    refusal = room.ask("B=")
    assert (refusal["code"], refusal["retryAfter"]) == ("bot_budget_exhausted", 90)
    assert str(refusal["error"]).endswith("Try again in 2 min.")
    room.now = next_midnight
    assert room.ask("B=")["status"] == "complete"


def test_an_answer_that_cannot_be_handed_over_gives_everything_back(
    tmp_path: Path, fake: FakeOpenAi, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda cannot be reached: the room hears the answer failed, and the asker
    may ask again at once, with the budget untouched."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"http://127.0.0.1:{free_port()}")
    room = BotRoom(tmp_path, fake, BotRules(daily_tokens=3_900, questions_per_minute=10))
    room.chat.answers = SelfInvokedAnswers("papo-chat", "http://127.0.0.1:1/dev")
    for _ in range(3):
        room.chat.send_bot("A=", json.dumps({"message": "Well?"}))
        sent = room.delivery.everyone()
        final = sent["B="][-1]
        assert (final["from"], final["status"]) == ("Bot", "failed")
        assert sent["A="][-1]["code"] == "bot_unavailable"
    assert fake.requests == []
