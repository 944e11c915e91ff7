"""The tests' shared emulators (`serve`): tests that ask for the same mode, store
and settings share one emulator, each in a room of its own."""

from __future__ import annotations

import asyncio

import pytest

from tests.served import Reader, Serve, public, serve

__all__ = ["serve"]  # fixtures


@pytest.mark.parametrize("store_kind", ["sqlite"])
def test_two_uses_share_one_emulator_and_meet_in_rooms_of_their_own(serve: Serve) -> None:
    async def scenario(here: Reader, there: Reader, other: Reader) -> None:
        for reader in (here, there, other):
            await reader.open()
        await here.say("sendPublic", message="in the first room")
        await other.say("sendPublic", message="in the first room's team")
        await there.say("sendPublic", message="in the second room")
        await here.until(lambda: "Ana: in the first room" in public(here))
        await there.until(lambda: "Ana: in the second room" in public(there))
        await other.until(lambda: "Bea: in the first room's team" in public(other))
        assert public(here) == ["Ana: in the first room"]
        assert public(there) == ["Ana: in the second room"]
        assert public(other) == ["Bea: in the first room's team"]
        for reader in (here, there, other):
            await reader.close()

    with serve() as first, serve() as second:
        assert (first.port, first.registry) == (second.port, second.registry)
        assert first.room != second.room
        readers = Reader(first, "Ana"), Reader(second, "Ana"), Reader(first, "Bea", "team")
        asyncio.run(asyncio.wait_for(scenario(*readers), 30))
    # Other settings, another emulator (in threads, the one before stops first).
    with serve({"PAPO_LANGUAGE": "pt-BR"}) as other:
        assert other.port != first.port
