"""The checks of `papo conformance`: what a client of a stage running
`papo.conformance.echo` sees of API Gateway, each check one row of the table.

Each check is a coroutine that raises `Failed` (or any error) when the stage
does not behave as API Gateway does; it talks to the stage over WebSockets as
any client would, and to its Management API with boto3, signed with the
caller's credentials as boto3 finds them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from papo.conformance import WAIT_S

FRAME_LIMIT = 32 * 1024
MESSAGE_LIMIT = 128 * 1024


class Failed(Exception):
    """The stage did not do what API Gateway does."""


class Skipped(Exception):
    """A check not asked for."""


@dataclass(frozen=True)
class Target:
    url: str
    """wss://…/stage (or ws:// for papo serve)."""
    management_url: str
    region: str
    idle_s: float | None = None
    """The idle timeout to check, or None: not checked (it takes that long)."""
    wait_s: float = WAIT_S
    """How long a check waits for an answer the stage owes it."""

    def management(self) -> Any:
        return boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=self.management_url,
            region_name=self.region,
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )


def management_url_of(url: str) -> str:
    """The Management API of a stage: its WebSocket address's https:// form."""
    parts = urlsplit(url)
    scheme = {"wss": "https", "ws": "http"}.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise ValueError(f"not a WebSocket address (wss://…/stage): {url!r}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def region_of(url: str) -> str | None:
    """The region an `ID.execute-api.REGION.amazonaws.com` address names."""
    labels = (urlsplit(url).hostname or "").split(".")
    if len(labels) >= 4 and labels[1] == "execute-api":
        return labels[2]
    return None


Check = Callable[[Target], Awaitable[str]]
"""A check: what it saw when the stage held, else it raises."""


@dataclass
class Checks:
    rows: list[tuple[str, Check]] = field(default_factory=list)

    def __call__(self, name: str) -> Callable[[Check], Check]:
        def register(check: Check) -> Check:
            self.rows.append((name, check))
            return check

        return register

    def __iter__(self) -> Iterator[tuple[str, Check]]:
        return iter(self.rows)


CHECKS = Checks()


async def _answer(ws: ClientConnection, wait_s: float) -> dict[str, Any]:
    try:
        raw = await asyncio.wait_for(ws.recv(), wait_s)
    except TimeoutError:
        raise Failed(f"no answer in {wait_s:g} s (is the stage running papo's echo?)") from None
    try:
        answer = json.loads(raw)
    except ValueError:
        raise Failed(f"an answer that is not echo's JSON: {str(raw)[:80]!r}") from None
    if not isinstance(answer, dict):
        raise Failed(f"an answer that is not echo's: {str(raw)[:80]!r}")
    return answer


async def _routed(target: Target, message: str) -> str:
    async with connect(target.url) as ws:
        await ws.send(message)
        answer = await _answer(ws, target.wait_s)
    route = answer.get("route")
    if not isinstance(route, str):
        raise Failed(f"an answer naming no route: {answer}")
    return route


def _expect(seen: object, expected: object, what: str) -> str:
    if seen != expected:
        raise Failed(f"{what}: {seen!r}, not {expected!r}")
    return f"{what}: {seen!r}"


@CHECKS("a message's action picks its route")
async def route_by_action(target: Target) -> str:
    return _expect(await _routed(target, '{"action": "echo"}'), "echo", "route")


@CHECKS("route keys match exactly, case included")
async def route_case(target: Target) -> str:
    return _expect(await _routed(target, '{"action": "Echo"}'), "$default", "route")


@CHECKS("a message that is not JSON goes to $default")
async def not_json(target: Target) -> str:
    return _expect(await _routed(target, "not json"), "$default", "route")


@CHECKS("a message naming no route goes to $default")
async def no_route(target: Target) -> str:
    return _expect(await _routed(target, '{"action": "nowhere"}'), "$default", "route")


@CHECKS("$connect's status refuses the handshake with it")
async def connect_status(target: Target) -> str:
    try:
        async with connect(f"{target.url}?status=403"):
            pass
    except InvalidStatus as refused:
        return _expect(refused.response.status_code, 403, "handshake refused with")
    raise Failed("the handshake was accepted")


@CHECKS("$connect picks the subprotocol")
async def subprotocol(target: Target) -> str:
    async with connect(target.url, subprotocols=["papo.one", "papo.two"]) as ws:  # type: ignore[list-item]
        return _expect(ws.subprotocol, "papo.one", "subprotocol")


async def _length_echoed(target: Target, frames: list[str]) -> str:
    async with connect(target.url, max_size=None) as ws:
        await ws.send(frames[0] if len(frames) == 1 else iter(frames))
        answer = await _answer(ws, target.wait_s)
    return _expect(answer.get("length"), sum(map(len, frames)), "message length")


async def _closed_with_1009(target: Target, frames: list[str]) -> str:
    async with connect(target.url, max_size=None) as ws:
        try:
            await ws.send(frames[0] if len(frames) == 1 else iter(frames))
            await asyncio.wait_for(ws.recv(), target.wait_s)
        except ConnectionClosed:
            pass
        except TimeoutError:
            raise Failed(f"still open {target.wait_s:g} s later") from None
        else:
            raise Failed("the message was taken")
        code = ws.close_code if ws.close_code is not None else ws.protocol.close_rcvd
        return _expect(code, 1009, "closed with")


@CHECKS("a frame of 32 KB passes")
async def frame_at_limit(target: Target) -> str:
    return await _length_echoed(target, ["f" * (FRAME_LIMIT - 2048)])


@CHECKS("a frame over 32 KB closes the connection with 1009")
async def frame_over_limit(target: Target) -> str:
    return await _closed_with_1009(target, ["f" * (FRAME_LIMIT + 1024)])


@CHECKS("a message of 128 KB in frames passes")
async def message_at_limit(target: Target) -> str:
    frame = "m" * (FRAME_LIMIT - 2048)
    return await _length_echoed(target, [frame] * (MESSAGE_LIMIT // len(frame)))


@CHECKS("a message over 128 KB closes the connection with 1009")
async def message_over_limit(target: Target) -> str:
    frame = "m" * (FRAME_LIMIT - 2048)
    return await _closed_with_1009(target, [frame] * (MESSAGE_LIMIT // len(frame) + 1))


async def _own_id(ws: ClientConnection, target: Target) -> str:
    await ws.send('{"action": "echo"}')
    found = (await _answer(ws, target.wait_s)).get("connectionId")
    if not isinstance(found, str):
        raise Failed("echo named no connectionId")
    return found


@CHECKS("@connections POST reaches the client")
async def post(target: Target) -> str:
    async with connect(target.url) as ws:
        cid = await _own_id(ws, target)
        await asyncio.to_thread(
            target.management().post_to_connection, ConnectionId=cid, Data=b"posted"
        )
        try:
            got = await asyncio.wait_for(ws.recv(), target.wait_s)
        except TimeoutError:
            raise Failed("nothing arrived") from None
    return _expect(got, "posted", "received")


@CHECKS("@connections GET answers the connection's times and identity")
async def get(target: Target) -> str:
    async with connect(target.url) as ws:
        cid = await _own_id(ws, target)
        found = await asyncio.to_thread(target.management().get_connection, ConnectionId=cid)
    missing = [k for k in ("ConnectedAt", "LastActiveAt", "Identity") if k not in found]
    if missing or "SourceIp" not in found["Identity"]:
        raise Failed(f"missing {missing or ['Identity.SourceIp']}")
    return "ConnectedAt, LastActiveAt, Identity.SourceIp"


@CHECKS("@connections DELETE closes the connection")
async def delete(target: Target) -> str:
    async with connect(target.url) as ws:
        cid = await _own_id(ws, target)
        await asyncio.to_thread(target.management().delete_connection, ConnectionId=cid)
        try:
            await asyncio.wait_for(ws.wait_closed(), target.wait_s)
        except TimeoutError:
            raise Failed(f"still open {target.wait_s:g} s later") from None
        return f"closed with {ws.close_code}"


@CHECKS("@connections answers 410 GoneException for a closed connection")
async def gone(target: Target) -> str:
    async with connect(target.url) as ws:
        cid = await _own_id(ws, target)
    client = target.management()
    try:
        await asyncio.to_thread(client.post_to_connection, ConnectionId=cid, Data=b"late")
    except client.exceptions.GoneException:
        return "GoneException"
    raise Failed("the post to a closed connection was taken")


@CHECKS("an idle connection closes with 1001 at the idle timeout")
async def idle(target: Target) -> str:
    if target.idle_s is None:
        raise Skipped("not asked for (--idle SECONDS)")
    slack = max(2.0, target.idle_s * 0.1)
    async with connect(target.url, ping_interval=None) as ws:
        await _own_id(ws, target)
        began = time.monotonic()
        try:
            await asyncio.wait_for(ws.wait_closed(), target.idle_s + slack)
        except TimeoutError:
            raise Failed(f"still open {target.idle_s + slack:g} s later") from None
        after = time.monotonic() - began
    if after < target.idle_s - slack:
        raise Failed(f"closed after {after:.1f} s, before the idle timeout")
    return _expect(ws.close_code, 1001, f"after {after:.1f} s, closed with")


HELD, FAILED, SKIPPED = "held", "FAILED", "skipped"

Row = tuple[str, str, str]
"""A check's name, its result (`HELD`, `FAILED`, `SKIPPED`), and what was seen."""


async def run(target: Target) -> list[Row]:
    rows = []
    for name, check in CHECKS:
        try:
            rows.append((name, HELD, await check(target)))
        except Skipped as skipped:
            rows.append((name, SKIPPED, str(skipped)))
        except Failed as failed:
            rows.append((name, FAILED, str(failed)))
        except Exception as error:  # noqa: BLE001 - a check that broke did not hold: say how
            rows.append((name, FAILED, f"{type(error).__name__}: {error}"[:200]))
    return rows


def table(rows: list[Row]) -> str:
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{'check':<{width}}  {'result':<7}  seen", f"{'-' * width}  -------  ----"]
    lines += [f"{name:<{width}}  {result:<7}  {seen}" for name, result, seen in rows]
    held = sum(1 for _, result, _ in rows if result == HELD)
    asked = sum(1 for _, result, _ in rows if result != SKIPPED)
    lines.append(f"{held} of {len(rows)} checks held ({len(rows) - asked} not asked for)")
    return "\n".join(lines)
