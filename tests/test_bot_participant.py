"""The bot as a participant: asked in the flow with `@bot`, stopped by its
asker, asked again, and heard whole by someone who resumes while it streams.
papo's handler under `papo serve` (threads and worker processes, SQLite and
DynamoDB, each answer in an invocation of its own as on AWS), the official
OpenAI SDK against the fake OpenAI server, people on real WebSockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect

from papo.core.mentioning import mentions_bot
from tests.bot_room import KEY, Person, course_view, deltas, is_final, people
from tests.conftest import free_port
from tests.fake_openai import FakeOpenAi, Reply
from tests.served import EACH_ONCE, Serve, room_url, serve

__all__ = ["serve"]  # the fixture, imported for this module's tests


def run(scenario: Any) -> None:
    asyncio.run(scenario)


@pytest.fixture(scope="module")
def fake_port() -> int:
    return free_port()


@pytest.fixture
def fake(fake_port: int) -> Iterator[FakeOpenAi]:
    """The fake OpenAI server, each test's own, at the module's port: the
    emulators `serve` shares are pointed at it once."""
    with FakeOpenAi(port=fake_port).running() as server:
        yield server


BOT = {
    "OPENAI_API_KEY": KEY,
    "PAPO_BOT_FLUSH_MS": "50",
    "PAPO_BOT_RETRIES": "1",
    "PAPO_BOT_STOP_CHECK_MS": "100",
    "PAPO_BOT_DAILY_TOKENS": "3000",
    "PAPO_BOT_MEMORY_TOKENS": "1000",
}
"""The bot's settings: a daily budget of 3,000 tokens in each room, of which
an answer sets aside 1,800 (1,000 of memory, 800 of answer)."""


def bot(fake: FakeOpenAi) -> dict[str, str]:
    return {**BOT, "PAPO_BOT_BASE_URL": fake.url}


def bigger_budget(fake: FakeOpenAi) -> dict[str, str]:
    """The room's budget 20,000 tokens a day, each person's 8,000."""
    return {
        **bot(fake),
        "PAPO_BOT_DAILY_TOKENS": "20000",
        "PAPO_BOT_PERSON_DAILY_TOKENS": "8000",
    }


@pytest.fixture(autouse=True)
def no_bot_settings_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own OpenAI key or bot settings never reach a test; the bot's
    settings of this module's emulators stay, which an emulator running in this
    process's threads holds in its environment from one test to the next."""
    ours = {*BOT, "PAPO_BOT_BASE_URL", "PAPO_BOT_PERSON_DAILY_TOKENS", "PAPO_BOT_MODERATION"}
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "PAPO_BOT_", "PAPO_OPENAI_")) and name not in ours:
            monkeypatch.delenv(name)


def question_of(frames: list[dict[str, Any]]) -> dict[str, Any]:
    (question,) = [
        f for f in frames if "answerId" in f and f.get("type") == "public" and not is_final(f)
    ]
    return question


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("@bot what is papo?", True),
        ("what is papo, @Bot?", True),
        ("hey @BOT: hi", True),
        ("@bots are fun", False),
        ("write to ana@bot.com", False),
        ("@bot@example.org", False),
        ("robot", False),
    ],
)
def test_a_mention_of_the_bot_is_at_as_a_word(text: str, mentions: bool) -> None:
    assert mentions_bot(text) is mentions


@EACH_ONCE
def test_a_public_message_that_mentions_the_bot_is_answered_in_the_room(
    serve: Serve, fake: FakeOpenAi
) -> None:
    fake.script(Reply(pieces=["Paris", "."]), Reply(pieces=["Rome."]))

    async def scenario(api: Any) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await bruno.say("sendPublic", message="We are planning a trip")
            await ana.until(lambda f: f.get("text") == "We are planning a trip")
            await ana.say("sendPublic", message="@bot capital of France?")
            for person in (ana, bruno):
                frames = await person.answer()
                # The question before its answer; Bruno's own line may come after
                # the question, as posts of two invocations race (offsets order them).
                shown = course_view(frames)
                assert shown[-1] == "Bot: Paris."
                assert "Ana: @bot capital of France?" in shown[:-1]
                question = question_of(frames)
                assert question["from"] == "Ana"
                assert "".join(d["botDelta"] for d in deltas(frames)) == "Paris."
                assert frames[-1]["status"] == "complete"
                assert frames[-1]["questionId"] == question["id"]
            await bruno.say("sendPublic", message="and Italy, @BOT?")
            for person in (ana, bruno):
                assert (await person.answer())[-1]["publicMessage"] == "Bot: Rome."
            await ana.say("sendPublic", message="no mention here")
            assert (await bruno.next())["publicMessage"] == "Ana: no mention here"
            await bruno.quiet()

    with serve(bot(fake)) as api:
        run(scenario(api))
    first, second = (r.body["messages"][1:] for r in fake.requests)
    assert first == [
        {"role": "user", "content": "Bruno: We are planning a trip"},
        {"role": "user", "content": "Ana: @bot capital of France?"},
    ]
    assert second[-2:] == [
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "Bruno: and Italy, @BOT?"},
    ]


