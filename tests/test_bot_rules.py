"""The bot's rules in the chat core, on a clock the test moves: a real SQLite
store, a recording delivery, and the OpenAI adapter against the fake server."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from papo.adapters.bot.openai_bot import OpenAiBot, OpenAiSettings
from papo.adapters.store.sqlite import SqliteStore
from papo.aws.answers import SelfInvokedAnswers
from papo.core.chat import Chat
from papo.core.memory import prompt_bound
from papo.core.ports import AnswerJob, Turn
from papo.core.quota import Quota
from papo.core.refusals import ErrorCode, Refusal
from papo.core.rules import BotRules, Rules
from papo.core.texts import Texts
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
            rules=Rules(bot=rules),
            clock=lambda: self.now,
            new_id=lambda: f"id{next(ids)}",
        )
        for connection_id, name in (("A=", "Ana"), ("B=", "Bruno")):
            self.chat.connect(connection_id)
            self.chat.act("setName", connection_id, json.dumps({"name": name}))
        self.delivery.everyone()

    def ask(self, connection_id: str = "A=") -> dict[str, object]:
        """Asks the bot (answered at once, in this call); what the asker got last."""
        self.chat.act("sendBot", connection_id, json.dumps({"message": "Well?"}))
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
        room.chat.act("sendBot", "A=", json.dumps({"message": "Well?"}))
        sent = room.delivery.everyone()
        final = sent["B="][-1]
        assert (final["from"], final["status"]) == ("Bot", "failed")
        assert sent["A="][-1]["code"] == "bot_unavailable"
    assert fake.requests == []


class Jobs:
    """Answers handed over and kept, to be produced when the test says."""

    def __init__(self) -> None:
        self.jobs: list[AnswerJob] = []

    def start(self, job: AnswerJob) -> None:
        self.jobs.append(job)


def asked(fake: FakeOpenAi) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = fake.requests[-1].body["messages"]
    return messages


def test_the_answer_is_to_the_question_asked(tmp_path: Path, fake: FakeOpenAi) -> None:
    """What is said between a question and the start of its answer (another
    invocation, on AWS) is neither the question nor part of its memory."""
    room = BotRoom(tmp_path, fake, BotRules())
    room.chat.answers = jobs = Jobs()
    room.chat.act("sendPublic", "B=", json.dumps({"message": "Before the question"}))
    room.chat.act("sendBot", "A=", json.dumps({"message": "Capital of France?"}))
    room.now += 1
    room.chat.act("sendPublic", "B=", json.dumps({"message": "Capital of Peru?"}))
    room.chat.answer(jobs.jobs[0])
    contents = [m["content"] for m in asked(fake)]
    assert contents[-1] == "Ana: Capital of France?"
    assert "Bruno: Before the question" in contents
    assert not any("Peru" in c for c in contents)


def test_a_reset_before_the_answer_keeps_the_question(tmp_path: Path, fake: FakeOpenAi) -> None:
    room = BotRoom(tmp_path, fake, BotRules())
    room.chat.answers = jobs = Jobs()
    room.chat.act("sendPublic", "B=", json.dumps({"message": "Something earlier"}))
    room.chat.act("sendBot", "A=", json.dumps({"message": "Capital of France?"}))
    room.now += 1
    room.chat.act("sendBot", "B=", json.dumps({"message": "/reset"}))
    room.chat.answer(jobs.jobs[0])
    roles = [(m["role"], m["content"]) for m in asked(fake)]
    assert roles[1:] == [("user", "Ana: Capital of France?")]


class FailingOnce(SqliteStore):
    """A real store whose named method fails the first time it is called, in
    this store or any of its rooms' views (which share `failing`)."""

    def __init__(self, path: Path, method: str, clock: Callable[[], int]) -> None:
        self.failing: list[str] = []
        super().__init__(path, clock=clock)
        self.failing.append(method)

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        failing: list[str] = object.__getattribute__(self, "__dict__").get("failing", [])
        if name not in failing:
            return value

        def once(*args: object, **kwargs: object) -> Any:
            if name in failing:
                failing.remove(name)
                raise sqlite3.OperationalError("disk I/O error")
            return value(*args, **kwargs)

        return once


@pytest.mark.parametrize("method", ["recent", "mark", "members"])
def test_a_store_failing_as_the_answer_starts_locks_nobody_out(
    tmp_path: Path, fake: FakeOpenAi, method: str
) -> None:
    """The room hears the answer failed, the asker may ask again at once, and
    the day's budget is whole again (it holds exactly one answer)."""
    rules = BotRules(daily_tokens=BotRules().reservation, questions_per_minute=10)
    room = BotRoom(tmp_path, fake, rules)
    room.chat.answers = jobs = Jobs()
    room.chat.act("sendBot", "A=", json.dumps({"message": "Well?"}))
    room.delivery.everyone()
    broken = Chat(
        store=FailingOnce(tmp_path / "papo.sqlite3", method, clock=lambda: room.now),
        delivery=room.delivery,
        bot=room.chat.bot,
        rules=Rules(bot=rules),
        clock=lambda: room.now,
    )
    with pytest.raises(sqlite3.OperationalError):
        broken.answer(jobs.jobs[0])
    sent = room.delivery.everyone()
    assert (sent["B="][-1]["from"], sent["B="][-1]["status"]) == ("Bot", "failed")
    assert sent["A="][-1]["code"] == "bot_unavailable"
    room.chat.answers = None
    assert room.ask()["status"] == "complete"


