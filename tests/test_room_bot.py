"""A room's own bot: its persona and model, set by an owner of the room (whose
invite grants the role) or by the operator (`papo room set`), told to everyone
in a `persona` frame, and used by the bot's next answer. papo's authorizer in
front of papo's handler under `papo serve`, on both stores, in threads and
worker processes; the bot against the fake OpenAI server."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect

from papo.aws.handler import ROUTE_KEYS
from papo.cli import main
from papo.core.invites import make_invite
from papo.core.rooms import OWNER
from papo.local.config import PAPO_HANDLER, ApiConfig, Authorizer
from papo.local.server import Emulator
from tests.bot_room import KEY, Person
from tests.fake_openai import FakeOpenAi, Reply
from tests.served import UNPACED, each_mode_and_store_once, environment

__all__ = ["environment"]  # the fixture, imported for this module's tests

SECRET = "papo-test-invite-secret"


@pytest.fixture(params=[0, 2], ids=["in-threads", "in-2-workers"])
def served(
    environment: dict[str, str], fake: FakeOpenAi, request: pytest.FixtureRequest
) -> Iterator[Emulator]:
    settings = {
        **environment,
        **UNPACED,
        "PAPO_MANAGEMENT_ENDPOINT": "",
        "PAPO_AUTH": "invite",
        "PAPO_INVITE_SECRET": SECRET,
        "OPENAI_API_KEY": KEY,
        "PAPO_BOT_BASE_URL": fake.url,
        "PAPO_BOT_MODEL": "gpt-5.4-mini",
        "PAPO_BOT_MODELS": "gpt-5.4-nano, llama3.2",
        "PAPO_BOT_RETRIES": "0",
    }
    config = ApiConfig.for_handler(
        PAPO_HANDLER, ROUTE_KEYS, workers=request.param, authorizer=Authorizer.papos()
    )
    with Emulator(config, port=0, tls_port=0, environment=settings).running() as api:
        yield api


@contextlib.asynccontextmanager
async def person(api: Emulator, name: str, role: str | None = None) -> Any:
    token = make_invite(
        SECRET.encode(), expires_at=int(time.time()) + 600, name=name, room="team", role=role
    )
    async with connect(f"{api.websocket_url}?room=team&token={token}") as ws:
        joining = Person(ws, name)
        await joining.say("setName", name=name)
        await joining.until(lambda f: f.get("event") == "joined" and f["name"] == name)
        yield joining


def is_error(frame: dict[str, Any]) -> bool:
    return frame.get("type") == "error"


def is_persona(frame: dict[str, Any]) -> bool:
    return frame.get("type") == "persona"


@each_mode_and_store_once("served")  # a rule of who may set what, and one setting kept
def test_an_owner_sets_the_rooms_persona_and_model_and_everyone_sees_it(
    served: Emulator,
    fake: FakeOpenAi,
    environment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake.script(Reply(pieces=["Arr."]), Reply(pieces=["Hi."]))

    async def scenario() -> None:
        async with person(served, "Olga", OWNER) as olga, person(served, "Ana") as ana:
            await ana.say("setRoomBot", persona="You are a pirate.")
            assert (await ana.until(is_error))[-1]["code"] == "not_room_owner"
            await olga.say("setRoomBot", model="gpt-4-evil")
            refusal = (await olga.until(is_error))[-1]
            assert refusal["code"] == "model_not_allowed"
            assert "gpt-5.4-nano, llama3.2" in refusal["error"]
            await olga.say("setRoomBot", persona="You are a pirate.", model="llama3.2")
            for someone in (olga, ana):
                told = (await someone.until(is_persona))[-1]
                assert (told["persona"], told["model"], told["by"]) == (
                    "You are a pirate.",
                    "llama3.2",
                    "Olga",
                )
            await ana.say("sendPublic", message="@bot hello")
            await ana.answer()
            async with person(served, "Bea") as bea:
                told = (await bea.until(is_persona))[-1]
                assert told["persona"] == "You are a pirate."
            for name, value in environment.items():
                monkeypatch.setenv(name, value)
            main(["room", "set", "team", "--persona", "Be terse.", "--model", ""])
            await ana.say("sendBot", message="hi")
            await ana.answer()

    asyncio.run(scenario())
    pirate, terse = (r.body for r in fake.requests)
    assert (pirate["model"], pirate["messages"][0]["content"]) == ("llama3.2", "You are a pirate.")
    assert (terse["model"], terse["messages"][0]["content"]) == ("gpt-5.4-mini", "Be terse.")
