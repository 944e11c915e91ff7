"""What each step of a public message costs papo's handler, in CPU.

    make bench-hot-path, or: python bench/hot_path.py [--members 100] [--rounds 7]

The steps one `sendPublic` takes in papo's Lambda handler, in a room of N
members, on a SQLite file, each measured alone in this process: its thread's
CPU time over many calls, the median of `--rounds` rounds. Then the whole
invocation, `handler(event, context)`, as `papo serve` makes it in its
threads, with the Management API handed over in the context (here a call that
answers 200, so that only the handler's side of each post is counted), and
as many invocations at once as papo serve's threads run for a burst of
messages. What the emulator's event loop spends on each message and each
frame it writes is measured in place by `bench/fanout.py` (the event loop's
and the handler threads' share of the server's CPU), since it needs real
sockets.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

URL = "http://127.0.0.1:9/dev"


def environment(data: Path) -> None:
    os.environ.update(
        {
            "PAPO_STORE": "sqlite",
            "PAPO_SQLITE_PATH": str(data / "papo.sqlite3"),
            "PAPO_MANAGEMENT_ENDPOINT": URL,
            "AWS_LAMBDA_LOG_LEVEL": "WARNING",
            # Flat out, as bench/fanout.py sends: the pace would refuse it.
            "PAPO_RATE_BURST": "1000000",
            "PAPO_RATE_PER_MINUTE": "1000000",
            "AWS_ACCESS_KEY_ID": "AKIDBENCH",
            "AWS_SECRET_ACCESS_KEY": "bench-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )


class Posts:
    """The Management API handed over in the context: counts and answers 200."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _method: str, _connection_id: str, _body: bytes) -> tuple[int, bytes]:
        self.count += 1
        return 200, b""


class Context:
    """What papo serve's context carries for a handler in its threads."""

    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:papo"

    def __init__(self, posts: Posts) -> None:
        self.in_process_management_api = {URL: posts}


def cpu_us(call: Callable[[], object], calls: int, rounds: int) -> float:
    """The median over rounds of the thread CPU one call takes, in µs."""
    call()
    medians = []
    for _ in range(rounds):
        started = time.thread_time()
        for _ in range(calls):
            call()
        medians.append((time.thread_time() - started) / calls * 1e6)
    return statistics.median(medians)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    n, rounds = args.members, args.rounds
    with tempfile.TemporaryDirectory() as data:
        environment(Path(data))
        measure(n, rounds)


def measure(n: int, rounds: int) -> None:
    from papo.aws import handler as lambda_handler
    from papo.core import protocol
    from papo.core.ports import Envelope, PaceWindow
    from papo.settings import Settings
    from tests import events

    posts = Posts()
    context = Context(posts)
    people = [events.connection_id() for _ in range(n)]
    for i, cid in enumerate(people):
        lambda_handler.handler(events.connect(cid), context)
        joined = json.dumps({"action": "setName", "name": f"user{i}"})
        lambda_handler.handler(events.message(cid, "setName", joined), context)
    time.sleep(0.2)  # the join window's last tell
    sender = people[0]
    said = [json.dumps({"action": "sendPublic", "message": f"hello {k}"}) for k in range(64)]
    messages = iter(range(10**9))

    def send_public() -> None:
        body = said[next(messages) % len(said)]
        lambda_handler.handler(events.message(sender, "sendPublic", body), context)

    settings = Settings.from_env()
    chat = lambda_handler._chat(settings, URL, context, posts)
    store = chat.room("main").store
    windows = (PaceWindow(1, 10**6, 2), PaceWindow(1, 10**6, 2))
    frame = protocol.public_frame("user0", "hello", msg_id="0" * 32, ts=1, offset=1)
    ttl = 10**13
    assert len(store.members()) == n

    def per_message(call: Callable[[], object], calls: int = 2000) -> float:
        return cpu_us(call, calls, rounds)

    def chat_built() -> object:
        return lambda_handler._chat(settings, URL, context, posts).room("main")

    def frame_built() -> bytes:
        return protocol.public_frame("user0", "hello", msg_id="0" * 32, ts=1, offset=1)

    def posted() -> object:
        return chat.send([Envelope(m.connection_id, (frame,)) for m in store.members()])

    steps = [
        ("settings read from the environment", per_message(Settings.from_env)),
        ("the chat found (once per container) and its room built", per_message(chat_built)),
        (
            "pace counted (count_frame: an UPDATE)",
            per_message(lambda: store.count_frame(sender, windows, 0)),
        ),
        ("sender's name read (get)", per_message(lambda: store.get(sender))),
        ("frame built (public_frame)", per_message(frame_built)),
        (
            "offset taken, frame kept (append_next: an INSERT)",
            per_message(lambda: store.append_next(lambda _: frame, ttl)),
        ),
        ("room's members read (members)", per_message(store.members)),
        (f"envelopes made, {n} posts handed to the transport", per_message(posted, 200)),
        ("the whole invocation, one at a time", per_message(send_public, 500)),
    ]
    with ThreadPoolExecutor(64) as pool:
        list(pool.map(lambda _: send_public(), range(256)))
        burst = []
        for _ in range(rounds):
            started = time.process_time()
            list(pool.map(lambda _: send_public(), range(500)))
            burst.append((time.process_time() - started) / 500 * 1e6)
    steps.append(("the whole invocation, 500 at once on 64 threads", statistics.median(burst)))
    print(f"sendPublic in a room of {n}: papo's handler on SQLite, median of {rounds} rounds")
    print(f"{'step':54} {'µs a message':>13} {'µs a delivery':>14}")
    for name, us in steps:
        print(f"{name:54} {us:13.1f} {us / n:14.2f}")
    assert posts.count > 0


if __name__ == "__main__":
    main()
