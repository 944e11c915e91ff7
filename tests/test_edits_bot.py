"""The bot's memory after edits and deletes: papo's handler under the emulator,
the official OpenAI SDK asking the fake OpenAI server, which keeps what it was
asked."""

from __future__ import annotations

import asyncio
from pathlib import Path

from papo.local.server import Emulator
from tests.bot_room import bot_room, people
from tests.fake_openai import FakeOpenAi


def test_the_bot_remembers_the_latest_version_and_nothing_deleted(
    tmp_path: Path, fake: FakeOpenAi
) -> None:
    async def scenario(api: Emulator) -> None:
        async with people(api, "Ana", "Bea") as (ana, bea):
            offsets = {}
            for person, text in ((ana, "lunch at noon"), (bea, "my PIN is 4321")):
                await person.say("sendPublic", message=text)
                said = await ana.until(lambda f, t=text: f.get("text") == t)
                offsets[text] = said[-1]["offset"]
            await ana.say("edit", offset=offsets["lunch at noon"], message="lunch at one")
            await bea.until(lambda f: f.get("type") == "edited")
            await bea.say("delete", offset=offsets["my PIN is 4321"])
            await ana.until(lambda f: f.get("type") == "deleted")
            await ana.say("sendBot", message="When is lunch?")
            await ana.answer()

    with bot_room(tmp_path, fake) as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))
    asked = [m["content"] for m in fake.requests[0].body["messages"][1:]]
    assert asked == ["Ana: lunch at one", "Ana: When is lunch?"]
