"""Delivery through the Management API: signatures, 410, retries, fan-out."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials as BotoCredentials
from botocore.credentials import ReadOnlyCredentials as Credentials

from papo.adapters.delivery.fanout import FanoutDelivery
from papo.adapters.delivery.http11 import HttpConnection, ProtocolError
from papo.adapters.delivery.management_api import (
    MAX_ATTEMPTS,
    Endpoint,
    GoneError,
    ManagementApiClient,
    ManagementApiError,
)
from papo.adapters.delivery.sigv4 import SigV4Signer
from papo.core.ports import Envelope
from tests.management_api import ManagementApi

KEY, SECRET, TOKEN = "AKIDPAPOTEST", "papo-test-secret", "papo-test-token"
CREDS = Credentials(KEY, SECRET, TOKEN)


@pytest.fixture
def api() -> Iterator[ManagementApi]:
    boto_creds = BotoCredentials(KEY, SECRET, TOKEN)
    with ManagementApi(boto_creds) as server:
        yield server


def client_for(api: ManagementApi, creds: Credentials = CREDS) -> ManagementApiClient:
    return ManagementApiClient(Endpoint.parse(api.url), SigV4Signer(lambda: creds, "us-east-1"))


def test_posts_are_signed_as_botocore_signs_them(api: ManagementApi) -> None:
    api.connect("VNRUSeldSwMCIRQ=", "a/b+c")
    client = client_for(api)
    client.post("VNRUSeldSwMCIRQ=", b'{"publicMessage": "Ana: hi"}')
    client.post("a/b+c", '{"text": "olá"}'.encode())
    assert api.bad_signatures == 0
    assert api.frames("VNRUSeldSwMCIRQ=") == [{"publicMessage": "Ana: hi"}]
    assert api.frames("a/b+c") == [{"text": "olá"}]


def test_a_wrong_secret_is_refused(api: ManagementApi) -> None:
    api.connect("A=")
    client = client_for(api, Credentials(CREDS.access_key, "wrong", CREDS.token))
    with pytest.raises(ManagementApiError) as refused:
        client.post("A=", b"{}")
    assert refused.value.status == 403
    assert api.bad_signatures == 1


def test_signatures_change_with_the_day_and_the_secret() -> None:
    """The cached signing key is derived again when the day or the secret changes."""
    clock = [1_790_000_000.0]
    creds = [CREDS]
    signer = SigV4Signer(lambda: creds[0], "us-east-1", clock=lambda: clock[0])
    first = signer.sign("POST", "h", "/dev/@connections/A%3D", b"{}", {})
    clock[0] += 86_400
    second = signer.sign("POST", "h", "/dev/@connections/A%3D", b"{}", {})
    assert first["X-Amz-Date"][:8] != second["X-Amz-Date"][:8]
    assert (
        first["Authorization"].split("Signature=")[1]
        != second["Authorization"].split("Signature=")[1]
    )
    creds[0] = Credentials(CREDS.access_key, "rotated", None)
    third = signer.sign("POST", "h", "/dev/@connections/A%3D", b"{}", {})
    assert "X-Amz-Security-Token" not in third
    assert third["Authorization"] != second["Authorization"]


def test_gone_is_410(api: ManagementApi) -> None:
    with pytest.raises(GoneError):
        client_for(api).post("nobody=", b"{}")


def test_get_and_delete(api: ManagementApi) -> None:
    api.connect("A=")
    client = client_for(api)
    assert b"connectedAt" in client.get("A=")
    client.delete("A=")
    with pytest.raises(GoneError):
        client.post("A=", b"{}")


def test_throttling_and_5xx_are_retried(api: ManagementApi) -> None:
    api.connect("A=")
    api.scripted["A="] = [429, 503]
    client_for(api).post("A=", b'{"n": 1}')
    assert api.frames("A=") == [{"n": 1}]


def test_retries_give_up(api: ManagementApi) -> None:
    api.connect("A=")
    api.scripted["A="] = [500, 502] * (MAX_ATTEMPTS // 2 - 1) + [503, 504]
    client = client_for(api)
    client.backoff = lambda attempt: 0.0
    with pytest.raises(ManagementApiError) as failed:
        client.post("A=", b"{}")
    assert failed.value.status == 504
    assert api.frames("A=") == []


def test_client_errors_are_not_retried(api: ManagementApi) -> None:
    api.connect("A=")
    api.scripted["A="] = [400, 400]
    with pytest.raises(ManagementApiError):
        client_for(api).post("A=", b"{}")
    assert api.scripted["A="] == [400]


def test_boto3_sees_the_test_server_as_api_gateway(api: ManagementApi) -> None:
    """The test endpoint answers as API Gateway does: boto3 itself raises GoneException."""
    boto = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=api.url,
        region_name="us-east-1",
        aws_access_key_id=CREDS.access_key,
        aws_secret_access_key=CREDS.secret_key,
        aws_session_token=CREDS.token,
    )
    api.connect("A=")
    boto.post_to_connection(ConnectionId="A=", Data=b'{"n": 2}')
    with pytest.raises(boto.exceptions.GoneException):
        boto.post_to_connection(ConnectionId="B=", Data=b"{}")
    assert api.frames("A=") == [{"n": 2}]
    assert api.bad_signatures == 0


class CannedServer:
    """A raw TCP server that answers each request with the next canned bytes."""

    def __init__(self, answers: list[bytes], close_after: bool = False) -> None:
        self.answers = answers
        self.close_after = close_after
        self.accepted = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while self.answers:
            conn, _ = self.sock.accept()
            self.accepted += 1
            with conn:
                while self.answers:
                    if not conn.recv(65536):
                        break
                    conn.sendall(self.answers.pop(0))
                    if self.close_after:
                        break


def test_http_chunked_answer_and_keep_alive() -> None:
    server = CannedServer(
        [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nTrailer: 1\r\n\r\n",
            b"HTTP/1.1 410 Gone\r\nContent-Length: 2\r\n\r\n{}",
        ]
    )
    conn = HttpConnection("127.0.0.1", server.port)
    assert conn.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"") == (200, b"hello world")
    assert conn.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"") == (410, b"{}")
    assert server.accepted == 1


def test_http_connection_close_and_reopen() -> None:
    server = CannedServer(
        [
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na",
            b"HTTP/1.0 200 OK\r\n\r\nbody to the end",
        ],
        close_after=True,
    )
    conn = HttpConnection("127.0.0.1", server.port)
    assert conn.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"") == (200, b"a")
    assert not conn.is_open
    assert conn.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"") == (200, b"body to the end")
    assert server.accepted == 2


def test_a_dropped_keep_alive_connection_is_reopened(api: ManagementApi) -> None:
    api.connect("A=")
    client = client_for(api)
    client.post("A=", b'{"n": 1}')
    assert client.http is not None
    conn = client.http._connection()
    assert conn._sock is not None
    conn._sock.shutdown(socket.SHUT_RDWR)  # as when the server times the connection out
    client.post("A=", b'{"n": 2}')
    assert api.frames("A=") == [{"n": 1}, {"n": 2}]


def test_fanout_is_concurrent_bounded_and_ordered(api: ManagementApi) -> None:
    ids = [f"C{i}=" for i in range(40)]
    api.connect(*ids)
    api.delay_s = 0.02
    fanout = FanoutDelivery(client_for(api), max_workers=8)
    gone = fanout.send([Envelope(cid, (b'{"n": 1}', b'{"n": 2}')) for cid in ids])
    assert gone == set()
    assert 1 < api.max_in_flight <= 8
    for cid in ids:
        assert api.frames(cid) == [{"n": 1}, {"n": 2}]


def test_fanout_reports_gone_and_carries_on_past_errors(api: ManagementApi) -> None:
    api.connect("A=", "B=", "C=", "D=")
    api.scripted["B="] = [410]
    api.scripted["C="] = [400]
    fanout = FanoutDelivery(client_for(api), max_workers=4)
    gone = fanout.send(
        [Envelope(cid, (b'{"n": 1}', b'{"n": 2}')) for cid in ("A=", "B=", "C=", "D=", "E=")]
    )
    assert gone == {"B=", "E="}
    assert api.frames("A=") == api.frames("D=") == [{"n": 1}, {"n": 2}]
    assert api.frames("B=") == []
    assert api.frames("C=") == [{"n": 2}]


def test_one_tls_context_serves_every_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building an SSL context loads the CA bundle (~30 ms): once per client, not per thread."""
    made = []
    create = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(args)
        return create(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    http = ManagementApiClient(Endpoint.parse("https://abc.example/dev"), None).http
    assert http is not None
    together = threading.Barrier(4)

    def connection_of_a_thread(_: int) -> HttpConnection:
        together.wait()  # four distinct threads, each with its own connection
        return http._connection()

    with ThreadPoolExecutor(4) as pool:
        connections = list(pool.map(connection_of_a_thread, range(4)))
    assert len(set(map(id, connections))) == 4
    assert len(made) == 1


def test_a_malformed_answer_skips_only_that_frame(
    api: ManagementApi, caplog: pytest.LogCaptureFixture
) -> None:
    """The port's promise: whatever goes wrong with one post, the others go out."""
    ids = [f"C{i}=" for i in range(12)]
    api.connect(*ids)
    api.malformed.add("C3=")
    fanout = FanoutDelivery(client_for(api), max_workers=4)
    assert fanout.send([Envelope(cid, (b'{"n": 1}',)) for cid in ids]) == set()
    for cid in ids:
        assert api.frames(cid) == [{"n": 1}]  # C3= received it; its answer was unreadable
    assert "post failed" in caplog.text


def test_http_lengths_that_are_no_numbers_are_protocol_errors() -> None:
    server = CannedServer(
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ]
    )
    for _ in range(2):
        conn = HttpConnection("127.0.0.1", server.port)
        with pytest.raises(ProtocolError):
            conn.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"")
        conn.close()


