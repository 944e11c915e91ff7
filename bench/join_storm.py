"""People joining together: N clients join at once through `papo serve`.

    python bench/join_storm.py [--people 100 300]

Each client connects, then all send `setName` at once; the run ends when
every client's last `members` frame names everyone. It reports the seconds
that took, the frames all clients received (each one a Management API post,
as on AWS), and how many of them were `members` frames: with the join window
(`PAPO_JOIN_WINDOW_MS`, 150 ms by default) and without it (0: every join tells
everyone at once), both measured in the same run, papo's handler with SQLite.
Bounded in count and time; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from fanout import Server, servers

TIMEOUT_S = 300.0


class Person:
    def __init__(self, name: str, ws: ClientConnection, everyone: int) -> None:
        self.name, self.ws, self.everyone = name, ws, everyone
        self.frames = 0
        self.members_frames = 0
        self.whole = asyncio.Event()

    async def read(self) -> None:
        async for raw in self.ws:
            frame: dict[str, Any] = json.loads(raw)
            self.frames += 1
            if "members" in frame:
                self.members_frames += 1
                if len(frame["members"]) == self.everyone:
                    self.whole.set()
                else:
                    self.whole.clear()


async def storm(url: str, count: int) -> tuple[float, int, int]:
    people = []
    for n in range(count):
        ws = await connect(url, max_size=None, ping_interval=None, open_timeout=30)
        people.append(Person(f"user{n:04d}", ws, count))
    readers = [asyncio.create_task(p.read()) for p in people]
    started = time.perf_counter()
    await asyncio.gather(
        *(p.ws.send(json.dumps({"action": "setName", "name": p.name})) for p in people)
    )
    await asyncio.wait_for(asyncio.gather(*(p.whole.wait() for p in people)), TIMEOUT_S)
    took = time.perf_counter() - started
    await asyncio.sleep(1.0)  # frames still on their way count too
    frames = sum(p.frames for p in people)
    members = sum(p.members_frames for p in people)
    for person in people:
        await person.ws.close()
    for reader in readers:
        reader.cancel()
    return took, frames, members


def papo(data: Path, window_ms: str) -> Server:
    """`papo serve` as `bench/fanout.py` runs it, with this join window."""
    server = servers(data)[1]
    return replace(server, env={**server.env, "PAPO_JOIN_WINDOW_MS": window_ms})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, nargs="+", default=[100, 300])
    args = parser.parse_args()
    print("N     join window   all whole in   frames received   of them members")
    with tempfile.TemporaryDirectory() as data:
        for count in args.people:
            for window in ("0", "150"):
                with papo(Path(data), window) as server:
                    took, frames, members = asyncio.run(storm(server.url, count))
                print(
                    f"{count:<5} {window + ' ms':>11}   {took:10.2f} s   {frames:15,}"
                    f"   {members:15,}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
