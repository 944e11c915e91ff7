"""papo's own fan-out under faults and the account's throttle: every client
that stays connected gets every message, counted, and a connection a faulted
410 takes away is closed, while the others still get every message."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from websockets.exceptions import ConnectionClosed

from papo.local.server import Emulator
from tests.conftest import PapoServe
from tests.served import UNPACED, Reader, public

PEOPLE = 8
MESSAGES = 25
FAULTS = ("--faults", "429=0.05,500=0.02", "--faults-seed", "24")
SMALL_ACCOUNT = ("--account-throttle-burst", "10", "--account-throttle-rate", "100")
"""Small enough that a fan-out to the room meets it at each message, as the
speaker's 25 messages come at once; large enough that their 200 posts need
some 2 s of it, well within what a post is retried for (some 5 s on average,
11 s at the most): at 40 a second they needed 5 s, and on a loaded machine a
post now and then ran out of tries before its turn."""


def serve_papo(
    papo_serve: PapoServe, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *options: str
) -> Emulator:
    """papo serve with papo's own handler, its store in `tmp_path`, as a client sees it."""
    for name, value in {**UNPACED, "PAPO_SQLITE_PATH": str(tmp_path / "papo.sqlite3")}.items():
        monkeypatch.setenv(name, value)
    _, url = papo_serve("--store", "sqlite", *options)
    return cast(Emulator, SimpleNamespace(websocket_url=url))


def count(reader: Reader, texts: list[str]) -> dict[str, int]:
    """How many times `reader` got each of `texts` (the room's order is the
    handler's, which may run two messages of one sender at once)."""
    heard = public(reader)
    return {text: heard.count(text) for text in texts}


def said_by(speaker: Reader) -> list[str]:
    """The messages `speaker` sends, as the room shows them."""
    return [f"{speaker.name}: message {n}" for n in range(MESSAGES)]


async def send(speaker: Reader, shown: str) -> None:
    await speaker.say("sendPublic", message=shown.partition(": ")[2])


@pytest.mark.parametrize("workers", ["0", "2"], ids=["in-threads", "in-2-workers"])
def test_every_message_reaches_everyone_through_429s_and_500s(
    papo_serve: PapoServe,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    aws_env: None,
    workers: str,
) -> None:
    api = serve_papo(
        papo_serve, monkeypatch, tmp_path, "--workers", workers, *FAULTS, *SMALL_ACCOUNT
    )

    async def scenario() -> None:
        readers = [Reader(api, f"p{n}") for n in range(PEOPLE)]
        for reader in readers:
            await reader.open()
        speaker = readers[0]
        texts = said_by(speaker)
        for text in texts:
            await send(speaker, text)
        for reader in readers:
            with contextlib.suppress(TimeoutError):  # the count below says what is missing
                await reader.until(lambda r=reader: all(count(r, texts).values()), timeout=120)  # type: ignore[misc]
        for reader in readers:
            assert count(reader, texts) == dict.fromkeys(texts, 1), reader.name
            assert not reader.errors
        for reader in readers:
            await reader.close()

    asyncio.run(asyncio.wait_for(scenario(), 240))


def test_connections_a_faulted_410_takes_away_close_and_the_rest_hear_everything(
    papo_serve: PapoServe, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, aws_env: None
) -> None:
    api = serve_papo(
        papo_serve, monkeypatch, tmp_path, "--faults", "410=0.02,429=0.05", "--faults-seed", "7"
    )

    def closed(reader: Reader) -> bool:
        return reader.ws is not None and reader.ws.close_code is not None

    async def scenario() -> None:
        readers = [Reader(api, f"p{n}") for n in range(PEOPLE)]
        for reader in readers:
            await reader.open()
        speaker = readers[0]
        sent = []
        for text in said_by(speaker):
            try:
                await send(speaker, text)
            except ConnectionClosed:
                break  # the speaker's own connection was taken away
            sent.append(text)

        def settled(reader: Reader) -> bool:
            """Closed, or holding every message."""
            return closed(reader) or closed(speaker) or all(count(reader, sent).values())

        async def settle(reader: Reader) -> None:
            """Until `settled`, or closed: a closed reader reads nothing more."""
            until = asyncio.ensure_future(reader.until(lambda: settled(reader), timeout=120))
            assert reader._task is not None  # its reading, which ends when it closes
            await asyncio.wait([until, reader._task], return_when=asyncio.FIRST_COMPLETED)
            if until.done():
                until.result()
            else:
                until.cancel()

        gone: list[Reader] = []
        while True:  # a departure's own announcement may take another connection away
            for reader in readers:
                await settle(reader)
            if [r for r in readers if closed(r)] == gone:
                break
            gone = [r for r in readers if closed(r)]
        assert gone, "this seed drew no 410: take another"
        assert all(r.ws is not None and r.ws.close_code == 1001 for r in gone)
        stayed = [r for r in readers if r not in gone]
        assert stayed
        for reader in stayed:
            if speaker in stayed:
                assert count(reader, sent) == dict.fromkeys(sent, 1), reader.name
            await reader.close()

    asyncio.run(asyncio.wait_for(scenario(), 300))