def test_a_throttled_or_failing_connection_holds_up_nobody(api: ManagementApi) -> None:
    """Connections answered 429 or 5xx wait out their backoff holding no post in
    flight: with 2 posts in flight, the 30 others are all delivered before
    either is tried again."""
    ids = [f"C{i}=" for i in range(32)]
    api.connect(*ids)
    api.scripted["C0="] = [429]
    api.scripted["C1="] = [503]
    fanout = FanoutDelivery(client_for(api), max_workers=2, backoff=lambda attempt: 5.0)
    try:
        assert fanout.send([Envelope(cid, (b'{"n": 1}', b'{"n": 2}')) for cid in ids]) == set()
    finally:
        fanout.shutdown()
    for cid in ids:
        assert api.frames(cid) == [{"n": 1}, {"n": 2}]
    assert sorted(api.delivered[-4:]) == ["C0=", "C0=", "C1=", "C1="]


def test_a_post_that_may_have_arrived_is_never_sent_again(api: ManagementApi) -> None:
    """A connection that closes after the request, without an answer, may have
    delivered the frame: it is not sent twice, and the others carry on."""
    ids = [f"C{i}=" for i in range(6)]
    api.connect(*ids)
    api.hang_up.add("C2=")
    client = client_for(api)
    with pytest.raises(ManagementApiError):
        client.post("C2=", b'{"n": 1}')
    assert api.frames("C2=") == [{"n": 1}]

    fanout = FanoutDelivery(client, max_workers=3)
    try:
        gone = fanout.send([Envelope(cid, (b'{"n": 2}', b'{"n": 3}')) for cid in ids])
    finally:
        fanout.shutdown()
    assert gone == set()
    assert api.frames("C2=") == [{"n": 1}, {"n": 2}, {"n": 3}]
    for cid in ids:
        if cid != "C2=":
            assert api.frames(cid) == [{"n": 2}, {"n": 3}]


