"""Edits, deletes and reactions through `papo serve`, over real WebSockets: in
threads and in worker processes, on SQLite and on DynamoDB."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from papo.local.server import Emulator
from tests.served import EACH_ONCE, InRoom, Reader, Serve, heard, public, serve

__all__ = ["serve"]  # fixtures

COURSE_KEYS = {"members", "systemMessage", "publicMessage", "privateMessage"}


def _of(reader: Reader, kind: str, line: int) -> list[dict[str, Any]]:
    """The frames of `kind` about the line at `line` a reader has."""
    return [f for f in reader.room.values() if f.get("type") == kind and f.get("line") == line]


def _offset_of(reader: Reader, said: str) -> int:
    return next(o for o, f in reader.room.items() if f.get("publicMessage") == said)


def test_an_edit_a_reaction_and_a_delete_reach_everyone_at_once(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        ana, bea = Reader(api, "Ana"), Reader(api, "Bea")
        for reader in (ana, bea):
            await reader.open()
        await ana.say("sendPublic", message="helo")
        await bea.until(lambda: "Ana: helo" in public(bea))
        line = _offset_of(bea, "Ana: helo")
        await ana.say("edit", offset=line, message="hello")
        await bea.until(lambda: bool(_of(bea, "edited", line)))
        assert _of(bea, "edited", line)[0]["edited"] == "hello"
        await bea.say("react", offset=line, emoji="👍")
        await ana.until(lambda: bool(_of(ana, "reactions", line)))
        assert _of(ana, "reactions", line)[0]["reactions"] == [{"emoji": "👍", "by": ["Bea"]}]
        await ana.say("delete", offset=line)
        await bea.until(lambda: bool(_of(bea, "deleted", line)))
        # The course's clients saw one line, once.
        for reader in (ana, bea):
            news = [f for f in reader.wire if f.get("type") in ("edited", "deleted", "reactions")]
            assert len(news) == 3
            assert not any(COURSE_KEYS & f.keys() for f in news)
            assert [f["publicMessage"] for f in reader.wire if "publicMessage" in f] == [
                "Ana: helo"
            ]
        for reader in (ana, bea):
            await reader.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))


@EACH_ONCE
def test_history_sync_lines_and_resuming_give_the_latest_version(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        ana, bea = Reader(api, "Ana"), Reader(api, "Bea")
        for reader in (ana, bea):
            await reader.open()
        for text in ("one", "two", "three"):
            await ana.say("sendPublic", message=text)
            await bea.until(functools.partial(heard, bea, f"Ana: {text}"))
        one, two, three = (_offset_of(bea, f"Ana: {t}") for t in ("one", "two", "three"))
        await bea.close()
        await ana.say("edit", offset=one, message="uno")
        await ana.say("delete", offset=two)
        await ana.say("react", offset=three, emoji="🎉")
        await ana.until(lambda: bool(_of(ana, "reactions", three)))

        # Back after a drop: what was missed says what changed.
        await bea.resume()
        await bea.until(lambda: bool(_of(bea, "reactions", three)))
        assert _of(bea, "edited", one)[0]["edited"] == "uno"
        assert _of(bea, "deleted", two)

        # The lines themselves, fetched again, are in their latest version.
        before = len(bea.wire)
        await bea.say("lines", after=0)
        await bea.until(lambda: any(f.get("type") == "lines" for f in bea.wire[before:]))
        [answer] = [f for f in bea.wire[before:] if f.get("type") == "lines"]
        kept = {f["offset"]: f for f in answer["lines"]}
        assert (kept[one]["publicMessage"], kept[one]["text"]) == ("Ana: uno", "uno")
        assert "editedAt" in kept[one]
        assert kept[two]["text"] == ""
        assert "two" not in kept[two]["publicMessage"]
        assert "deletedAt" in kept[two]
        assert kept[three]["reactions"] == [{"emoji": "🎉", "by": ["Ana"]}]

        assert bea.room[one]["text"] == "one"  # as it heard it, before the drop
        await bea.say("sync", offset=one - 1)
        await bea.until(lambda: bea.room[one]["text"] == "uno")
        assert bea.room[two]["deletedAt"]

        # A newcomer's history too.
        cris = Reader(api, "Cris")
        await cris.open()
        await cris.until(lambda: any(f.get("type") == "history" for f in cris.wire))
        [history] = [f["history"] for f in cris.wire if f.get("type") == "history"]
        texts = [(m["text"], "editedAt" in m, "deletedAt" in m) for m in history]
        assert texts == [("uno", True, False), ("", False, True), ("three", False, False)]
        assert history[2]["reactions"] == [{"emoji": "🎉", "by": ["Ana"]}]
        for reader in (ana, bea, cris):
            await reader.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))


@EACH_ONCE
def test_an_edit_made_on_one_device_shows_on_the_other(serve: Serve) -> None:
    """Ana's phone says a line; her laptop takes her session over and edits it;
    the phone, back, gets the edit with what it missed."""

    async def scenario(api: Emulator) -> None:
        phone, bea = Reader(api, "Ana"), Reader(api, "Bea")
        for reader in (phone, bea):
            await reader.open()
        await phone.say("sendPublic", message="from my phone")
        await phone.until(lambda: "Ana: from my phone" in public(phone))
        line = _offset_of(phone, "Ana: from my phone")
        laptop = Reader(api, "Ana")
        await laptop.open(token=phone.token, offset=line - 1, privateOffset=0)
        await phone.closed()  # the session moved to the laptop
        await laptop.say("edit", offset=line, message="from my laptop")
        await bea.until(lambda: bool(_of(bea, "edited", line)))
        await laptop.close()
        await phone.resume()
        await phone.until(lambda: bool(_of(phone, "edited", line)))
        assert _of(phone, "edited", line)[0]["edited"] == "from my laptop"
        for reader in (phone, bea):
            await reader.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))


@EACH_ONCE
def test_changes_that_name_no_line_or_someone_elses_are_refused(serve: Serve) -> None:
    async def scenario(api: Emulator) -> None:
        ana, bea = Reader(api, "Ana"), Reader(api, "Bea")
        for reader in (ana, bea):
            await reader.open()
        await ana.say("sendPublic", message="mine")
        await bea.until(lambda: "Ana: mine" in public(bea))
        line = _offset_of(bea, "Ana: mine")
        await bea.say("edit", offset=line, message="yours")
        await bea.say("delete", offset=line)
        await bea.say("edit", offset=line + 1000, message="nothing")
        await bea.say("react", offset=line, emoji="not one")
        expected = ["not_your_line", "not_your_line", "line_not_found", "reaction_not_emoji"]
        await bea.until(lambda: len(bea.errors) == len(expected))
        assert sorted(bea.errors) == sorted(expected)  # answered as they come, in any order
        assert ana.errors == []
        for reader in (ana, bea):
            await reader.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))


def test_reactions_at_once_from_everyone_end_with_every_one(serve: Serve) -> None:
    """Everyone reacts to one line at once, each in an invocation of its own:
    none is lost, and the last frame each reader gets about the line (the
    highest offset) lists them all, whatever order the changes took."""

    async def scenario(api: InRoom) -> None:
        readers = [Reader(api, f"P{i}") for i in range(6)]
        for reader in readers:
            await reader.open()
        await readers[0].say("sendPublic", message="vote")
        for reader in readers:
            await reader.until(functools.partial(heard, reader, "P0: vote"))
        line = _offset_of(readers[0], "P0: vote")
        await asyncio.gather(*(r.say("react", offset=line, emoji="👍") for r in readers))
        names = sorted(r.name for r in readers)

        def last(reader: Reader) -> list[str]:
            frames = _of(reader, "reactions", line)
            if len(frames) < len(readers):
                return []
            newest = max(frames, key=lambda f: f["offset"])
            return sorted(newest["reactions"][0]["by"]) if newest["reactions"] else []

        for reader in readers:
            await reader.until(lambda r=reader: last(r) == names)  # type: ignore[misc]
        [kept] = api.store().recent(1)
        assert sorted(kept.reactions[0].by) == names
        for reader in readers:
            await reader.close()

    with serve() as api:
        asyncio.run(asyncio.wait_for(scenario(api), 60))
