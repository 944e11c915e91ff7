"""What papo costs on AWS: the billable counts of each route, measured under papo serve.

    python bench/costs.py [--sizes 2,10,50] [--messages 40]      (make bench-costs)

papo's handler runs under the emulator, in its threads, with DynamoDB (moto's
server mode) as on AWS. For rooms of N people it counts, per public message,
private message, edit, reaction, delete, bot question (and the bot as a
participant: a mention, asking again, a stopped answer, a summary), join,
presence change, typing, read and unread: Lambda invocations and their
duration, Management API posts (one API Gateway message each, besides the one
the client sent), and the DynamoDB calls each route makes, turned into
on-demand capacity units by DynamoDB's rules (a write unit per KB written,
twice in a transaction; a read unit per 4 KB read strongly consistent, half
eventually consistent).
Then it prices 1,000 messages with the prices below.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import botocore.client  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

import papo.aws.handler  # noqa: E402
from dynamodb_units import item_size, read_units, write_units  # noqa: E402
from papo.adapters.delivery.management_api import ManagementApiClient  # noqa: E402
from papo.adapters.store.dynamodb_table import create_table  # noqa: E402
from papo.aws.handler import ROUTE_KEYS  # noqa: E402
from papo.local.config import PAPO_HANDLER, ApiConfig, Limits  # noqa: E402
from papo.local.server import Emulator  # noqa: E402
from tests.fake_openai import FakeOpenAi, Reply  # noqa: E402
from tests.moto_server import SerialMotoServer  # noqa: E402

PRICES_TAKEN = (
    "us-east-1, as written on 2026-11-28, not checked against AWS's pricing pages; "
    "check them before relying"
)
LAMBDA_REQUEST = 0.20 / 1e6
LAMBDA_GB_SECOND_ARM = 0.0000133334
MEMORY_GB = 0.5  # the template's MemorySize: 512
APIGW_MESSAGE = 1.00 / 1e6  # per message of up to 32 KB, sent or received
APIGW_CONNECTION_MINUTE = 0.25 / 1e6
DYNAMODB_WRITE_UNIT = 0.625 / 1e6
DYNAMODB_READ_UNIT = 0.125 / 1e6


class Meter:
    """Counts, per route, what AWS bills: invocations and milliseconds, posts, capacity."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.local = threading.local()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.invocations: Counter[str] = Counter()
            self.ms: dict[str, list[float]] = {}
            self.posts: Counter[str] = Counter()
            self.calls: Counter[tuple[str, str]] = Counter()
            self.read_units: dict[str, float] = {}
            self.write_units: dict[str, float] = {}

    @property
    def route(self) -> str:
        return getattr(self.local, "route", "?")

    def invocation(self, route: str, ms: float) -> None:
        with self.lock:
            self.invocations[route] += 1
            self.ms.setdefault(route, []).append(ms)

    def post(self) -> None:
        with self.lock:
            self.posts[self.route] += 1

    def dynamodb(self, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        reads, writes = capacity(operation, params, response)
        with self.lock:
            self.calls[(self.route, operation)] += 1
            self.read_units[self.route] = self.read_units.get(self.route, 0.0) + reads
            self.write_units[self.route] = self.write_units.get(self.route, 0.0) + writes


def capacity(
    operation: str, params: dict[str, Any], response: dict[str, Any]
) -> tuple[float, float]:
    """On-demand read and write units of one call, by DynamoDB's rules
    (`bench/dynamodb_units.py`); a transaction's items count twice."""
    consistent = bool(params.get("ConsistentRead"))
    if operation == "GetItem":
        return read_units([item_size(response.get("Item", {}))], consistent=consistent), 0.0
    if operation == "Query":
        sizes = [item_size(item) for item in response.get("Items", [])]
        return read_units(sizes, consistent=consistent), 0.0
    if operation == "TransactGetItems":
        return 2.0 * len(params["TransactItems"]), 0.0
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return 0.0, float(write_units(params.get("Item") or params.get("Key", {})))
    if operation == "TransactWriteItems":
        units = 0
        for entry in params["TransactItems"]:
            ((_, body),) = entry.items()
            units += 2 * write_units(body.get("Item") or body.get("Key"))
        return 0.0, float(units)
    if operation == "BatchWriteItem":
        return 0.0, float(sum(len(v) for v in params["RequestItems"].values()))
    return 0.0, 0.0


@contextlib.contextmanager
def metered(meter: Meter) -> Iterator[None]:
    """Wraps papo's handler, its posts and botocore's DynamoDB calls with the meter."""
    handler = papo.aws.handler.handler
    base: Any = botocore.client.BaseClient
    make_call = base._make_api_call
    management: Any = ManagementApiClient
    post = management.post

    def timed(event: dict[str, Any], context: object) -> Any:
        route = "papoAnswer" if "papoAnswer" in event else event["requestContext"]["routeKey"]
        meter.local.route = route
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            meter.invocation(route, (time.perf_counter() - started) * 1000)

    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        response = make_call(client, operation, params)
        if client.meta.service_model.service_name == "dynamodb":
            meter.dynamodb(operation, params, response)
        return response

    def posted(client: ManagementApiClient, connection_id: str, data: Any) -> Any:
        meter.post()
        return post(client, connection_id, data)

    papo.aws.handler.handler = timed
    base._make_api_call, management.post = call, posted
    try:
        yield
    finally:
        papo.aws.handler.handler = handler
        base._make_api_call, management.post = make_call, post


def _bot_answered(frame: dict[str, Any]) -> bool:
    return frame.get("from") == "Bot" and frame.get("type") == "public"


async def _until(ws: ClientConnection, done: Callable[[dict[str, Any]], bool]) -> None:
    while not done(json.loads(await asyncio.wait_for(ws.recv(), 20))):
        pass


Step = tuple[dict[str, Any], int]
"""A step's counts, and how many times it was done."""


def _named(number: int) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("name") == f"P{number}"


def _saying(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("text") == text


async def scenario(
    url: str, size: int, messages: int, meter: Meter, fake: FakeOpenAi
) -> dict[str, Step]:
    """Each step's counts: joins, public and private messages, bot questions, and
    the bot as a participant (`_participant_steps`)."""
    steps: dict[str, Step] = {}
    async with contextlib.AsyncExitStack() as stack:
        meter.reset()
        people = [await stack.enter_async_context(connect(url)) for _ in range(size)]
        for number, ws in enumerate(people):
            await ws.send(json.dumps({"action": "setName", "name": f"P{number}"}))
            for other in people[: number + 1]:
                await _until(other, _named(number))
        steps["join"] = (_snapshot(meter), size)
        meter.reset()
        for number in range(messages):
            await people[0].send(json.dumps({"action": "sendPublic", "message": f"m{number}"}))
            for ws in people:
                await _until(ws, _saying(f"m{number}"))
        steps["public"] = (_snapshot(meter), messages)
        steps.update(await changes(people, messages, meter))
        meter.reset()
        for number in range(messages):
            message = {"action": "sendPrivate", "to": "P1", "message": f"p{number}"}
            await people[0].send(json.dumps(message))
            for ws in people[:2]:
                await _until(ws, _saying(f"p{number}"))
        steps["private"] = (_snapshot(meter), messages)
        # The first answer in a process imports the OpenAI SDK: not what each costs.
        await people[-1].send(json.dumps({"action": "sendBot", "message": "Warm up?"}))
        for listener in people:
            await _until(listener, _bot_answered)
        await asyncio.sleep(0.3)
        meter.reset()
        askers = people[: min(size, 4)]
        for ws in askers:
            await ws.send(json.dumps({"action": "sendBot", "message": "What is papo?"}))
            for listener in people:
                await _until(listener, _bot_answered)
        await asyncio.sleep(0.3)  # the answers' last invocations end after their last post
        steps["bot"] = (_snapshot(meter), len(askers))
        steps.update(await _attention(people, stack, url, messages, meter))
        await _participant_steps(people, askers, fake, meter, steps)
        meter.reset()
    deadline = time.monotonic() + 30
    while meter.invocations["$disconnect"] < size and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    steps["leave"] = (_snapshot(meter), size)
    return steps


async def _offset_of(ws: ClientConnection, text: str) -> int:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
        if frame.get("text") == text and "offset" in frame:
            return int(frame["offset"])


def _changing(kind: str, line: int) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("type") == kind and frame.get("line") == line


async def changes(people: list[ClientConnection], messages: int, meter: Meter) -> dict[str, Step]:
    """Edits, reactions and deletes of lines said first (not counted): the
    first person edits and deletes their own, the last reacts to them."""
    lines = []
    for number in range(messages):
        await people[0].send(json.dumps({"action": "sendPublic", "message": f"c{number}"}))
        lines.append(await _offset_of(people[0], f"c{number}"))
        for ws in people[1:]:
            await _until(ws, _saying(f"c{number}"))
    steps: dict[str, Step] = {}
    asks: tuple[tuple[str, ClientConnection, Callable[[int], dict[str, Any]]], ...] = (
        ("edit", people[0], lambda line: {"action": "edit", "offset": line, "message": "c2"}),
        ("react", people[-1], lambda line: {"action": "react", "offset": line, "emoji": "👍"}),
        ("delete", people[0], lambda line: {"action": "delete", "offset": line}),
    )
    kinds = {"edit": "edited", "react": "reactions", "delete": "deleted"}
    for step, who, ask in asks:
        meter.reset()
        for line in lines:
            await who.send(json.dumps(ask(line)))
            for ws in people:
                await _until(ws, _changing(kinds[step], line))
        steps[step] = (_snapshot(meter), messages)
    return steps


def _presence(away: int) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("type") == "presence" and frame.get("away") == away


def _of_type(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("type") == kind


async def _attention(
    people: list[ClientConnection],
    stack: contextlib.AsyncExitStack,
    url: str,
    messages: int,
    meter: Meter,
) -> dict[str, Step]:
    """Presence, typing, read and unread: each step's counts."""
    steps: dict[str, Step] = {}
    meter.reset()
    for number in range(messages):
        away = 1 - number % 2
        await people[-1].send(json.dumps({"action": "presence", "state": ("here", "away")[away]}))
        await _until(people[0], _presence(away))
    steps["presence"] = (_snapshot(meter), messages)
    # A connection's typing is relayed once every 3 s: each of the others types once.
    typists = people[1:]
    meter.reset()
    for ws in typists:
        await ws.send(json.dumps({"action": "typing"}))
        await _until(people[0], _of_type("typing"))
    steps["typing"] = (_snapshot(meter), len(typists))
    # Read markers are a person's: a reader with a session, who joins first (not counted).
    reader = await stack.enter_async_context(connect(url))
    await reader.send(json.dumps({"action": "setName", "name": "Reader", "resume": True}))
    await _until(reader, _of_type("session"))
    await _until(reader, _named_reader)
    await reader.send(json.dumps({"action": "unread"}))
    newest = 0
    while not newest:
        frame = json.loads(await asyncio.wait_for(reader.recv(), 20))
        counts: dict[str, dict[str, int]] = frame.get("unread", {})
        newest = next(iter(counts.values()), {}).get("newest", 0)
    meter.reset()
    for number in range(messages):
        await reader.send(json.dumps({"action": "read", "offset": newest - messages + number + 1}))
        await _until(reader, _of_type("unread"))
    steps["read"] = (_snapshot(meter), messages)
    meter.reset()
    for _ in range(messages):
        await reader.send(json.dumps({"action": "unread"}))
        await _until(reader, _of_type("unread"))
    steps["unread"] = (_snapshot(meter), messages)
    return steps


def _named_reader(frame: dict[str, Any]) -> bool:
    return frame.get("event") == "joined" and frame.get("name") == "Reader"


async def _frame(ws: ClientConnection, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 20))
        if done(frame):
            return frame


async def _participant_steps(
    people: list[ClientConnection],
    askers: list[ClientConnection],
    fake: FakeOpenAi,
    meter: Meter,
    steps: dict[str, Step],
) -> None:
    """The bot as a participant, each step beside `bot` (sendBot), the baseline:
    a public message that mentions @bot, asking again, an answer stopped after
    its first piece (the answer held by the fake server meanwhile), and a
    summary of the room for one person."""
    meter.reset()
    answers = []
    for ws in askers:
        await ws.send(json.dumps({"action": "sendPublic", "message": "@bot what is papo?"}))
        finals = [await _frame(listener, _bot_answered) for listener in people]
        answers.append(finals[people.index(ws)]["answerId"])
    await asyncio.sleep(0.3)
    steps["mention"] = (_snapshot(meter), len(askers))
    meter.reset()
    for ws, answer_id in zip(askers, answers, strict=True):
        await ws.send(json.dumps({"action": "askAgain", "answerId": answer_id}))
        for listener in people:
            await _until(listener, _bot_answered)
    await asyncio.sleep(0.3)
    steps["askAgain"] = (_snapshot(meter), len(askers))
    meter.reset()
    for ws in askers:
        fake.script(Reply(pieces=["One", " two", " three", " four."], held=True))
        await ws.send(json.dumps({"action": "sendPublic", "message": "@bot count slowly"}))
        fake.release()
        delta = await _frame(ws, lambda f: f.get("type") == "botDelta")
        await ws.send(json.dumps({"action": "stopAnswer", "answerId": delta["answerId"]}))
        for listener in people:
            await _until(listener, _bot_answered)
        fake.release(3)  # the stopped answer's upstream, let go
    await asyncio.sleep(0.3)
    steps["stop"] = (_snapshot(meter), len(askers))
    meter.reset()
    for ws in askers:
        await ws.send(json.dumps({"action": "catchUp", "after": 0}))
        await _until(ws, lambda f: f.get("type") == "private" and f.get("from") == "Bot")
    await asyncio.sleep(0.3)
    steps["catchUp"] = (_snapshot(meter), len(askers))


def _snapshot(meter: Meter) -> dict[str, Any]:
    with meter.lock:
        return {
            "invocations": sum(meter.invocations.values()),
            "ms": sum(sum(v) for v in meter.ms.values()),
            "posts": sum(meter.posts.values()),
            "read_units": sum(meter.read_units.values()),
            "write_units": sum(meter.write_units.values()),
            "calls": dict(Counter({f"{r} {o}": n for (r, o), n in meter.calls.items()})),
        }


def per_thousand(counts: dict[str, Any], done: int, size: int) -> dict[str, float]:
    """1,000 of a step, and what they cost (connection minutes: N people for an hour)."""
    scale = 1000 / done
    invocations = counts["invocations"] * scale
    gb_seconds = counts["ms"] * scale / 1000 * MEMORY_GB
    messages = (counts["posts"] + done) * scale  # each post, and what the clients sent
    reads, writes = counts["read_units"] * scale, counts["write_units"] * scale
    minutes = size * 60
    cost = (
        invocations * LAMBDA_REQUEST
        + gb_seconds * LAMBDA_GB_SECOND_ARM
        + messages * APIGW_MESSAGE
        + minutes * APIGW_CONNECTION_MINUTE
        + reads * DYNAMODB_READ_UNIT
        + writes * DYNAMODB_WRITE_UNIT
    )
    return {
        "invocations": invocations,
        "gb_seconds": gb_seconds,
        "apigw_messages": messages,
        "connection_minutes": minutes,
        "read_units": reads,
        "write_units": writes,
        "usd": cost,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2,10,50")
    parser.add_argument("--messages", type=int, default=40)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    logging.getLogger("papo").setLevel(logging.WARNING)  # one line per invocation: not here
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
    )
    moto = SerialMotoServer()
    moto.start()
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = moto.url
    meter = Meter()
    rows: list[tuple[int, str, dict[str, Any], int, dict[str, float]]] = []
    with FakeOpenAi().running() as fake, metered(meter), tempfile.TemporaryDirectory():
        for size in sizes:
            table = f"papo-costs-{size}"
            create_table(boto3.client("dynamodb"), table)
            environment = {
                "PAPO_STORE": "dynamodb",
                "PAPO_TABLE": table,
                "OPENAI_API_KEY": "sk-bench",
                "PAPO_BOT_BASE_URL": fake.url,
                # Counted as ever, never reached: one sender says all the room's messages.
                "PAPO_RATE_BURST": "1000000",
                "PAPO_RATE_PER_MINUTE": "1000000",
                # Typing relayed in every room here: what it would cost in each.
                "PAPO_TYPING_UP_TO": "1000000",
                "PAPO_BOT_QUESTIONS_PER_MINUTE": "1000",
            }
            config = ApiConfig.for_handler(
                PAPO_HANDLER, ROUTE_KEYS, limits=Limits(integration_timeout_s=29)
            )
            emulator = Emulator(config, port=0, environment=environment, tls_port=0)
            with emulator.running() as api:
                steps = asyncio.run(scenario(api.websocket_url, size, args.messages, meter, fake))
            for step, (counts, done) in steps.items():
                rows.append((size, step, counts, done, per_thousand(counts, done, size)))
    moto.stop()
    print(f"prices: {PRICES_TAKEN}")
    print(
        "| N | 1,000 of | Lambda requests | GB-s (measured here) | API Gateway messages "
        "| connection minutes (N for 1 h) | DynamoDB reads / writes (units) | USD |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size, step, _, _, cost in rows:
        if step == "leave":  # everyone at once: nobody left to tell
            continue
        print(
            f"| {size} | {step} | {cost['invocations']:,.0f} | {cost['gb_seconds']:,.1f} "
            f"| {cost['apigw_messages']:,.0f} | {cost['connection_minutes']:,} "
            f"| {cost['read_units']:,.0f} / {cost['write_units']:,.0f} | {cost['usd']:.4f} |"
        )
    print("\nper step (counts for the whole step):")
    for size, step, counts, done, _ in rows:
        median = counts["ms"] / max(1, counts["invocations"])
        print(
            f"N={size} {step} x{done}: {counts['invocations']} invocations, "
            f"{median:.1f} ms each on average, {counts['posts']} posts, "
            f"{counts['read_units']:g} RRU, {counts['write_units']:g} WRU"
        )
        print("   ", json.dumps(counts["calls"], sort_keys=True))


if __name__ == "__main__":
    main()