def test_kept_alive_connections_closed_by_the_server_are_opened_again(
    api: ManagementApi,
) -> None:
    ids = [f"C{i}=" for i in range(20)]
    api.connect(*ids)
    fanout = FanoutDelivery(client_for(api), max_workers=4)
    try:
        fanout.send([Envelope(cid, (b'{"n": 1}',)) for cid in ids])
        api.drop_connections()  # idle keep-alive connections closed while a container sleeps
        fanout.send([Envelope(cid, (b'{"n": 2}',)) for cid in ids])
    finally:
        fanout.shutdown()
    for cid in ids:
        assert api.frames(cid) == [{"n": 1}, {"n": 2}]


def test_many_fanouts_at_once_share_the_loop(api: ManagementApi) -> None:
    """Under `papo serve` several invocations post at once in one process."""
    ids = [f"C{i}=" for i in range(30)]
    api.connect(*ids)
    fanout = FanoutDelivery(client_for(api), max_workers=4)

    def send(n: int) -> set[str]:
        return fanout.send([Envelope(cid, (b'{"n": %d}' % n,)) for cid in ids])

    try:
        with ThreadPoolExecutor(3) as pool:
            assert list(pool.map(send, range(3))) == [set()] * 3
    finally:
        fanout.shutdown()
    for cid in ids:
        assert sorted(f["n"] for f in api.frames(cid)) == [0, 1, 2]  # type: ignore[type-var]
