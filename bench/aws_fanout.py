"""papo's fan-out on AWS's path: posts to a Management API 20 ms away.

Run by hand: `make bench-aws` (or `.venv/bin/python bench/aws_fanout.py`).

A local stand-in for API Gateway's Management API (`bench/management_endpoint.py`,
its own process, over TLS unless `--plain`) answers each post after
`--delay-ms`, with `--errors` such as `429=0.01,503=0.01,410=0.001`. For each
number of recipients it times, in the same run:

- boto3's `post_to_connection` in a loop, as AWS's samples post (at sizes
  above `--boto-max` extrapolated from the largest measured, and marked so);
- a pool of threads, each posting with papo's blocking client on a
  keep-alive connection of its own (papo's fan-out before: 16 threads);
- papo's fan-out in one invocation (`FanoutDelivery`: posts in flight on one
  asyncio loop);
- papo's fan-out split across invocations (`PAPO_FANOUT_SPLIT`), the way a
  route's invocation runs it: `Chat.send` through the handler's own wiring,
  handing shares over with boto3's Invoke call (`InvocationType="Event"`) to a
  local stand-in for Lambda, which runs each in a warm container: a process
  running papo's Lambda handler on the `papoShare` event. Left out: Lambda's
  own latency to start an asynchronous invocation (tens of ms when a warm
  container is free, a cold start's hundreds when not; `--invoke-delay-ms`
  adds a fixed one), and the Invoke call's round trip (here on loopback).

Each cell is the median of `--repeats` runs after one to warm connections
(boto3 at its largest size: one run). Time to the last delivery is from the
fan-out's start to the endpoint's answer to the last post; CPU per post is
the user + system time of every process that posts (not the endpoint's),
retries included, divided by the recipients; posts in flight is the most the
endpoint held at once. Every frame carries its number, and the endpoint
counts any that come twice (each connection gets one frame, so order is
left to tests/test_fanout_split.py). Every loop is bounded in count
and time; only loopback is used.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import queue
import resource
import ssl
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from management_endpoint import Behaviour, serve

FRAME = (
    b'{"n": 1, "publicMessage": "Ana: hello there", "type": "public", "from": "Ana", '
    b'"text": "hello there", "id": "9f1c2b7e4d3a4f0e8b6c5d2a1e0f3b4c", "ts": 1795809547980, '
    b'"offset": 42}'
)
LAMBDA_VCPU_AT_512_MB = 512 / 1769
"""Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB."""
WAIT_S = 300.0


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Run:
    seconds: float
    cpu_us: float
    stats: dict[str, Any]
    route_cpu_ms: float = 0.0
    """The CPU of the invocation that started the fan-out (all of it, unless split)."""


@dataclass
class Row:
    recipients: int
    client: str
    runs: list[Run] = field(default_factory=list)
    note: str = ""

    def median(self) -> Run:
        ordered = sorted(self.runs, key=lambda r: r.seconds)
        return ordered[(len(ordered) - 1) // 2]


class Endpoint:
    """The stand-in Management API, in its own process."""

    def __init__(self, behaviour: Behaviour, tls: bool, folder: Path) -> None:
        files = None
        self.context: ssl.SSLContext | None = None
        self.env: dict[str, str] = {}
        if tls:
            from papo.local.tls import make_certificate

            made = make_certificate(folder / "tls", "127.0.0.1")
            files = (str(made.certificate), str(made.key))
            self.env["AWS_CA_BUNDLE"] = str(made.ca_bundle)
            self.context = ssl.create_default_context(cafile=str(made.ca_bundle))
        ready: multiprocessing.Queue[int] = multiprocessing.Queue()
        self.process = multiprocessing.Process(
            target=serve, args=(behaviour, ready, files), daemon=True
        )
        self.process.start()
        self.port = ready.get(timeout=30)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/dev"

    def _call(self, method: str) -> bytes:
        conn: http.client.HTTPConnection
        if self.context is not None:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port)
        conn.request(method, "/stats")
        body = conn.getresponse().read()
        conn.close()
        return body

    def reset(self) -> None:
        self._call("POST")

    def stats(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self._call("GET"))
        return found

    def stop(self) -> None:
        self.process.terminate()


@dataclass
class Context:
    """What papo's handler reads of Lambda's context."""

    aws_request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:papo-bench"


def _container(env: dict[str, str], pipe: Connection, invoke_delay_s: float) -> None:
    """A warm Lambda container: runs papo's handler on each event it is sent,
    and answers the CPU the invocation took."""
    os.environ.update(env)
    from papo.aws import handler as aws_handler

    while (payload := pipe.recv()) is not None:
        time.sleep(invoke_delay_s)
        started = cpu_s()
        aws_handler.handler(json.loads(payload), Context())
        pipe.send(cpu_s() - started)


def _lambda_service(
    env: dict[str, str],
    containers: int,
    invoke_delay_s: float,
    ready: multiprocessing.Queue[int],
    control: Connection,
) -> None:
    """Lambda's Invoke API for `Event` invocations, on loopback, each run in one
    of `containers` warm containers (processes). `control` asks it to wait until
    every invocation so far has ended, and answers their CPU seconds."""
    spawn = multiprocessing.get_context("spawn")
    idle: queue.LifoQueue[Connection] = queue.LifoQueue()  # as Lambda, the warmest first
    processes = []
    for _ in range(containers):
        mine, theirs = spawn.Pipe()
        process = spawn.Process(target=_container, args=(env, theirs, invoke_delay_s))
        process.start()
        processes.append(process)
        idle.put(mine)
    lock, ended = threading.Lock(), threading.Condition()
    spent, running = [0.0], [0]

    def run(pipe: Connection, payload: bytes) -> None:
        pipe.send(payload)
        took = pipe.recv() if pipe.poll(WAIT_S) else float("nan")
        idle.put(pipe)
        with ended:
            spent[0] += took
            running[0] -= 1
            ended.notify_all()

    class Invoke(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            payload = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                pipe = idle.get(timeout=WAIT_S)
                with ended:
                    running[0] += 1
            threading.Thread(target=run, args=(pipe, payload), daemon=True).start()
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Invoke)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.put(server.server_address[1])
    while control.recv() == "wait":
        with ended:
            ended.wait_for(lambda: running[0] == 0, timeout=WAIT_S)
            control.send(spent[0])
            spent[0] = 0.0
    while not idle.empty():
        idle.get().send(None)
    for process in processes:
        process.join(timeout=10)


class LambdaService:
    """The Invoke API the function calls to hand shares over, in its own process:
    the parent's boto3 call is real, the containers are warm processes."""

    def __init__(self, containers: int, env: dict[str, str], invoke_delay_s: float) -> None:
        ready: multiprocessing.Queue[int] = multiprocessing.Queue()
        self._control, theirs = multiprocessing.Pipe()
        self.process = multiprocessing.Process(
            target=_lambda_service, args=(env, containers, invoke_delay_s, ready, theirs)
        )
        self.process.start()
        self.url = f"http://127.0.0.1:{ready.get(timeout=60)}"

    def wait(self) -> float:
        """Waits for every invocation so far to end; returns the CPU seconds they took."""
        self._control.send("wait")
        if not self._control.poll(WAIT_S):
            raise TimeoutError("the shares' invocations did not end")
        spent: float = self._control.recv()
        return spent

    def stop(self) -> None:
        self._control.send("stop")
        self.process.join(timeout=30)


