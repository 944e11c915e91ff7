"""CPU per post to the Management API: boto3's client against papo's lean client.

Run by hand: `make bench-delivery` (or `.venv/bin/python bench/delivery.py`).
A local HTTP server in another process answers every POST with 200, keep-alive,
so the figures are the client's own CPU (this process's CPU time, all
threads, divided by the posts), sequential and in a fan-out with posts in
flight. `bench/aws_fanout.py` measures fan-outs against a server 20 ms away.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FRAME = b'{"publicMessage": "Ana: hello there", "type": "public", "from": "Ana"}'


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(port: multiprocessing.Queue[int]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    port.put(server.server_address[1])
    server.serve_forever()


def _cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def _cpu_us_per_post(
    run: Callable[[int], None], posts: int, repeats: int
) -> tuple[float, float, float]:
    """Median (total, user, system) CPU µs per post over `repeats` runs."""
    run(min(posts, 50))  # warm: connections open, caches filled
    samples = []
    for _ in range(repeats):
        user0, sys0 = _cpu()
        run(posts)
        user1, sys1 = _cpu()
        user, system = (user1 - user0) / posts * 1e6, (sys1 - sys0) / posts * 1e6
        samples.append((user + system, user, system))
    return min(samples, key=lambda s: abs(s[0] - statistics.median(x[0] for x in samples)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fanout", type=int, default=300, help="connections in the fan-out")
    parser.add_argument("--in-flight", type=int, default=64, help="posts in flight in it")
    args = parser.parse_args()

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIDBENCH")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench-secret")
    os.environ.setdefault("AWS_SESSION_TOKEN", "bench-token")
    os.environ.setdefault("AWS_REGION", "us-east-1")

    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(queue,), daemon=True)
    server.start()
    endpoint = f"http://127.0.0.1:{queue.get(timeout=10)}/dev"

    import boto3

    from papo.adapters.delivery.fanout import FanoutDelivery
    from papo.adapters.delivery.management_api import Endpoint, ManagementApiClient
    from papo.adapters.delivery.sigv4 import SigV4Signer, botocore_credentials
    from papo.core.ports import Envelope

    boto = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, region_name="us-east-1")
    credentials = botocore_credentials()
    assert credentials is not None
    lean = ManagementApiClient(Endpoint.parse(endpoint), SigV4Signer(credentials, "us-east-1"))
    fanout = FanoutDelivery(lean, max_workers=args.in_flight)
    ids = [f"conn{i:05d}AAAA=" for i in range(args.fanout)]

    def boto_posts(n: int) -> None:
        for i in range(n):
            boto.post_to_connection(ConnectionId=ids[i % len(ids)], Data=FRAME)

    def lean_posts(n: int) -> None:
        for i in range(n):
            lean.post(ids[i % len(ids)], FRAME)

    def lean_fanout(n: int) -> None:
        for start in range(0, n, len(ids)):
            batch = ids[: min(len(ids), n - start)]
            fanout.send([Envelope(cid, (FRAME,)) for cid in batch])

    rows = [
        (
            "boto3 post_to_connection, sequential",
            _cpu_us_per_post(boto_posts, args.posts, args.repeats),
        ),
        ("papo client, sequential", _cpu_us_per_post(lean_posts, args.posts, args.repeats)),
        (
            f"papo fan-out to {args.fanout}, {args.in_flight} in flight",
            _cpu_us_per_post(lean_fanout, args.posts, args.repeats),
        ),
    ]
    baseline = rows[0][1][0]
    print(f"CPU µs per post, median of {args.repeats} runs of {args.posts} posts")
    print(f"{'':40} {'total':>7} {'user':>7} {'system':>7}  vs boto3")
    for label, (total, user, system) in rows:
        print(f"{label:40} {total:7.1f} {user:7.1f} {system:7.1f}  {baseline / total:5.1f}x less")
    server.terminate()


if __name__ == "__main__":
    main()
