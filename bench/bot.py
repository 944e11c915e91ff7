"""The bot's streaming through `papo serve`: first-token latency and posts per answer.

Run by hand: `make bench-bot` (or `.venv/bin/python bench/bot.py`).

A fake OpenAI-compatible server in this process streams a 500-token answer
(one token per server-sent event) at a set pace. `papo serve` runs as a user
runs it (SQLite, papo's handler in threads, the answer in its own
asynchronous invocation, the official SDK upstream), and clients in this
process ask and listen. For each answer:

- first delta: from the moment the fake server writes the first token to the
  moment a client receives the first `botDelta` frame;
- the baseline, measured in the same run: the same fake server read directly
  by the official SDK in this process, from the first token written to the
  SDK handing it over; papo's added latency is the difference of the medians;
- posts: the frames one client receives for the answer (deltas + the final);
- checks: the calls to the moderation endpoint for each answer, with
  `--moderation off questions` (its question, and each batch before it is
  posted), against the fake server's, which answers at once.

Every loop is bounded, and only loopback is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import openai
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_openai import FakeOpenAi, Reply  # noqa: E402

TOKENS = 500
ANSWER_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_papo(
    fake_url: str, folder: Path, moderation: str = "off"
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-bench",
        "PAPO_BOT_BASE_URL": fake_url,
        "PAPO_SQLITE_PATH": str(folder / "papo.sqlite3"),
        "PAPO_BOT_QUESTIONS_PER_MINUTE": "1000",
        "PAPO_BOT_DAILY_TOKENS": "100000000",
        "PAPO_BOT_MAX_TOKENS": str(TOKENS * 2),
        "PAPO_BOT_MODERATION": moderation,
    }
    command = [sys.executable, "-m", "papo", "serve", "--port", str(port), "--tls-port", "0"]
    command += ["--web-port", "0"]
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"ws://127.0.0.1:{port}/dev"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("papo serve did not start")


async def receive(ws: ClientConnection) -> tuple[float | None, int]:
    """Listens until the bot's final frame: when the first delta came, and how many frames."""
    first: float | None = None
    frames = 0
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT_S))
        if frame.get("type") == "botDelta":
            frames += 1
            if first is None:
                first = time.perf_counter()
        elif frame.get("type") == "public" and frame.get("from") == "Bot":
            return first, frames + 1


async def through_papo(
    url: str, fake: FakeOpenAi, answers: int, clients: int
) -> tuple[list[float], list[int]]:
    latencies: list[float] = []
    posts: list[int] = []
    sockets = [await connect(url) for _ in range(clients)]
    try:
        for number, ws in enumerate(sockets):  # one after another, each hearing itself join
            await ws.send(json.dumps({"action": "setName", "name": f"p{number}"}))
            while json.loads(await asyncio.wait_for(ws.recv(), 30)).get("name") != f"p{number}":
                pass
        for _ in range(answers):
            await sockets[0].send(json.dumps({"action": "sendBot", "message": "Tell me more"}))
            heard = await asyncio.gather(*(receive(ws) for ws in sockets))
            started = fake.requests[-1].first_piece_at
            assert started is not None
            latencies += [(first - started) * 1000 for first, _ in heard if first is not None]
            posts.append(heard[0][1])
    finally:
        for ws in sockets:
            await ws.close()
    return latencies, posts


def through_sdk(fake: FakeOpenAi, answers: int) -> list[float]:
    client = openai.OpenAI(api_key="sk-bench", base_url=fake.url, max_retries=0)
    latencies = []
    for _ in range(answers):
        stream = client.chat.completions.create(
            model="bench", messages=[{"role": "user", "content": "Tell me more"}], stream=True
        )
        first: float | None = None
        for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter()
        started = fake.requests[-1].first_piece_at
        assert first is not None
        assert started is not None
        latencies.append((first - started) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=3)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10])
    parser.add_argument(
        "--pace-ms", type=float, nargs="+", default=[10.0, 40.0, 0.0], help="ms between tokens"
    )
    parser.add_argument(
        "--moderation",
        nargs="+",
        default=["off"],
        help="PAPO_BOT_MODERATION of each papo serve, one after another (off, questions)",
    )
    args = parser.parse_args()
    print(f"{TOKENS}-token answers, {args.answers} per row; medians")
    print(
        f"{'moderation':>10} {'tokens/s':>9} {'clients':>7} {'SDK alone':>10} {'papo':>8} "
        f"{'added':>8} {'posts/answer':>12} {'checks/answer':>13}"
    )
    for moderation in args.moderation:
        run(args, moderation)


def run(args: argparse.Namespace, moderation: str) -> None:
    with FakeOpenAi().running() as fake, tempfile.TemporaryDirectory() as folder:
        process, url = start_papo(fake.url, Path(folder), moderation)
        try:
            for pace in args.pace_ms:
                fake.default = Reply(pieces=[f"t{i} " for i in range(TOKENS)], delay_s=pace / 1000)
                for clients in args.clients:
                    sdk = statistics.median(through_sdk(fake, args.answers))
                    checked = len(fake.moderations)
                    latencies, posts = asyncio.run(through_papo(url, fake, args.answers, clients))
                    checks = (len(fake.moderations) - checked) / args.answers
                    papo = statistics.median(latencies)
                    rate = f"{1000 / pace:.0f}" if pace else "burst"
                    print(
                        f"{moderation:>10} {rate:>9} {clients:>7} {sdk:>8.2f}ms {papo:>6.2f}ms "
                        f"{papo - sdk:>6.2f}ms {statistics.median(posts):>12.0f} {checks:>13.1f}",
                        flush=True,
                    )
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