def envelopes(count: int) -> list[Any]:
    from papo.core.ports import Envelope

    return [Envelope(f"conn{i:06d}AAAA=", (FRAME,)) for i in range(count)]


def boto3_loop(url: str) -> Callable[[Sequence[Any]], None]:
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client("apigatewaymanagementapi", endpoint_url=url, region_name="us-east-1")

    def post_all(batch: Sequence[Any]) -> None:
        for envelope in batch:
            for frame in envelope.frames:
                try:
                    client.post_to_connection(ConnectionId=envelope.connection_id, Data=frame)
                except (client.exceptions.GoneException, ClientError):
                    break

    return post_all


def thread_pool(url: str, threads: int) -> Callable[[Sequence[Any]], None]:
    """papo's fan-out before: threads sharing an iterator, each with its own
    blocking keep-alive connection."""
    from papo.adapters.delivery.management_api import ManagementApiError

    client = lean_client(url)
    pool = ThreadPoolExecutor(threads)

    def post_all(batch: Sequence[Any]) -> None:
        shared, lock = iter(batch), threading.Lock()

        def drain() -> None:
            while True:
                with lock:
                    envelope = next(shared, None)
                if envelope is None:
                    return
                for frame in envelope.frames:
                    try:
                        client.post(envelope.connection_id, frame)
                    except ManagementApiError:
                        break

        for worker in [pool.submit(drain) for _ in range(min(threads, len(batch)))]:
            worker.result()

    return post_all


