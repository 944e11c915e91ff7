"""Public-message fan-out through `papo serve` against a plain websockets server.

Run by hand: `make bench-fanout` (or `.venv/bin/python bench/fanout.py`).

For each room size N it starts each server in its own process on a free
loopback port, joins N clients one after another (connect, setName, wait for
one's own "joined"), then measures:

- flat out: one client sends M messages back to back; deliveries per second
  until every client has every message, and the latency of each delivery;
- paced: 5 messages a second for 4 seconds; the latency of each delivery;
- server CPU (user + system, from /proc) per delivery during the flat-out run,
  and the part of it the main thread spent (`loop`): the event loop's, which
  reads and writes the WebSockets; papo serve runs its handlers in other threads.

`--senders K` measures order instead, papo alone: K clients send at once, and
every client counts the messages that came after one with a higher offset
(out of order on the wire); once all came, it sorts its messages by offset
and counts those placed otherwise than in the first client's view (one order
for everybody: 0), and each sender's messages placed before one that sender
sent earlier (against the order sent). Senders send as papo's web client
does, each message once they heard their last, and then in a burst, without
waiting: frames of a burst are invoked concurrently, as on AWS, and take
offsets in the order their invocations reach the store.

The servers are papo's handler with SQLite under the emulator (posting back
through the Management API as on AWS), and `bench/plain_server.py`: the same
protocol in memory on plain websockets, the floor of what Python can do here.
Every loop is bounded in count and time, and only loopback is used.

The machine is shared and noisy: `--runs K` measures every server K times,
taking turns (plain, papo, plain, papo...), and prints the medians; with
`--baseline DIR` (another checkout of papo, such as `git worktree add DIR
COMMIT`) papo as it is there takes its turn too, from DIR/src, so that a
change is measured against the code before it in one go.
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
from dataclasses import dataclass, field, fields
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
PHASE_TIMEOUT_S = 300.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main_thread_seconds(pid: int) -> float:
    """CPU of a process's main thread, the event loop's (/proc's scheduler
    statistics, in ns: a thread's share of the ticks above would be too coarse)."""
    return int(Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[0]) / 1e9


@dataclass
class Server:
    name: str
    command: list[str]
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            self.command,
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        port = int(self.url.rsplit(":", 1)[1].split("/")[0])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start")

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


@dataclass
class Client:
    name: str
    ws: ClientConnection
    joined: asyncio.Event = field(default_factory=asyncio.Event)
    latencies: list[float] = field(default_factory=list)
    received: int = 0
    expected: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    arrivals: list[tuple[int, str]] = field(default_factory=list)
    """(offset, text) of each public message, as they came."""
    own_heard: int = 0
    heard_own: asyncio.Event = field(default_factory=asyncio.Event)

    async def read(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            if "publicMessage" in frame:
                self.arrivals.append((int(frame.get("offset", 0)), str(frame.get("text", ""))))
                if frame.get("from") == self.name:
                    self.own_heard += 1
                    self.heard_own.set()
                sent = float(str(frame.get("text", "")).split("|")[1])
                self.latencies.append(time.perf_counter() - sent)
                self.received += 1
                if self.received >= self.expected:
                    self.done.set()
            elif frame.get("systemMessage") == f"{self.name} joined the chat":
                self.joined.set()


@dataclass
class Result:
    joins_s: float
    deliveries_per_s: float
    flat_p50_ms: float
    flat_p99_ms: float
    paced_p50_ms: float
    paced_p99_ms: float
    cpu_us_per_delivery: float
    loop_us_per_delivery: float
    """The main thread's part: the event loop (WebSocket I/O, routing, frames
    written); the rest is other threads', papo serve's handlers in threads."""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def expect(clients: list[Client], count: int) -> None:
    for client in clients:
        client.received, client.expected, client.latencies = 0, count, []
        client.done.clear()


async def join(server: Server, n: int) -> tuple[list[Client], list[asyncio.Task[None]], float]:
    """`n` clients, joined one after another, each reading in a task of its own;
    and the seconds the joins took."""
    clients: list[Client] = []
    readers = []
    started = time.perf_counter()
    for i in range(n):
        ws = await connect(server.url, max_size=None, ping_interval=None, open_timeout=30)
        client = Client(f"user{i}", ws)
        readers.append(asyncio.create_task(client.read()))
        await ws.send(json.dumps({"action": "setName", "name": client.name}))
        await asyncio.wait_for(client.joined.wait(), 30)
        clients.append(client)
    joins_s = time.perf_counter() - started
    await asyncio.sleep(0.5)  # the last join's frames settle
    return clients, readers, joins_s


async def measure(server: Server, n: int, flat_messages: int) -> Result:
    clients, readers, joins_s = await join(server, n)

    sender = clients[0]
    await expect(clients, flat_messages)
    cpu_before, loop_before = cpu_seconds(server.pid), main_thread_seconds(server.pid)
    started = time.perf_counter()
    for seq in range(flat_messages):
        text = f"{seq}|{time.perf_counter()}"
        await sender.ws.send(json.dumps({"action": "sendPublic", "message": text}))
    await asyncio.wait_for(asyncio.gather(*(c.done.wait() for c in clients)), PHASE_TIMEOUT_S)
    elapsed = time.perf_counter() - started
    cpu_used = cpu_seconds(server.pid) - cpu_before
    loop_used = main_thread_seconds(server.pid) - loop_before
    deliveries = flat_messages * n
    flat = [lat for c in clients for lat in c.latencies]

    paced_messages = 20
    await expect(clients, paced_messages)
    for seq in range(paced_messages):
        text = f"{seq}|{time.perf_counter()}"
        await sender.ws.send(json.dumps({"action": "sendPublic", "message": text}))
        await asyncio.sleep(0.2)
    await asyncio.wait_for(asyncio.gather(*(c.done.wait() for c in clients)), PHASE_TIMEOUT_S)
    paced = [lat for c in clients for lat in c.latencies]

    for client in clients:
        await client.ws.close()
    for reader in readers:
        reader.cancel()
    return Result(
        joins_s=joins_s,
        deliveries_per_s=deliveries / elapsed,
        flat_p50_ms=percentile(flat, 0.5),
        flat_p99_ms=percentile(flat, 0.99),
        paced_p50_ms=percentile(paced, 0.5),
        paced_p99_ms=percentile(paced, 0.99),
        cpu_us_per_delivery=cpu_used / deliveries * 1e6,
        loop_us_per_delivery=loop_used / deliveries * 1e6,
    )


@dataclass
class Order:
    deliveries: int
    out_of_order_on_the_wire: int
    unlike_the_first_clients: int
    against_the_order_sent: int
    missing_or_twice: int


async def measure_order(server: Server, n: int, senders: int, each: int, *, burst: bool) -> Order:
    clients, readers, _ = await join(server, n)
    await expect(clients, senders * each)
    for client in clients:
        client.arrivals, client.own_heard = [], 0

    async def send(sender: Client) -> None:
        for seq in range(each):
            text = f"{sender.name}-{seq}|{time.perf_counter()}"
            await sender.ws.send(json.dumps({"action": "sendPublic", "message": text}))
            while not burst and sender.own_heard <= seq:
                sender.heard_own.clear()
                await asyncio.wait_for(sender.heard_own.wait(), PHASE_TIMEOUT_S)

    await asyncio.gather(*(send(c) for c in clients[:senders]))
    await asyncio.wait_for(asyncio.gather(*(c.done.wait() for c in clients)), PHASE_TIMEOUT_S)
    reference = [text for _, text in sorted(clients[0].arrivals)]
    wire = unlike = against = missing = 0
    for client in clients:
        highest = 0
        for offset, _ in client.arrivals:
            wire += offset < highest
            highest = max(highest, offset)
        ordered = [text for _, text in sorted(client.arrivals)]
        unlike += sum(a != b for a, b in zip(ordered, reference, strict=False))
        missing += abs(len(set(ordered)) - senders * each) + len(ordered) - len(set(ordered))
        last_seq: dict[str, int] = {}
        for text in ordered:
            sender, _, seq = text.split("|")[0].rpartition("-")
            against += int(seq) < last_seq.get(sender, -1)
            last_seq[sender] = max(int(seq), last_seq.get(sender, -1))
    for client in clients:
        await client.ws.close()
    for reader in readers:
        reader.cancel()
    return Order(n * senders * each, wire, unlike, against, missing)


PAPO = "papo serve, papo handler, SQLite"


def servers(data: Path, baseline: Path | None = None) -> list[Server]:
    """The plain server, papo, and papo from the `baseline` checkout if one is given."""
    plain_port = free_port()
    plain = Server(
        "plain websockets, in memory",
        [sys.executable, "bench/plain_server.py", str(plain_port)],
        f"ws://127.0.0.1:{plain_port}",
        {},
    )
    papos = [papo_server(PAPO, data, {})]
    if baseline is not None:
        source = baseline / "src" if (baseline / "src").is_dir() else baseline
        papos.append(papo_server(f"papo, {baseline.name}", data, {"PYTHONPATH": str(source)}))
    return [plain, *papos]


def papo_server(name: str, data: Path, env: dict[str, str]) -> Server:
    port = free_port()
    return Server(
        name,
        [
            *(sys.executable, "-m", "papo", "serve", "--port", str(port)),
            *("--tls-port", "0", "--web-port", "0"),
        ],
        f"ws://127.0.0.1:{port}/dev",
        {
            "PAPO_SQLITE_PATH": str(data / f"bench-{port}.sqlite3"),
            "AWS_LAMBDA_LOG_LEVEL": "WARNING",
            # A bench sends flat out: per-connection limits would refuse it.
            "PAPO_RATE_BURST": "1000000",
            "PAPO_RATE_PER_MINUTE": "1000000",
            "AWS_ACCESS_KEY_ID": "AKIDBENCH",
            "AWS_SECRET_ACCESS_KEY": "bench-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
            **env,
        },
    )


def median(results: list[Result]) -> Result:
    """Each figure's median over runs."""
    return Result(*(statistics.median(getattr(r, f.name) for r in results) for f in fields(Result)))


def print_row(n: int, name: str, r: Result, note: str = "") -> None:
    print(
        f"{n:<5} {name:<35} {r.joins_s:7.2f} {r.deliveries_per_s:8.0f}"
        f"   {r.flat_p50_ms:7.1f}/{r.flat_p99_ms:<7.1f}"
        f"   {r.paced_p50_ms:6.1f}/{r.paced_p99_ms:<7.1f}"
        f"   {r.cpu_us_per_delivery:8.1f}  {r.loop_us_per_delivery:5.1f}{note}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 100, 300])
    parser.add_argument(
        "--deliveries", type=int, default=20_000, help="deliveries in the flat-out run"
    )
    parser.add_argument(
        "--senders", type=int, default=0, help="measure order: this many senders at once"
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="measure each server this many times, in turns"
    )
    parser.add_argument(
        "--baseline", type=Path, help="another checkout of papo, measured in turn with this one"
    )
    args = parser.parse_args()
    if args.senders:
        order(args.clients, args.senders, args.deliveries)
        return
    print(
        "N     server                              joins s  deliv/s   flat p50/p99 ms"
        "   paced p50/p99 ms   CPU µs/deliv  loop"
    )
    with tempfile.TemporaryDirectory() as data:
        for n in args.clients:
            flat_messages = max(20, args.deliveries // n)
            results: dict[str, list[Result]] = {}
            for run in range(1, args.runs + 1):
                for server in servers(Path(data), args.baseline):
                    with server:
                        result = asyncio.run(measure(server, n, flat_messages))
                    results.setdefault(server.name, []).append(result)
                    print_row(n, server.name, result, f"   run {run}" if args.runs > 1 else "")
            medians = {name: median(runs) for name, runs in results.items()}
            if args.runs > 1:
                for name, result in medians.items():
                    print_row(n, name, result, f"   median of {args.runs}")
            plain = medians.pop(next(iter(medians)))
            for name, papo in medians.items():
                share = papo.deliveries_per_s / plain.deliveries_per_s
                cpu = papo.cpu_us_per_delivery / plain.cpu_us_per_delivery
                print(f"{n:<5} {name} / plain: throughput {share:.0%}, CPU per delivery {cpu:.2f}x")


def order(sizes: list[int], senders: int, deliveries: int) -> None:
    print(
        "N     senders  sending      deliveries  out of order: on the wire"
        "  after ordering by offset: unlike client 0's  against the order sent  lost/twice"
    )
    with tempfile.TemporaryDirectory() as data:
        for n in sizes:
            each = max(5, deliveries // (n * senders))
            for burst in (False, True):
                with servers(Path(data))[1] as server:
                    r = asyncio.run(measure_order(server, n, min(senders, n), each, burst=burst))
                how = "in a burst" if burst else "each after "
                print(
                    f"{n:<5} {min(senders, n):7}  {how}  {r.deliveries:10}"
                    f"  {r.out_of_order_on_the_wire:24}  {r.unlike_the_first_clients:41}"
                    f"  {r.against_the_order_sent:22}  {r.missing_or_twice:10}",
                    flush=True,
                )
    print("each after: each sender sends once it heard its last, as papo's web client does.")


if __name__ == "__main__":
    main()
