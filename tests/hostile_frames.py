"""Hostile frames from outside, as an attacker sends them: what `bench/fuzz_frames.py`
and the suite's short run of it share.

`Maker` makes random frames of every kind a client can send: wrong types,
strings up to 200 KB, text that is not UTF-8, binary frames, nested objects,
odd Unicode, names with control, format and look-alike characters, numbers
past every bound. `fuzz` sends them from a few clients (each waiting for
something back before its next frame, and connecting again when the server
closes it) while silent people watch, and gathers `Findings`: what the
clients were answered and closed with, and what the watchers heard that they
should not have, judged by `tests.unicode_oracle`, not by papo's code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.unicode_oracle import (
    DEFAULT_IGNORABLE,
    RESERVED,
    passes_for,
    shows_a_letter_or_digit,
)

ACTIONS = (
    "setName",
    "sendPublic",
    "sendPrivate",
    "sendBot",
    "sync",
    "ping",
    "lines",
    "presence",
    "typing",
    "read",
    "unread",
    "edit",
    "delete",
    "react",
)
FIELDS = (
    "name",
    "message",
    "to",
    "resume",
    "offset",
    "privateOffset",
    "language",
    "token",
    "before",
    "after",
    "limit",
    "state",
    "rooms",
    "id",
    "emoji",
    "add",
)
WATCHERS = ("Ana", "Bruno")
COURSE_KEYS = ("members", "systemMessage", "publicMessage", "privateMessage")
MAX_STRING = 200 * 1024


LOOKALIKES = (
    "\u0430\u043e\u0435\u0412\u0422\u0410"  # Cyrillic a, o, e, VE, TE, A
    "\u0392\u039f\u03a4\u0391"  # Greek BETA, OMICRON, TAU, ALPHA
    "\u0299\u1d0f\u1d1b\u1d00\u0274"  # small capitals B, O, T, A, N
    "\uff22\uff4f\uff54\uff21"  # fullwidth B, o, t, A
    "\U0001d401\U0001d428\U0001d42d"  # mathematical bold B, o, t
    "0O1lI|8"
)
"""Characters that pass for others: test data for the fuzzer, not a rule of papo's."""


def _pool(test: Callable[[str], bool]) -> list[str]:
    return [chr(c) for c in range(sys.maxunicode + 1) if test(chr(c))]


class Pools:
    """The odd characters, by the Unicode categories they come from."""

    def __init__(self) -> None:
        category = unicodedata.category
        self.formats = _pool(lambda c: category(c) == "Cf")
        self.ignorables = _pool(lambda c: bool(DEFAULT_IGNORABLE.match(c)) and category(c) != "Cf")
        self.marks = _pool(lambda c: category(c) in {"Mn", "Me"})[:2000]
        self.spaces = _pool(lambda c: category(c) in {"Zs", "Zl", "Zp"})
        self.controls = _pool(lambda c: category(c) == "Cc")
        self.fillers = ["\u3164", "\uffa0", "\u115f", "\u1160", "\u2800", "\u034f", "\ufe0f"]
        self.private = ["\ue000", "\uf8ff", "\U000f0000", "\U0010fffd"]
        self.noncharacters = ["\ufffe", "\uffff", "\U0001fffe", "\ufdd0"]
        self.lookalikes = list(LOOKALIKES)
        self.wide = ["田", "中", "ｱ", "\U0001f600", "\U0001f469\u200d\U0001f4bb", "ع", "א"]

    def odd(self, rng: random.Random) -> str:
        pool = rng.choice(
            [
                self.formats,
                self.ignorables,
                self.marks,
                self.spaces,
                self.controls,
                self.fillers,
                self.private,
                self.noncharacters,
                self.lookalikes,
                self.wide,
            ]
        )
        return rng.choice(pool)


@dataclass(frozen=True)
class Frame:
    kind: str
    data: str | bytes
    text: bool = True


