"""The bot in the room, end to end: papo's handler under the emulator, the
official OpenAI SDK against a fake OpenAI-compatible server, people on real
WebSockets."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from papo.local.server import Emulator
from tests.bot_room import KEY, bot_room, course_view, deltas, is_final, people
from tests.fake_openai import FakeOpenAi, Reply


def run(scenario: Any) -> None:
    asyncio.run(scenario)


def test_the_answer_streams_to_everyone_and_ends_as_the_course_showed_it(
    tmp_path: Path, fake: FakeOpenAi
) -> None:
    fake.default = Reply(pieces=["Papo ", "is ", "a ", "chat."], held=True)

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await ana.say("sendBot", message="What is papo?")
            heard = {ana.name: await ana.until(lambda f: f.get("type") == "public")}
            fake.release()  # the first piece, heard before the rest goes
            heard[ana.name] += await ana.until(lambda f: f.get("type") == "botDelta")
            fake.release(3)
            heard[ana.name] += await ana.answer()
            heard[bruno.name] = await bruno.answer()
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

    with bot_room(
        tmp_path,
        fake,
        PAPO_BOT_MODEL="llama3.2",
        PAPO_BOT_SYSTEM_PROMPT="You are terse.",
        PAPO_BOT_TEMPERATURE="0.2",
        PAPO_BOT_MAX_TOKENS="64",
    ) as api:
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


def test_a_slow_answer_is_gathered_into_a_few_posts(tmp_path: Path, fake: FakeOpenAi) -> None:
    """30 short pieces over ~1.5 s: a handful of posts, none held back."""
    fake.default = Reply(pieces=[f"{i} " for i in range(30)], delay_s=0.05)

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana") as (ana,):
            await ana.say("sendBot", message="Count")
            pieces = deltas(await ana.answer())
            assert 2 <= len(pieces) < 30  # fewer posts than pieces
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
            await ana.until(lambda f: f.get("text") == "I love Paris")
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
            await ana.until(lambda f: f.get("text") == "hello")
            await bruno.say("sendPrivate", to="Ana", message="not for the log")
            await ana.until(lambda f: f.get("type") == "private")
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


def test_a_question_too_long_is_refused_before_anyone_hears_it(
    tmp_path: Path, fake: FakeOpenAi
) -> None:
    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await ana.say("sendBot", message="x" * 21)
            refusal = await ana.next()
            assert (refusal["code"], refusal["action"]) == ("question_too_long", "sendBot")
            assert "20 characters" in refusal["error"]
            await bruno.quiet()

    with bot_room(tmp_path, fake, PAPO_BOT_MAX_QUESTION_LENGTH="20") as api:
        run(scenario(api))
    assert fake.requests == []


def test_each_person_has_a_few_questions_a_minute(tmp_path: Path, fake: FakeOpenAi) -> None:
    """The limit counts per calendar minute (the rule itself is tested on a clock of
    its own in test_bot_rules): a minute that ends between two questions starts
    the count again, so Ana asks until she is refused, twice at least and, a
    minute ending once at most, four times at most."""

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            answered = 0
            while True:
                await ana.say("sendBot", message="Again?")
                frame = await ana.next()
                if frame.get("code") == "bot_rate_limited":
                    break
                assert frame["publicMessage"] == "Ana: Again?", frame
                await ana.answer()
                await bruno.answer()
                answered += 1
                assert answered <= 4, "never refused"
            refusal = frame
            assert answered >= 2
            assert 1 <= refusal["retryAfter"] <= 60
            assert "2 questions a minute" in refusal["error"]
            await bruno.quiet()
            await bruno.say("sendBot", message="My turn?")
            assert (await bruno.answer())[-1]["status"] == "complete"
            assert len(fake.requests) == answered + 1

    with bot_room(tmp_path, fake, PAPO_BOT_QUESTIONS_PER_MINUTE="2") as api:
        run(scenario(api))


def test_the_room_has_a_daily_token_budget(tmp_path: Path, fake: FakeOpenAi) -> None:
    """Each answer reserves memory + answer tokens (1,000 + 800) and gives back what
    the server says it did not use: after 1,600 used, 1,800 more would pass 3,000."""
    fake.default = Reply(usage=(1500, 100))

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana") as (ana,):
            await ana.say("sendBot", message="First?")
            await ana.answer()
            await ana.say("sendBot", message="Second?")
            refusal = await ana.next()
            assert refusal["code"] == "bot_budget_exhausted"
            assert 1 <= refusal["retryAfter"] <= 24 * 3600

    with bot_room(
        tmp_path, fake, PAPO_BOT_DAILY_TOKENS="3000", PAPO_BOT_MEMORY_TOKENS="1000"
    ) as api:
        run(scenario(api))
    assert len(fake.requests) == 1


def test_one_answer_at_a_time_per_asker(tmp_path: Path, fake: FakeOpenAi) -> None:
    fake.default = Reply(pieces=["Slow", " answer", " here."], held=True)

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await ana.say("sendBot", message="First?")
            fake.release()
            await ana.until(lambda f: f.get("type") == "botDelta")
            await ana.say("sendBot", message="Second?")
            await bruno.say("sendBot", message="Mine?")
            frames = await ana.until(lambda f: f.get("code") == "bot_busy")
            assert not [f for f in frames if f.get("text") == "Second?"]
            fake.release(3 + 3 + 3)  # both answers, then the next one's
            finals = [f for f in await ana.answer() if is_final(f)]
            finals += [f for f in await ana.answer() if is_final(f)]
            assert sorted(f["text"] for f in finals) == ["Slow answer here."] * 2
            await ana.say("sendBot", message="Now?")
            assert (await ana.answer())[-1]["status"] == "complete"

    with bot_room(tmp_path, fake) as api:
        run(scenario(api))
    assert len(fake.requests) == 3


def test_without_a_key_the_asker_is_told_how_to_configure_the_bot(
    tmp_path: Path, fake: FakeOpenAi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await ana.say("sendBot", message="Anyone there?")
            refusal = await ana.next()
            assert refusal["code"] == "bot_not_configured"
            assert "OPENAI_API_KEY" in refusal["error"]
            await bruno.quiet()
            await ana.say("sendPublic", message="the rest still works")
            assert (await bruno.next())["publicMessage"] == "Ana: the rest still works"

    with bot_room(tmp_path, fake, OPENAI_API_KEY="") as api:
        run(scenario(api))
    assert fake.requests == []


FAILURES = [
    pytest.param(Reply(status=401), "bot_upstream_unauthorized", None, id="401"),
    pytest.param(Reply(status=403), "bot_upstream_unauthorized", None, id="403"),
    pytest.param(Reply(status=404), "bot_upstream_refused", None, id="404-model"),
    pytest.param(Reply(status=429, retry_after="7"), "bot_upstream_rate_limited", 7, id="429"),
    pytest.param(Reply(status=500), "bot_upstream_failed", None, id="500"),
    pytest.param(Reply(status=503), "bot_upstream_failed", None, id="503"),
    pytest.param(Reply(wait_s=5.0), "bot_timeout", None, id="timeout"),
]


@pytest.mark.parametrize(("reply", "code", "retry_after"), FAILURES)
def test_a_failure_before_the_answer_ends_it_clearly_for_everyone(
    tmp_path: Path,
    fake: FakeOpenAi,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    reply: Reply,
    code: str,
    retry_after: int | None,
) -> None:
    fake.script(reply)

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await ana.say("sendBot", message="Hello?")
            for person in (ana, bruno):
                frames = await person.answer()
                assert deltas(frames) == []
                final = frames[-1]
                assert final["status"] == "failed"
                assert final["publicMessage"].startswith("Bot: Sorry, I could not answer Ana's")
            error = await ana.next()
            assert (error["code"], error["action"]) == (code, "sendBot")
            assert error["answerId"] == final["answerId"]
            assert error.get("retryAfter") == retry_after
            await bruno.quiet()
            await ana.say("sendBot", message="Again?")  # the turn was given back
            assert (await ana.answer())[-1]["status"] == "complete"
            assert KEY not in json.dumps(ana.frames + bruno.frames)

    with bot_room(tmp_path, fake, PAPO_BOT_TIMEOUT="2") as api:
        run(scenario(api))
    assert len(fake.requests) == 2
    output = capfd.readouterr()
    records = str([record.__dict__ for record in caplog.records])
    assert "bot upstream failed" in records
    assert KEY not in output.out + output.err + records


def test_failures_before_the_first_piece_are_retried(tmp_path: Path, fake: FakeOpenAi) -> None:
    fake.script(Reply(status=503), Reply(status=429, retry_after="0"))

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana") as (ana,):
            await ana.say("sendBot", message="Hello?")
            assert (await ana.answer())[-1]["status"] == "complete"

    with bot_room(tmp_path, fake, PAPO_BOT_RETRIES="2") as api:
        run(scenario(api))
    assert len(fake.requests) == 3


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        pytest.param(Reply(break_after=2), "bot_interrupted", id="connection-dropped"),
        pytest.param(Reply(finish=False), "bot_interrupted", id="no-finish"),
        pytest.param(Reply(garbage_after=2), "bot_interrupted", id="not-json"),
        pytest.param(
            Reply(pieces=["Hello", " from", " the", " bot."], delay_s=4.0),
            "bot_timeout",
            id="stalled",
        ),
    ],
)
def test_a_broken_stream_closes_the_partial_answer_and_marks_it(
    tmp_path: Path, fake: FakeOpenAi, reply: Reply, code: str
) -> None:
    fake.script(reply)

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await ana.say("sendBot", message="Hello?")
            for person in (ana, bruno):
                frames = await person.answer()
                text = "".join(p["botDelta"] for p in deltas(frames))
                assert text.startswith("Hello")
                final = frames[-1]
                assert final["status"] == "interrupted"
                assert final["text"] == f"{text}\n\n[answer interrupted]"
            error = await ana.next()
            assert error["code"] == code
            await bruno.quiet()

    with bot_room(tmp_path, fake, PAPO_BOT_TIMEOUT="2", PAPO_BOT_RETRIES="2") as api:
        run(scenario(api))
    assert len(fake.requests) == 1  # never retried once the room has seen text


def test_an_answer_longer_than_the_integration_timeout_arrives_whole(
    tmp_path: Path, fake: FakeOpenAi
) -> None:
    fake.default = Reply(pieces=["One", " two", " three", " four."], delay_s=0.6)

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana") as (ana,):
            await ana.say("sendBot", message="Take your time")
            frames = await ana.answer()
            assert frames[-1]["text"] == "One two three four."
            assert not [f for f in frames if "message" in f or "error" in f]

    with bot_room(tmp_path, fake, integration_timeout_s=1.0) as api:
        run(scenario(api))


def test_answers_and_memory_work_across_containers(tmp_path: Path, fake: FakeOpenAi) -> None:
    """Under worker processes (Lambda containers), each answer runs wherever the
    Invoke call lands, and the follow-up still carries the conversation."""
    fake.script(Reply(pieces=["Paris."]), Reply(pieces=["Rome."]))

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await ana.say("sendBot", message="Capital of France?")
            for person in (ana, bruno):
                assert (await person.answer())[-1]["text"] == "Paris."
            await bruno.say("sendBot", message="And of Italy?")
            for person in (ana, bruno):
                assert (await person.answer())[-1]["text"] == "Rome."

    with bot_room(tmp_path, fake, workers=2) as api:
        run(scenario(api))
    assert fake.requests[1].body["messages"][1:] == [
        {"role": "user", "content": "Ana: Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "Bruno: And of Italy?"},
    ]


def test_on_dynamodb_the_bot_remembers_and_newcomers_catch_up(
    tmp_path: Path, fake: FakeOpenAi, dynamodb_table: str
) -> None:
    fake.script(Reply(pieces=["Paris."]), Reply(pieces=["Rome."]))

    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana") as (ana,):
            await ana.say("sendBot", message="Capital of France?")
            await ana.answer()
            await ana.say("sendBot", message="And of Italy?")
            await ana.answer()
            async with people(api, "Bruno") as (bruno,):
                (history,) = [f for f in bruno.frames if f.get("type") == "history"]
                assert [m["text"] for m in history["history"]] == [
                    "Capital of France?",
                    "Paris.",
                    "And of Italy?",
                    "Rome.",
                ]

    with bot_room(tmp_path, fake, PAPO_STORE="dynamodb", PAPO_TABLE=dynamodb_table) as api:
        run(scenario(api))
    assert fake.requests[1].body["messages"][1:] == [
        {"role": "user", "content": "Ana: Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "Ana: And of Italy?"},
    ]