@EACH_ONCE
def test_a_mention_the_bot_cannot_answer_is_still_a_public_message(
    serve: Serve, fake: FakeOpenAi
) -> None:
    """Too long for a question (the bot's 1,000 characters, a message's 2,000):
    the room hears the message, and its sender alone why the bot will not answer."""

    async def scenario(api: Any) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            text = "@bot " + "x" * 1200
            await ana.say("sendPublic", message=text)
            heard = await bruno.next()
            assert heard["publicMessage"] == f"Ana: {text}"
            assert "answerId" not in heard
            frames = await ana.until(lambda f: f.get("type") == "error")
            assert frames[-1]["code"] == "question_too_long"
            assert frames[-1]["action"] == "sendPublic"
            await bruno.quiet()

    with serve(bot(fake)) as api:
        run(scenario(api))
    assert fake.requests == []


@EACH_ONCE
def test_the_course_client_sees_the_answer_to_a_mention(serve: Serve, fake: FakeOpenAi) -> None:
    """A client that sends only the course's actions and reads only its four keys."""
    fake.default = Reply(pieces=["Hello", " Carla."])

    async def scenario(api: Any) -> None:
        async with connect(room_url(api, None)) as ws:
            course = Person(ws, "Carla")
            await ws.send(json.dumps({"action": "setName", "name": "Carla"}))
            await course.until(lambda f: f.get("event") == "joined")
            await ws.send(json.dumps({"action": "sendPublic", "message": "hi @bot"}))
            frames = await course.answer()
            assert course_view(frames) == ["Carla: hi @bot", "Bot: Hello Carla."]

    with serve(bot(fake)) as api:
        run(scenario(api))


def test_the_asker_stops_an_answer_and_the_tokens_it_did_not_use_go_back(
    serve: Serve, fake: FakeOpenAi
) -> None:
    """The answer streams in an invocation of its own; the stop comes in another,
    and reaches it through the store. Stopped, it had used a few tokens of the
    1,800 it set aside: Ana's next question fits in the room's 3,000."""
    fake.script(Reply(pieces=["One", " two", " three", " four."], held=True, usage=None))

    async def scenario(api: Any) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await ana.say("sendPublic", message="@bot count to four, slowly")
            answer_id = question_of(await ana.until(lambda f: "answerId" in f))["answerId"]
            fake.release()
            await ana.until(lambda f: f.get("botDelta") == "One")
            await bruno.say("stopAnswer", answerId=answer_id)
            refusal = await bruno.until(lambda f: f.get("type") == "error")
            assert refusal[-1]["code"] == "not_your_answer"
            assert "Only Ana" in refusal[-1]["error"]
            await ana.say("stopAnswer", answerId=answer_id)
            for person in (ana, bruno):
                final = (await person.answer())[-1]
                assert final["status"] == "stopped"
                assert final["publicMessage"] == "Bot: One\n\n[stopped by Ana]"
            await ana.say("stopAnswer", answerId=answer_id)
            assert (await ana.next())["code"] == "answer_ended"
            for unknown in ("no-such-answer", "x" * 5000, ""):
                await ana.say("stopAnswer", answerId=unknown)
                assert (await ana.next())["code"] == "unknown_answer"
            await ana.say("sendBot", message="Again?")
            assert (await ana.answer())[-1]["status"] == "complete"
            assert (await bruno.answer())[-1]["status"] == "complete"

    with serve(bot(fake)) as api:
        run(scenario(api))
    assert len(fake.requests) == 2