class Maker:
    """Random frames of every kind, from one seed."""

    KINDS = (
        "wrong types",
        "long string",
        "not UTF-8",
        "binary",
        "nested",
        "odd Unicode",
        "names",
        "numbers",
        "not JSON",
        "valid",
    )

    def __init__(self, seed: int, pools: Pools) -> None:
        self.rng = random.Random(seed)
        self.pools = pools

    def frame(self) -> Frame:
        makers: dict[str, Callable[[], Frame]] = {
            "wrong types": self._wrong_types,
            "long string": self._long_string,
            "not UTF-8": self._not_utf8,
            "binary": self._binary,
            "nested": self._nested,
            "odd Unicode": self._odd_unicode,
            "names": self._names,
            "numbers": self._numbers,
            "not JSON": self._not_json,
            "valid": self._valid,
        }
        return makers[self.rng.choice(self.KINDS)]()

    # What a frame holds

    def odd_text(self, size: int) -> str:
        rng = self.rng
        return "".join(
            self.pools.odd(rng) if rng.random() < 0.6 else rng.choice("abc xyz!")
            for _ in range(size)
        )

    def json_value(self, depth: int = 0) -> Any:
        rng = self.rng
        choices: list[Callable[[], Any]] = [
            lambda: None,
            lambda: rng.choice([True, False]),
            lambda: rng.choice([0, -1, 1, 2**31, 2**53, 2**63, 2**64 + 1, -(2**63) - 1, 10**40]),
            lambda: rng.choice([0.5, -0.0, 1e308, -1e-308, 3.0]),
            lambda: self.odd_text(rng.randint(0, 12)),
        ]
        if depth < 3:
            choices += [
                lambda: [self.json_value(depth + 1) for _ in range(rng.randint(0, 3))],
                lambda: {
                    rng.choice((*FIELDS, "action", "", "\u0000")): self.json_value(depth + 1)
                    for _ in range(rng.randint(0, 3))
                },
            ]
        return rng.choice(choices)()

    def dumps(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=self.rng.random() < 0.3)

    def name_like(self) -> str:
        """A name passing for a watcher or the bot, or made of odd characters."""
        rng = self.rng
        if rng.random() < 0.3:
            return self.odd_text(rng.randint(0, 8))
        target = rng.choice(WATCHERS + RESERVED)
        out = []
        for char in target:
            if rng.random() < 0.3:
                char = rng.choice([*self.pools.lookalikes, char.upper(), char.lower()])
            out.append(char)
            while rng.random() < 0.3:
                out.append(self.pools.odd(rng))
        return "".join(out)

    # The kinds

    def _wrong_types(self) -> Frame:
        frame = {"action": self.rng.choice(ACTIONS)}
        for key in self.rng.sample(FIELDS, self.rng.randint(1, 3)):
            frame[key] = self.json_value()
        return Frame("wrong types", self.dumps(frame))

    def _long_string(self) -> Frame:
        rng = self.rng
        size = int(2 ** rng.uniform(10, 17.6))  # 1 KB to some 200 KB
        if rng.random() < 0.3:
            return Frame("long string", "x" * min(size, MAX_STRING))
        field_name = rng.choice(["message", "name", "to"])
        action = rng.choice(ACTIONS[:4])
        body = {"action": action, field_name: rng.choice("xé田\U0001f600") * size}
        return Frame("long string", json.dumps(body, ensure_ascii=False)[:MAX_STRING])

    def _not_utf8(self) -> Frame:
        rng = self.rng
        broken = rng.choice(
            [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80"]
        )
        body = json.dumps({"action": "sendPublic", "message": "hi"}).encode()
        at = rng.randint(0, len(body))
        return Frame("not UTF-8", body[:at] + broken + body[at:], text=True)

    def _binary(self) -> Frame:
        rng = self.rng
        if rng.random() < 0.5:
            data = self.dumps({"action": rng.choice(ACTIONS), "message": "hi"}).encode()
        else:
            data = rng.randbytes(rng.randint(0, 512))
        return Frame("binary", data, text=False)

    def _nested(self) -> Frame:
        depth = int(2 ** self.rng.uniform(1, 14))
        if self.rng.random() < 0.5:
            return Frame("nested", "[" * depth + "]" * depth)
        inner = '{"a":' * depth + "1" + "}" * depth
        return Frame("nested", f'{{"action": "sendPublic", "message": {inner}}}')

    def _odd_unicode(self) -> Frame:
        action = self.rng.choice(["sendPublic", "sendPrivate", "sendBot"])
        frame = {"action": action, "message": self.odd_text(self.rng.randint(0, 40))}
        if action == "sendPrivate":
            frame["to"] = self.rng.choice((*WATCHERS, "")) + self.odd_text(1)
        return Frame("odd Unicode", self.dumps(frame))

    def _names(self) -> Frame:
        return Frame("names", self.dumps({"action": "setName", "name": self.name_like()}))

    def _numbers(self) -> Frame:
        rng = self.rng
        number = rng.choice([2**63, 2**64, -1, 1e20, 10**400, 2**53, 2**53 - 1, "7", None])
        kind = rng.random()
        if kind < 0.35:
            frame: dict[str, Any] = {
                "action": "sync",
                rng.choice(["offset", "privateOffset"]): number,
            }
        elif kind < 0.6:
            frame = {"action": "lines", rng.choice(["before", "after", "limit"]): number}
        else:
            resume = {"token": rng.choice(["x", "", 5]), "offset": number, "privateOffset": number}
            frame = {"action": "setName", "name": "Zed", "resume": resume}
        return Frame("numbers", self.dumps(frame))

    def _not_json(self) -> Frame:
        return Frame("not JSON", self.odd_text(self.rng.randint(0, 60)))

    def _valid(self) -> Frame:
        rng = self.rng
        frame: dict[str, Any] = rng.choice(
            [
                {"action": "setName", "name": f"Fuzz{rng.randint(0, 99)}"},
                {"action": "sendPublic", "message": "hello"},
                {"action": "sendPrivate", "to": rng.choice(WATCHERS), "message": "psst"},
                {"action": "sync", "offset": rng.randint(0, 50)},
                {"action": "lines", "before": rng.randint(1, 50), "limit": rng.randint(1, 20)},
                {"action": "ping"},
            ]
        )
        return Frame("valid", json.dumps(frame))


# Running it


@dataclass
class Findings:
    frames: Counter[str] = field(default_factory=Counter)
    """Frames sent, by kind."""
    answers: Counter[str] = field(default_factory=Counter)
    """What the clients heard, by error code or course key."""
    closes: Counter[int] = field(default_factory=Counter)
    unanswered: Counter[str] = field(default_factory=Counter)
    """Frames after which nothing came back in time, by kind."""
    internal_errors: list[str] = field(default_factory=list)
    wrongly_heard: list[str] = field(default_factory=list)
    """What the watchers heard that they should not have."""
    answered_at_the_end: int = 0
    clients: int = 0

    def hear(self, raw: str | bytes) -> None:
        if "Internal server error" in str(raw):
            self.internal_errors.append(str(raw)[:200])
        try:
            frame = json.loads(raw)
        except ValueError:
            self.answers["(not JSON)"] += 1
            return
        if isinstance(frame, dict):
            key = frame.get("code") or frame.get("message") or frame.get("type")
            self.answers[str(key or next(iter(frame), "(empty)"))] += 1

    def watch(self, watcher: str, raw: str | bytes) -> None:
        frame = json.loads(raw)
        if "code" in frame or "error" in frame or "message" in frame:
            self.wrongly_heard.append(f"{watcher} was sent {str(raw)[:200]}")
            return
        if not any(key in frame for key in COURSE_KEYS) and "history" not in frame:
            self.wrongly_heard.append(f"{watcher} was sent a frame without a course key: {raw!r}")
            return
        names = list(frame.get("members", []))
        if "from" in frame:
            names.append(frame["from"])
        for name in names:
            if not shows_a_letter_or_digit(name):
                self.wrongly_heard.append(f"{watcher} saw the name {name!r}, which shows nothing")
            for other in WATCHERS + RESERVED:
                if passes_for(name, other):
                    self.wrongly_heard.append(f"{watcher} saw {name!r}, passing for {other}")


class _Client:
    """A fuzzing client: one connection at a time, read as it goes, and a new
    one whenever the server closes it."""

    def __init__(self, url: str, findings: Findings) -> None:
        self.url = url
        self.findings = findings
        self.arrived = asyncio.Event()
        self.synced = asyncio.Event()
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.closing = False

    async def open(self) -> None:
        self.ws = await connect(self.url, max_size=None, ping_interval=None, open_timeout=30)
        self.reader = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                self.findings.hear(raw)
                if '"missed"' in str(raw):
                    self.synced.set()
                self.arrived.set()
        except ConnectionClosed:
            pass
        if not self.closing:
            self.findings.closes[ws.close_code or 1006] += 1
        self.arrived.set()

    async def _send(self, data: str | bytes, text: bool) -> None:
        """Sends on the open connection; if the server closed it meanwhile (after
        an earlier frame), on a new one."""
        assert self.ws is not None
        assert self.reader is not None
        try:
            await self.ws.send(data, text=text)
        except ConnectionClosed:
            await self.reader
            await self.open()
            assert self.ws is not None
            await self.ws.send(data, text=text)

    async def send(self, frame: Frame, answer_s: float) -> None:
        """Sends a frame and waits for something back (or the close)."""
        self.arrived.clear()
        try:
            await self._send(frame.data, frame.text)
            await asyncio.wait_for(self.arrived.wait(), answer_s)
        except ConnectionClosed:
            pass
        except TimeoutError:
            self.findings.unanswered[frame.kind] += 1
        assert self.reader is not None
        if self.reader.done():
            await self.open()

    async def answers(self, answer_s: float) -> bool:
        """Whether a `sync` (which runs the function) still gets its answer."""
        self.synced.clear()
        with contextlib.suppress(ConnectionClosed, TimeoutError):
            await self._send(json.dumps({"action": "sync"}), True)
            await asyncio.wait_for(self.synced.wait(), answer_s)
            return True
        return False

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await self.reader


HEARTBEAT_S = 240.0
"""How often a watcher says `ping`, as papo's web client does, so that a long
run does not outlast API Gateway's 10 idle minutes."""


async def _watch(url: str, name: str, findings: Findings, joined: asyncio.Event) -> None:
    async with connect(url, max_size=None, ping_interval=None, open_timeout=30) as ws:

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(HEARTBEAT_S)
                await ws.send(json.dumps({"action": "ping"}))

        beating = asyncio.create_task(heartbeat())
        await ws.send(json.dumps({"action": "setName", "name": name}))
        try:
            async for raw in ws:
                if json.loads(raw) == {"type": "pong"}:
                    continue
                if not joined.is_set():
                    joined.set()  # its own join
                    continue
                findings.watch(name, raw)
        except ConnectionClosed:
            pass
        finally:
            beating.cancel()
        findings.wrongly_heard.append(f"{name} was disconnected with {ws.close_code}")


async def fuzz(
    url: str,
    *,
    clients: int = 5,
    frames: int = 1000,
    seed: int = 1,
    answer_s: float = 5.0,
    deadline_s: float = 900.0,
) -> Findings:
    """`clients` send `frames` random frames each while the watchers listen;
    stops sending at `deadline_s`."""
    findings = Findings(clients=clients)
    pools = Pools()
    joined = [asyncio.Event() for _ in WATCHERS]
    watchers = [
        asyncio.create_task(_watch(url, name, findings, event))
        for name, event in zip(WATCHERS, joined, strict=True)
    ]
    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in joined)), 60)
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + deadline_s

    async def one(index: int) -> None:
        maker = Maker(seed * 1000 + index, pools)
        client = _Client(url, findings)
        await client.open()
        for _ in range(frames):
            if loop.time() > stop_at:
                break
            frame = maker.frame()
            findings.frames[frame.kind] += 1
            await client.send(frame, answer_s)
        if await client.answers(max(answer_s, 30)):
            findings.answered_at_the_end += 1
        await client.close()

    await asyncio.gather(*(one(i) for i in range(clients)))
    for watcher in watchers:
        watcher.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    return findings


_DIGITS = re.compile(r"\d+")


def log_findings(log: str) -> dict[str, Any]:
    """What `papo serve`'s log says: its size, tracebacks, and the emulator's own
    lines (not the functions' START, END, REPORT and their own records) by what
    they say."""
    lines = log.splitlines()
    own: Counter[str] = Counter()
    for line in lines:
        if line.startswith('{"timestamp"'):
            record = json.loads(line)
            if str(record.get("logger", "")).startswith("papo.local"):
                own[_DIGITS.sub("N", str(record.get("message", "")))[:100]] += 1
        elif line.strip() and not line.startswith(("START ", "END ", "REPORT ", "[", " ", "papo ")):
            own[_DIGITS.sub("N", line)[:100]] += 1
    return {
        "lines": len(lines),
        "bytes": len(log.encode()),
        "tracebacks": log.count("Traceback"),
        "internal errors": log.count("Internal server error"),
        "own lines": own,
    }