def lean_client(url: str) -> Any:
    from papo.adapters.delivery.management_api import Endpoint as Url
    from papo.adapters.delivery.management_api import ManagementApiClient
    from papo.adapters.delivery.sigv4 import SigV4Signer, botocore_credentials

    credentials = botocore_credentials()
    assert credentials is not None
    return ManagementApiClient(Url.parse(url), SigV4Signer(credentials, "us-east-1"))


def measure(
    endpoint: Endpoint,
    post_all: Callable[[Sequence[Any]], object],
    count: int,
    *,
    repeats: int,
    warm: int,
    others_cpu: Callable[[], float] = lambda: 0.0,
) -> list[Run]:
    if warm:
        post_all(envelopes(warm))
        others_cpu()
    runs = []
    for _ in range(repeats):
        batch = envelopes(count)
        endpoint.reset()
        started_cpu, started = cpu_s(), time.monotonic()
        post_all(batch)
        route = cpu_s() - started_cpu
        spent = route + others_cpu()
        stats = endpoint.stats()
        last = stats["last_at"] - started if stats["last_at"] else float("nan")
        runs.append(Run(last, spent / count * 1e6, stats, route * 1e3))
    return runs


def connection_cost(
    endpoint: Endpoint, post_all: Callable[[Sequence[Any]], object], count: int
) -> float:
    """CPU seconds a new connection costs: a first fan-out, which opens them, less
    a second, which reuses them."""
    spent: list[tuple[float, int]] = []
    for _ in range(2):
        endpoint.reset()
        started = cpu_s()
        post_all(envelopes(count))
        spent.append((cpu_s() - started, endpoint.stats()["connections"]))
    (cold, opened), (warm, _) = spent
    return (cold - warm) / max(opened - 1, 1)  # less the stats call's own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--errors", default="", help="e.g. 429=0.01,503=0.01,410=0.001")
    parser.add_argument("--plain", action="store_true", help="http instead of https")
    parser.add_argument("--in-flight", type=int, default=64, help="PAPO_FANOUT_WORKERS")
    parser.add_argument("--split", type=int, default=250, help="PAPO_FANOUT_SPLIT")
    parser.add_argument("--threads", default="16,64", help="thread pools to compare")
    parser.add_argument("--boto-max", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--invoke-delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sizes = [int(s) for s in args.sizes.split(",")]
    errors = {int(k): float(v) for k, v in (e.split("=") for e in args.errors.split(",") if e)}

    folder = Path(tempfile.mkdtemp(prefix="papo-bench-"))
    endpoint = Endpoint(Behaviour(args.delay_ms / 1000, errors), not args.plain, folder)
    env = {
        "AWS_ACCESS_KEY_ID": "AKIDBENCH",
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_SESSION_TOKEN": "bench-token",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PAPO_STORE": "sqlite",
        "PAPO_SQLITE_PATH": str(folder / "papo.sqlite3"),
        "PAPO_MANAGEMENT_ENDPOINT": endpoint.url,
        "PAPO_FANOUT_WORKERS": str(args.in_flight),
        "PAPO_FANOUT_SPLIT": str(args.split),
        "AWS_LAMBDA_LOG_LEVEL": "WARNING",
        **endpoint.env,
    }
    biggest_share_count = max(-(-n // args.split) for n in sizes)
    service = LambdaService(
        max(biggest_share_count - 1, 1), env, invoke_delay_s=args.invoke_delay_ms / 1000
    )
    env["AWS_ENDPOINT_URL_LAMBDA"] = service.url
    os.environ.update(env)

    from papo.adapters.delivery.fanout import FanoutDelivery
    from papo.aws import handler as aws_handler
    from papo.settings import Settings

    settings = Settings.from_env()
    papo_alone = FanoutDelivery(lean_client(endpoint.url), max_workers=args.in_flight)
    boto = boto3_loop(endpoint.url)
    pools = {int(t): thread_pool(endpoint.url, int(t)) for t in args.threads.split(",") if t}

    def split_send(batch: Sequence[Any]) -> None:
        aws_handler._chat(settings, endpoint.url, Context()).send(list(batch))

    connecting = connection_cost(endpoint, papo_alone.send, args.in_flight * 4)
    rows: list[Row] = []
    boto_rate: tuple[int, Run] | None = None
    try:
        for n in sizes:
            if n <= args.boto_max:
                repeats = args.repeats if n * args.delay_ms <= 5_000 else 1
                row = Row(n, "boto3 post_to_connection, in a loop")
                row.runs = measure(endpoint, boto, n, repeats=repeats, warm=20)
                boto_rate = (n, row.median())
                rows.append(row)
            elif boto_rate is not None:
                measured, run = boto_rate
                row = Row(n, "boto3 post_to_connection, in a loop", note=f"~ from {measured:,}")
                row.runs = [Run(run.seconds * n / measured, run.cpu_us, {})]
                rows.append(row)
            for threads, pool in pools.items():
                row = Row(n, f"{threads} threads, blocking keep-alive")
                row.runs = measure(endpoint, pool, n, repeats=args.repeats, warm=threads * 2)
                rows.append(row)
            row = Row(n, f"papo, one invocation, {args.in_flight} in flight")
            row.runs = measure(endpoint, papo_alone.send, n, repeats=args.repeats, warm=n)
            rows.append(row)
            if n > args.split:
                shares = -(-n // args.split)
                row = Row(n, f"papo, split: {shares} invocations of <= {args.split}")
                row.runs = measure(
                    endpoint,
                    split_send,
                    n,
                    repeats=args.repeats,
                    warm=n,
                    others_cpu=service.wait,
                )
                rows.append(row)
            print_rows([row for row in rows if row.recipients == n], header=n == sizes[0])
    finally:
        service.stop()
        endpoint.stop()
    print_summary(rows, args)
    print(
        f"Opening a {'plain' if args.plain else 'TLS'} keep-alive connection cost papo"
        f" {connecting * 1e3:.2f} ms CPU: {connecting * args.in_flight * 1e3:.0f} ms for"
        f" {args.in_flight}, {connecting * args.in_flight / LAMBDA_VCPU_AT_512_MB:.2f} s"
        " on a 512 MB Lambda, once a container."
    )
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def print_rows(rows: list[Row], header: bool) -> None:
    if header:
        print(
            f"{'N':>6}  {'client':44} {'to last':>9} {'CPU/post':>9} {'in flight':>9}"
            f"  {'statuses':24} {'twice/disorder':14} endpoint CPU/post"
        )
    for row in rows:
        run = row.median()
        stats = run.stats
        statuses = ",".join(f"{k}:{v}" for k, v in sorted(stats.get("statuses", {}).items()))
        checks = f"{stats['twice']}/{stats['out_of_order']}" if stats else "-"
        served = f"{stats['cpu_s'] / row.recipients * 1e6:.0f}µs" if stats else "-"
        seconds = f"{run.seconds:.3f} s" if not row.note else f"{run.seconds:.1f} s"
        print(
            f"{row.recipients:>6}  {row.client:44} {seconds:>9} {run.cpu_us:7.1f}µs"
            f" {stats.get('max_in_flight', '-'):>9}  {statuses or row.note:24}"
            f" {checks:14} {served}",
            flush=True,
        )


def print_summary(rows: list[Row], args: argparse.Namespace) -> None:
    alone = [r for r in rows if r.client.startswith("papo, one")]
    if not alone:
        return
    cpu = statistics.median(r.median().cpu_us for r in alone)
    print()
    for row in rows:
        run = row.median()
        if row.client.startswith("papo, split") and run.stats:
            served = run.stats["cpu_s"] * 1e6 / row.recipients
            floor = row.recipients * (run.cpu_us + served) / 1e6 / (os.cpu_count() or 1)
            print(
                f"{row.recipients:,} split: the route's invocation spent {run.route_cpu_ms:.0f} ms"
                f" CPU (its share and {-(-row.recipients // args.split) - 1} Invoke calls);"
                f" this machine's {os.cpu_count()} cores need {floor:.2f} s for the posts'"
                " and the endpoint's CPU alone."
            )
    print(
        f"papo's CPU per post here: {cpu:.0f} µs (median over sizes, one invocation). On a "
        f"512 MB Lambda (~{LAMBDA_VCPU_AT_512_MB:.2f} vCPU) the CPU alone takes "
        f"{cpu * 1000 / LAMBDA_VCPU_AT_512_MB / 1e6:.2f} s for 1,000 posts, "
        f"{cpu * args.split / LAMBDA_VCPU_AT_512_MB / 1e6:.2f} s for a share of {args.split}."
    )


if __name__ == "__main__":
    main()
