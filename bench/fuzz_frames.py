"""Hostile frames from outside: random frames at `papo serve`, as an attacker sends them.

    python bench/fuzz_frames.py [--clients 5] [--frames 1000] [--seed 1]
                                [--only sqlite|dynamodb] [--deadline 900]

For each of two configurations, papo's handler with SQLite in the emulator's
threads, and with DynamoDB (moto's server mode) in two worker processes
(`--workers 2`), it starts `papo serve` as a user runs it, in a process of its
own on free loopback ports with its log in a file. Two watchers join (Ana and
Bruno) and say nothing; `--clients` clients send `--frames` random frames each
(`tests/hostile_frames.py`: wrong types, strings up to 200 KB, text that is
not UTF-8, binary frames, nested objects, odd Unicode, names with control,
format and look-alike characters, numbers past every bound), each waiting for
something back before its next frame and connecting again when closed; then
`--handshakes` requests that are not HTTP at all. The clients' rate limit is
lifted (as `PAPO_RATE_*` allow), so that frames reach the chat rather than its
pace.

It reports what the clients were answered and closed with, the frames after
which nothing came back within `--answer` seconds, `Internal server error`
answers, what the watchers heard that they should not have (a refusal, a
name that shows nothing or passes for one of them or the bot), whether every
client still got an answer at the end, and the log: its size, tracebacks,
and the emulator's own lines by what they say.
Bounded in count and time; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402

from papo.adapters.store.dynamodb_table import create_table  # noqa: E402
from tests.hostile_frames import Findings, fuzz, log_findings  # noqa: E402
from tests.moto_server import SerialMotoServer  # noqa: E402

UNPACED = {"PAPO_RATE_BURST": "1000000", "PAPO_RATE_PER_MINUTE": "1000000"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def papo_serve(log: Path, env: dict[str, str], *args: str) -> Iterator[str]:
    """`papo serve` on free loopback ports, its output in `log`; its WebSocket URL."""
    port = free_port()
    command = [sys.executable, "-m", "papo", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--tls-port", "0", "--web-port", "0", *args]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=out, stderr=out, cwd=ROOT
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError(f"papo serve did not start: {log.read_text()}") from None
                    time.sleep(0.1)
            yield f"ws://127.0.0.1:{port}/dev"
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


async def not_http(url: str, count: int) -> int:
    """Connections that send bytes no HTTP server can read; how many got an answer."""
    host, port = url.removeprefix("ws://").split("/")[0].split(":")
    answered = 0
    for n in range(count):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(bytes([n % 256]) * 64 + b"\r\n\r\n")
        await writer.drain()
        answered += bool(await asyncio.wait_for(reader.read(), 30))
        writer.close()
    return answered


def report(name: str, findings: Findings, log: dict[str, Any], handshakes: tuple[int, int]) -> None:
    sent = sum(findings.frames.values())
    print(f"\n== {name}: {findings.clients} clients, {sent:,} frames sent", flush=True)
    print("   by kind:", dict(sorted(findings.frames.items())))
    print("   answers:", dict(findings.answers.most_common()))
    print("   closed by the server, by code:", dict(sorted(findings.closes.items())))
    print("   no answer within the wait, by kind:", dict(findings.unanswered) or "none")
    print(f"   'Internal server error' answers: {len(findings.internal_errors)}")
    for line in findings.internal_errors[:5]:
        print("     ", line)
    print(f"   heard by the watchers that should not have been: {len(findings.wrongly_heard)}")
    for line in findings.wrongly_heard[:10]:
        print("     ", line)
    print(f"   clients answered at the end: {findings.answered_at_the_end} of {findings.clients}")
    print(f"   requests that are not HTTP: {handshakes[1]} of {handshakes[0]} answered")
    print(
        f"   log: {log['lines']:,} lines, {log['bytes']:,} bytes, "
        f"{log['tracebacks']} tracebacks, {log['internal errors']} 'Internal server error'"
    )
    print("   the emulator's own lines, by what they say:")
    for line, count in log["own lines"].most_common(12):
        print(f"     {count:5} x {line}")


def run(name: str, url: str, log_file: Path, args: argparse.Namespace) -> None:
    async def both() -> tuple[Findings, int]:
        findings = await fuzz(
            url,
            clients=args.clients,
            frames=args.frames,
            seed=args.seed,
            answer_s=args.answer,
            deadline_s=args.deadline,
        )
        return findings, await not_http(url, args.handshakes)

    started = time.perf_counter()
    findings, answered = asyncio.run(both())
    took = time.perf_counter() - started
    print(f"\n{name}: {took:.0f} s", end="")
    report(name, findings, log_findings(log_file.read_text()), (args.handshakes, answered))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--frames", type=int, default=1000, help="frames each client sends")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--answer", type=float, default=5.0, help="seconds to wait for an answer")
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds of sending, at most")
    parser.add_argument("--handshakes", type=int, default=100)
    parser.add_argument("--only", choices=["sqlite", "dynamodb"])
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's line for each request
    with tempfile.TemporaryDirectory(prefix="papo-fuzz-") as folder:
        data = Path(folder)
        if args.only in (None, "sqlite"):
            env = {"PAPO_STORE": "sqlite", "PAPO_SQLITE_PATH": str(data / "papo.sqlite3")}
            log = data / "sqlite.log"
            with papo_serve(log, {**env, **UNPACED}, "--workers", "0") as url:
                run("SQLite, handler in threads", url, log, args)
        if args.only in (None, "dynamodb"):
            moto = SerialMotoServer()
            moto.start()
            aws = {
                "AWS_ACCESS_KEY_ID": "fuzz",
                "AWS_SECRET_ACCESS_KEY": "fuzz",
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ENDPOINT_URL_DYNAMODB": moto.url,
            }
            create_table(
                boto3.client(
                    "dynamodb",
                    endpoint_url=moto.url,
                    region_name="us-east-1",
                    aws_access_key_id="fuzz",
                    aws_secret_access_key="fuzz",
                ),
                "papo-fuzz",
            )
            env = {**aws, "PAPO_STORE": "dynamodb", "PAPO_TABLE": "papo-fuzz", **UNPACED}
            log = data / "dynamodb.log"
            try:
                with papo_serve(log, env, "--workers", "2") as url:
                    run("DynamoDB (moto), handler in 2 worker processes", url, log, args)
            finally:
                moto.stop()


if __name__ == "__main__":
    main()