@EACH_ONCE
def test_asking_again_gives_a_new_answer_which_the_bot_remembers(
    serve: Serve, fake: FakeOpenAi
) -> None:
    fake.script(Reply(pieces=["Blue."]), Reply(pieces=["Azure."]), Reply(pieces=["Yes."]))

    async def scenario(api: Any) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await ana.say("sendPublic", message="@bot colour of the sky?")
            first = (await ana.answer())[-1]
            await bruno.answer()
            await bruno.say("askAgain", answerId=first["answerId"])
            assert (await bruno.next())["code"] == "not_your_answer"
            await ana.say("askAgain", answerId=first["answerId"])
            for person in (ana, bruno):
                frames = await person.answer()
                assert not [f for f in frames if f.get("type") == "public" and f is not frames[-1]]
                again = frames[-1]
                assert again["publicMessage"] == "Bot: Azure."
                assert again["replaces"] == first["answerId"]
                assert again["questionId"] == first["questionId"]
                assert again["answerId"] != first["answerId"]
            await ana.say("sendPublic", message="@bot are you sure?")
            await ana.answer()

    with serve(bot(fake)) as api:
        run(scenario(api))
    first, again, follow_up = (r.body["messages"][1:] for r in fake.requests)
    assert again == first == [{"role": "user", "content": "Ana: @bot colour of the sky?"}]
    assert follow_up == [
        {"role": "user", "content": "Ana: @bot colour of the sky?"},
        {"role": "assistant", "content": "Azure."},
        {"role": "user", "content": "Ana: @bot are you sure?"},
    ]


@contextlib.asynccontextmanager
async def resumable(api: Any, name: str, resume: Any = True) -> Any:
    async with connect(room_url(api, None)) as ws:
        person = Person(ws, name)
        await person.say("setName", name=name, resume=resume)
        yield person


def test_someone_who_resumes_while_an_answer_streams_hears_all_of_it_once(
    serve: Serve, fake: FakeOpenAi
) -> None:
    fake.script(Reply(pieces=["Once", " upon", " a", " time."], held=True))

    async def scenario(api: Any) -> None:
        async with people(api, "Bruno") as (bruno,):
            async with resumable(api, "Ana") as ana:
                session = (await ana.until(lambda f: f.get("type") == "session"))[-1]
                await ana.say("sendPublic", message="@bot tell me a story")
                asked = await ana.until(lambda f: "answerId" in f)
                fake.release()
                await ana.until(lambda f: f.get("botDelta") == "Once")
            # Ana's connection dropped; the answer goes on meanwhile.
            await bruno.until(lambda f: f.get("botDelta") == "Once")
            fake.release()
            await bruno.until(lambda f: f.get("botDelta") == " upon")
            resume = {
                "token": session["resumeToken"],
                "offset": question_of(asked)["offset"],
                "privateOffset": 0,
            }
            async with resumable(api, "Ana", resume) as ana:
                await ana.until(lambda f: f.get("type") == "missed" and f["complete"])
                fake.release()
                so_far = (await ana.until(lambda f: f.get("type") == "botDelta"))[-1]
                assert (so_far["botDelta"], so_far["soFar"]) == ("Once upon a", True)
                fake.release()
                frames = await ana.answer()
                rest = "".join(d["botDelta"] for d in deltas(frames))
                assert so_far["botDelta"] + rest == "Once upon a time."
                assert frames[-1]["publicMessage"] == "Bot: Once upon a time."
                assert not [f for f in deltas(frames) if f.get("soFar")]
                await bruno.answer()

    with serve(bot(fake)) as api:
        run(scenario(api))
    assert len(fake.requests) == 1