def test_a_store_failing_after_the_reservation_locks_nobody_out(
    tmp_path: Path, fake: FakeOpenAi
) -> None:
    rules = BotRules(daily_tokens=BotRules().reservation, questions_per_minute=10)
    room = BotRoom(tmp_path, fake, rules)
    room.chat = Chat(
        store=FailingOnce(tmp_path / "papo.sqlite3", "append_next", clock=lambda: room.now),
        delivery=room.delivery,
        bot=room.chat.bot,
        rules=Rules(bot=rules),
        clock=lambda: room.now,
    )
    with pytest.raises(sqlite3.OperationalError):
        room.chat.act("sendBot", "A=", json.dumps({"message": "Well?"}))
    assert room.delivery.everyone()["A="][-1]["code"] == "bot_unavailable"
    assert room.ask()["status"] == "complete"


def test_a_refusal_for_the_budget_takes_none_of_the_minutes_questions(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "papo.sqlite3")
    now = MIDNIGHT + 15_000
    poor = Quota(store, BotRules(questions_per_minute=1, daily_tokens=10))
    with pytest.raises(Refusal) as refused:
        poor.reserve("A=", now)
    assert refused.value.code is ErrorCode.BOT_BUDGET_EXHAUSTED
    rich = Quota(store, BotRules(questions_per_minute=1))
    assert rich.reserve("A=", now + 1).tokens == BotRules().reservation


def said_before(room: BotRoom, count: int, size: int) -> None:
    for i in range(count):
        room.chat.act("sendPublic", "B=", json.dumps({"message": f"{i} " + "é" * size}))


def worst_cost(fake: FakeOpenAi) -> int:
    """The most the last request can cost: its prompt, and its longest answer."""
    body = fake.requests[-1].body
    turns = [Turn(m["role"], m["content"]) for m in body["messages"]]
    return prompt_bound(turns) + int(body["max_completion_tokens"])


def test_an_answer_costs_at_most_what_the_budget_has(tmp_path: Path, fake: FakeOpenAi) -> None:
    """The prompt's size is estimated to choose the memory, but what is set aside
    bounds it: with no more budget to set aside, older memory goes and the
    answer is kept within what is left."""
    rules = BotRules(daily_tokens=1_000, memory_tokens=100, max_answer_tokens=800)
    room = BotRoom(tmp_path, fake, rules)
    said_before(room, 10, 120)
    assert room.ask()["status"] == "complete"
    assert worst_cost(fake) <= rules.daily_tokens


def test_more_is_set_aside_for_a_long_prompt(tmp_path: Path, fake: FakeOpenAi) -> None:
    rules = BotRules(memory_tokens=100, max_answer_tokens=800)
    room = BotRoom(tmp_path, fake, rules)
    said_before(room, 10, 120)
    fake.default = Reply(usage=(1, 1))
    room.chat.answers = jobs = Jobs()
    room.chat.act("sendBot", "A=", json.dumps({"message": "Well?"}))
    reserved = jobs.jobs[0].reserved_tokens
    room.chat.answer(jobs.jobs[0])
    body = fake.requests[-1].body
    assert body["max_completion_tokens"] == 800
    assert worst_cost(fake) > reserved  # the memory chosen by estimate needed more
    assert any("é" in m["content"] for m in body["messages"])


def test_an_answer_that_fails_tells_the_asker_in_the_language_it_asked_for(
    tmp_path: Path, fake: FakeOpenAi
) -> None:
    """The room reads the server's language; the asker's refusal is in its own, as
    every other refusal it gets."""
    fake.script(Reply(status=503))
    room = BotRoom(tmp_path, fake, BotRules())
    room.chat.act("setName", "A=", json.dumps({"name": "Ana", "language": "pt-BR"}))
    room.delivery.everyone()
    room.chat.act("sendBot", "A=", json.dumps({"message": "Well?"}))
    heard = room.delivery.everyone()
    refusal = next(f for f in heard["A="] if f.get("code") == "bot_upstream_failed")
    english = next(f for f in heard["B="] if f.get("status") == "failed")
    assert str(english["publicMessage"]).startswith("Bot: Sorry")
    assert refusal["error"] == Texts("pt-BR").refusal(Refusal(ErrorCode.BOT_UPSTREAM_FAILED))
