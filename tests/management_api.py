"""A Management API endpoint for tests: a real HTTP server that answers like API Gateway.

It checks every request's SigV4 signature with botocore's own signer,
records what was posted to each connection (and to whom, in the order
delivered), answers 410 GoneException for connections it does not know, and
can be told to fail a connection's next calls with given statuses, to stall
them, to hang up on them without answering, or to drop every kept-alive
connection.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_PATH = re.compile(r"^/(?P<stage>[^/]+)/@connections/(?P<id>[^/]+)$")
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<akid>[^/]+)/(?P<day>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[^,]+), "
    r"Signature=(?P<sig>[0-9a-f]+)"
)


class ManagementApi:
    def __init__(self, credentials: Credentials | None = None, stage: str = "dev") -> None:
        self.credentials = credentials
        self.stage = stage
        self.lock = threading.Lock()
        self.open: set[str] = set()
        self.received: dict[str, list[dict[str, object]]] = defaultdict(list)
        self.scripted: dict[str, list[int]] = defaultdict(list)
        self.malformed: set[str] = set()
        """Connections whose answers carry a `Content-Length` that is no number."""
        self.hang_up: set[str] = set()
        """Connections whose posts are received, kept, and never answered: the
        server closes the HTTP connection instead."""
        self.delivered: list[str] = []
        """The connection of each frame received, in the order received."""
        self.delay_s = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests = 0
        self.bad_signatures = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                api._serve(self, "POST")

            def do_GET(self) -> None:
                api._serve(self, "GET")

            def do_DELETE(self) -> None:
                api._serve(self, "DELETE")

        self._sockets: set[socket.socket] = set()

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024

            def process_request(self, request: Any, client_address: Any) -> None:
                with api.lock:
                    api._sockets.add(request)
                super().process_request(request, client_address)

            def shutdown_request(self, request: Any) -> None:
                with api.lock:
                    api._sockets.discard(request)
                super().shutdown_request(request)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/{stage}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> ManagementApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def connect(self, *connection_ids: str) -> None:
        with self.lock:
            self.open.update(connection_ids)

    def frames(self, connection_id: str) -> list[dict[str, object]]:
        with self.lock:
            return list(self.received.get(connection_id, []))

    def drop_connections(self) -> None:
        """Closes every kept-alive HTTP connection, as a server does with idle ones."""
        with self.lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.delivered.clear()

    def _serve(self, http: BaseHTTPRequestHandler, method: str) -> None:
        body = http.rfile.read(int(http.headers.get("Content-Length") or 0))
        with self.lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                time.sleep(self.delay_s)
            status, answer = self._answer(http, method, body)
        finally:
            with self.lock:
                self.in_flight -= 1
        if status == 0:
            http.close_connection = True
            with contextlib.suppress(OSError):
                http.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = json.dumps(answer).encode() if answer is not None else b""
        http.send_response(status)
        http.send_header("Content-Type", "application/json")
        match = _PATH.match(http.path)
        malformed = match is not None and unquote(match["id"]) in self.malformed
        http.send_header("Content-Length", "twelve" if malformed else str(len(payload)))
        if status >= 400:
            http.send_header("x-amzn-ErrorType", str(answer and answer.get("__type", "")))
        http.end_headers()
        http.wfile.write(payload)

    def _answer(
        self, http: BaseHTTPRequestHandler, method: str, body: bytes
    ) -> tuple[int, dict[str, object] | None]:
        match = _PATH.match(http.path)
        if match is None or match["stage"] != self.stage:
            return 404, {"message": "Not Found"}
        if self.credentials is not None and not self._signed(http, method, body):
            with self.lock:
                self.bad_signatures += 1
            return 403, {"message": "The request signature we calculated does not match"}
        connection_id = unquote(match["id"])
        with self.lock:
            if self.scripted[connection_id]:
                status = self.scripted[connection_id].pop(0)
                if status == 410:
                    self.open.discard(connection_id)
                return status, {"message": f"scripted {status}"}
            if connection_id not in self.open:
                return 410, {"__type": "GoneException", "message": None}
            if method == "POST":
                self.received[connection_id].append(json.loads(body))
                self.delivered.append(connection_id)
                if connection_id in self.hang_up:
                    return 0, None
                return 200, None
            if method == "DELETE":
                self.open.discard(connection_id)
                return 204, None
        return 200, {"connectedAt": "2026-11-27T00:00:00Z", "identity": {"sourceIp": "127.0.0.1"}}

    def _signed(self, http: BaseHTTPRequestHandler, method: str, body: bytes) -> bool:
        assert self.credentials is not None
        found = _AUTH.fullmatch(http.headers.get("Authorization", ""))
        if found is None or found["akid"] != self.credentials.access_key:
            return False
        names = found["signed"].split(";")
        request = AWSRequest(
            method=method,
            url=f"http://{http.headers['Host']}{http.path}",
            data=body,
            headers={name: http.headers[name] for name in names if name in http.headers},
        )
        amz_date = http.headers.get("X-Amz-Date", "")
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(self.credentials, found["service"], found["region"])
        expected = signer.signature(
            signer.string_to_sign(request, signer.canonical_request(request)), request
        )
        return expected == found["sig"] and amz_date[:8] == found["day"]