@EACH_ONCE
def test_catching_up_summarises_the_room_since_an_offset_for_the_asker_alone(
    serve: Serve, fake: FakeOpenAi
) -> None:
    """Made from the room's lines after the offset, not from private messages
    (Bruno's to Carla, nor Ana's own); bounded by the memory's 1,000 tokens:
    of twelve lines of some 100 tokens, the newest nine (whose prompt may cost
    more than an answer sets aside: the room's budget is larger here)."""
    fake.script(Reply(pieces=["They ", "planned a trip."], held=True))

    async def scenario(api: Any) -> None:
        async with people(api, "Ana", "Bruno", "Carla") as (ana, bruno, carla):
            await bruno.say("sendPublic", message="before")
            since = (await ana.until(lambda f: f.get("text") == "before"))[-1]["offset"]
            await ana.say("catchUp", after=since)
            assert (await ana.next())["code"] == "nothing_to_catch_up"
            for number in range(12):
                speaker = (bruno, carla)[number % 2]
                await speaker.say("sendPublic", message=f"line {number:02} " + "x" * 400)
                said = f"line {number:02}"
                await ana.until(lambda f, said=said: f.get("text", "").startswith(said))
            await bruno.say("sendPrivate", to="Carla", message="a secret")
            await bruno.until(lambda f: f.get("text") == "a secret")
            await carla.until(lambda f: f.get("text") == "a secret")
            await ana.say("sendPrivate", to="Bruno", message="mine")
            await bruno.until(lambda f: f.get("text") == "mine")
            await ana.until(lambda f: f.get("text") == "mine")
            await ana.say("catchUp", after=since)
            fake.release()
            first = await ana.until(lambda f: f.get("type") == "botDelta")
            fake.release()
            frames = first + await ana.until(lambda f: f.get("type") == "private")
            final = frames[-1]
            assert final["privateMessage"] == "Bot: They planned a trip."
            assert (final["from"], final["to"], final["status"]) == ("Bot", "Ana", "complete")
            assert "".join(d["botDelta"] for d in deltas(frames)) == "They planned a trip."
            assert final["covers"] == {"from": since + 4, "to": since + 12}
            await ana.say("sendPublic", message="thanks")
            for other in (bruno, carla):
                await other.until(lambda f: f.get("text") == "thanks")
                assert not [f for f in other.frames if f.get("type") == "botDelta"]
                assert not [f for f in other.frames if f.get("from") == "Bot"]

    with serve(bigger_budget(fake)) as api:
        run(scenario(api))
    (request,) = fake.requests
    system, lines = request.body["messages"]
    assert "Summarise them for Ana" in system["content"]
    said = lines["content"].split("\n")
    assert [line[:12] for line in said] == [
        f"{('Bruno', 'Carla')[n % 2]}: line {n:02}"[:12] for n in range(3, 12)
    ]
    assert "secret" not in lines["content"]
    assert "mine" not in lines["content"]


@EACH_ONCE
def test_each_person_has_a_daily_budget_of_their_own(serve: Serve, fake: FakeOpenAi) -> None:
    """Ana's answer cost 7,500 tokens of her 8,000: her next question, which sets
    aside 1,800, is refused until the day ends; Bruno, in the same room, is
    answered within the room's 20,000."""
    fake.script(Reply(usage=(7000, 500)), Reply(pieces=["Yes."]))

    async def scenario(api: Any) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await ana.say("sendPublic", message="@bot a long one")
            await ana.answer()
            await bruno.answer()
            await ana.say("sendPublic", message="@bot another?")
            frames = await ana.until(lambda f: f.get("type") == "error")
            refusal = frames[-1]
            assert refusal["code"] == "bot_person_budget_exhausted"
            assert 1 <= refusal["retryAfter"] <= 24 * 3600
            assert "8000 tokens" in refusal["error"]
            assert "00:00 UTC" in refusal["error"]
            await bruno.say("sendBot", message="my turn?")
            assert (await bruno.answer())[-1]["publicMessage"] == "Bot: Yes."

    with serve(bigger_budget(fake)) as api:
        run(scenario(api))
    assert len(fake.requests) == 2


@EACH_ONCE
def test_moderation_refuses_flagged_questions_and_messages_and_stops_a_flagged_answer(
    serve: Serve, fake: FakeOpenAi
) -> None:
    fake.flag_words = {"forbidden"}
    fake.script(Reply(pieces=["Fine, ", "then the forbidden part", " and more."], held=True))

    async def scenario(api: Any) -> None:
        async with people(api, "Ana", "Bruno") as (ana, bruno):
            await ana.say("sendPublic", message="@bot say something forbidden")
            assert (await ana.next())["code"] == "question_flagged"
            await ana.say("sendBot", message="something forbidden?")
            assert (await ana.next())["code"] == "question_flagged"
            await ana.say("sendPublic", message="a forbidden word")
            refusal = await ana.next()
            assert (refusal["code"], refusal["action"]) == ("message_flagged", "sendPublic")
            await bruno.quiet()
            await ana.say("sendPublic", message="@bot tell me a story")
            fake.release()
            await ana.until(lambda f: f.get("botDelta") == "Fine, ")
            fake.release(2)
            for person in (ana, bruno):
                frames = await person.answer()
                final = frames[-1]
                assert final["status"] == "flagged"
                assert final["text"].startswith("Fine, \n\n[stopped: moderation")
                assert not [f for f in frames if "forbidden" in f.get("botDelta", "")]
            flagged = await ana.until(lambda f: f.get("type") == "error")
            assert flagged[-1]["code"] == "answer_flagged"

    with serve({**bot(fake), "PAPO_BOT_MODERATION": "messages"}) as api:
        run(scenario(api))
    assert len(fake.requests) == 1
    assert {m.body["model"] for m in fake.moderations} == {"omni-moderation-latest"}
    assert [m.body["input"] for m in fake.moderations][:3] == [
        "@bot say something forbidden",
        "something forbidden?",
        "a forbidden word",
    ]
