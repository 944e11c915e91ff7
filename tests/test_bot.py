"""The bot in the room, end to end: papo's handler under the emulator, the
official OpenAI SDK against a fake OpenAI-compatible server, people on real
WebSockets."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from papo.local.server import Emulator
from tests.bot_room import KEY, bot_room, course_view, deltas, is_final, people
from tests.fake_openai import FakeOpenAi, Reply


@pytest.fixture
def fake() -> Any:
    with FakeOpenAi().running() as server:
        yield server


def run(scenario: Any) -> None:
    asyncio.run(scenario)


def test_the_answer_streams_to_everyone_and_ends_as_the_course_showed_it(
    tmp_path: Path, fake: FakeOpenAi
) -> None:
    fake.default = Reply(pieces=["Papo ", "is ", "a ", "chat."], delay_s=0.15)

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await ana.say("sendBot", message="What is papo?")
            heard = {p.name: await p.answer() for p in (ana, bruno)}
            await ana.quiet()
            for frames in heard.values():
                question, *pieces, final = frames
                assert question["publicMessage"] == "Ana: What is papo?"
                assert pieces == deltas(frames)
                assert len(pieces) >= 2  # it streamed: not one piece at the end
                assert "".join(p["botDelta"] for p in pieces) == "Papo is a chat."
                assert [p["seq"] for p in pieces] == list(range(1, len(pieces) + 1))
                assert final["publicMessage"] == "Bot: Papo is a chat."
                assert final["status"] == "complete"
                ids = {(f["answerId"], f["questionId"]) for f in [*pieces, final]}
                assert ids == {(question["answerId"], question["id"])}
                assert course_view(frames) == ["Ana: What is papo?", "Bot: Papo is a chat."]

    with bot_room(tmp_path, fake) as api:
        run(scenario(api))
    (request,) = fake.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["stream"] is True
    assert request.body["model"] == "gpt-5.4-mini"
    assert request.body["max_completion_tokens"] == 800
    assert "temperature" not in request.body
    system, question = request.body["messages"]
    assert system["role"] == "system"
    assert question == {"role": "user", "content": "Ana: What is papo?"}


def test_settings_reach_the_upstream(tmp_path: Path, fake: FakeOpenAi) -> None:
    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana") as (ana,):
            await ana.say("sendBot", message="hi")
            await ana.answer()

    settings = {
        "PAPO_BOT_MODEL": "llama3.2",
        "PAPO_BOT_SYSTEM_PROMPT": "You are terse.",
        "PAPO_BOT_TEMPERATURE": "0.2",
        "PAPO_BOT_MAX_TOKENS": "64",
    }
    with bot_room(tmp_path, fake, **settings) as api:
        run(scenario(api))
    body = fake.requests[0].body
    assert (body["model"], body["temperature"], body["max_completion_tokens"]) == (
        "llama3.2",
        0.2,
        64,
    )
    assert body["messages"][0] == {"role": "system", "content": "You are terse."}


def test_a_long_fast_answer_takes_few_posts(tmp_path: Path, fake: FakeOpenAi) -> None:
    fake.default = Reply(pieces=[f"w{i} " for i in range(500)])

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana") as (ana,):
            await ana.say("sendBot", message="Tell me a long story")
            frames = await ana.answer()
            pieces = deltas(frames)
            assert "".join(p["botDelta"] for p in pieces) == "".join(f"w{i} " for i in range(500))
            assert len(pieces) < 20

    with bot_room(tmp_path, fake, PAPO_BOT_FLUSH_MS="250") as api:
        run(scenario(api))


def test_a_slow_answer_is_gathered_by_time(tmp_path: Path, fake: FakeOpenAi) -> None:
    """30 pieces over ~1.5 s, gathered every 300 ms: a handful of posts, none held back."""
    fake.default = Reply(pieces=[f"{i} " for i in range(30)], delay_s=0.05)

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana") as (ana,):
            await ana.say("sendBot", message="Count")
            pieces = deltas(await ana.answer())
            assert 2 <= len(pieces) <= 12
            assert "".join(p["botDelta"] for p in pieces) == "".join(f"{i} " for i in range(30))

    with bot_room(tmp_path, fake, PAPO_BOT_FLUSH_MS="300") as api:
        run(scenario(api))


def test_follow_ups_carry_the_conversation_until_someone_resets_it(
    tmp_path: Path, fake: FakeOpenAi
) -> None:
    fake.script(Reply(pieces=["Paris."]), Reply(pieces=["Rome."]), Reply(pieces=["Hi!"]))

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await ana.say("sendBot", message="Capital of France?")
            await ana.answer()
            await bruno.answer()
            await bruno.say("sendPublic", message="I love Paris")
            await bruno.say("sendPrivate", to="Ana", message="a secret")
            await ana.until(lambda f: f.get("type") == "private")
            await ana.say("sendBot", message="And of Italy?")
            await ana.answer()
            await bruno.answer()
            await bruno.say("sendBot", message="/reset")
            for person in (ana, bruno):
                reset = await person.until(lambda f: f.get("event") == "botReset")
                assert reset[-1]["systemMessage"] == "Bruno started a new conversation with the bot"
            await ana.say("sendBot", message="Hello?")
            await ana.answer()

    with bot_room(tmp_path, fake) as api:
        run(scenario(api))
    first, second, third = (r.body["messages"][1:] for r in fake.requests)
    assert first == [{"role": "user", "content": "Ana: Capital of France?"}]
    assert second == [
        {"role": "user", "content": "Ana: Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "Bruno: I love Paris"},
        {"role": "user", "content": "Ana: And of Italy?"},
    ]
    assert third == [{"role": "user", "content": "Ana: Hello?"}]


def test_memory_is_trimmed_to_its_token_budget(tmp_path: Path, fake: FakeOpenAi) -> None:
    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana") as (ana,):
            for number in range(6):
                await ana.say("sendPublic", message=f"{number} " + "x" * 400)
                await ana.until(lambda f: f.get("type") == "public")
            await ana.say("sendBot", message="Summarise")
            await ana.answer()

    # The system prompt and the question, then some 100 tokens per message:
    # a budget of 300 leaves room for two of the six.
    with bot_room(tmp_path, fake, PAPO_BOT_MEMORY_TOKENS="300") as api:
        run(scenario(api))
    contents = [m["content"] for m in fake.requests[0].body["messages"][1:]]
    assert [c[:6] for c in contents] == ["Ana: 4", "Ana: 5", "Ana: S"]


def test_a_newcomer_gets_the_recent_public_history(tmp_path: Path, fake: FakeOpenAi) -> None:
    fake.default = Reply(pieces=["Forty-two."])

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await bruno.say("sendPublic", message="hello")
            await bruno.say("sendPrivate", to="Ana", message="not for the log")
            await ana.say("sendBot", message="The answer?")
            await ana.answer()
            await bruno.answer()
            async with people(api, "Carla") as (carla,):
                (history,) = [f for f in carla.frames if f.get("type") == "history"]
                lines = [(m["from"], m["text"]) for m in history["history"]]
                assert lines == [
                    ("Bruno", "hello"),
                    ("Ana", "The answer?"),
                    ("Bot", "Forty-two."),
                ]
                assert not set(history) & {"publicMessage", "systemMessage", "members"}
                await bruno.until(lambda f: f.get("event") == "joined")
                assert not [f for f in bruno.frames if f.get("type") == "history"]

    with bot_room(tmp_path, fake, PAPO_HISTORY_MESSAGES="3") as api:
        run(scenario(api))
