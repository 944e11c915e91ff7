"""A local OpenAI-compatible server for tests: Chat Completions, streamed as
server-sent events over chunked HTTP/1.1, as OpenAI sends them, and the
moderation endpoint, which flags any text holding one of `flag_words`.

Each request takes the next scripted `Reply` (or the default one): it may
stream as the test releases it (`held`), answer an error status, stop
mid-stream or never finish, and every request is recorded.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    pieces: list[str] = field(default_factory=lambda: ["Hello", " from", " the", " bot."])
    held: bool = False
    """Each piece waits for the test to release it (`FakeOpenAi.release`): the
    test sees the answer stream in, at its own pace, not the clock's."""
    delay_s: float = 0.0
    """Between two pieces (for benchmarks: tests release pieces instead)."""
    wait_s: float = 0.0
    """Before answering at all."""
    status: int = 200
    retry_after: str | None = None
    break_after: int | None = None
    """Drop the connection after this many pieces, mid-stream."""
    garbage_after: int | None = None
    """Send an event that is not JSON after this many pieces."""
    finish: bool = True
    """Send the final chunk with a finish reason, and `[DONE]`."""
    usage: tuple[int, int] | None = (50, 10)


@dataclass
class Recorded:
    body: dict[str, Any]
    headers: dict[str, str]
    first_piece_at: float | None = None
    """`time.perf_counter()` when the first piece was written."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (the SDK closing a stream, a process ending) is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeOpenAi:
    def __init__(self, port: int = 0) -> None:
        """`port` 0: any free one; a port of its own lets a test's server
        stand where an earlier test's did, for an emulator they share."""
        self.replies: list[Reply] = []
        self.default = Reply()
        self.requests: list[Recorded] = []
        self.moderations: list[Recorded] = []
        """Requests to `/v1/moderations` (not in `requests`, the chat's)."""
        self.flag_words: set[str] = set()
        self._lock = threading.Lock()
        self._released = 0
        self._closing = False
        self._turn = threading.Condition()
        self._server = _Server(("127.0.0.1", port), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def next_reply(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            return self.replies.pop(0) if self.replies else self.default

    def release(self, pieces: int = 1) -> None:
        """Lets `pieces` more pieces of held replies go out, in order."""
        with self._turn:
            self._released += pieces
            self._turn.notify_all()

    def next_piece_released(self) -> bool:
        """Waits until the test releases a piece; False once the server stops."""
        with self._turn:
            self._turn.wait_for(lambda: self._released > 0 or self._closing)
            if self._closing:
                return False
            self._released -= 1
            return True

    @contextmanager
    def running(self) -> Iterator[FakeOpenAi]:
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            with self._turn:
                self._closing = True
                self._turn.notify_all()
            self._server.shutdown()
            self._server.server_close()


def _chunk(model: str, **choice: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, **choice}],
    }


def _handler(fake: FakeOpenAi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            recorded = Recorded(body, {k.lower(): v for k, v in self.headers.items()})
            if self.path.endswith("/moderations"):
                self._moderate(recorded)
                return
            reply = fake.next_reply(recorded)
            time.sleep(reply.wait_s)
            if reply.status != 200:
                self._error(reply, body)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            # Never kept alive: a connection kept would reach this server after it
            # stopped, where another now stands at its port.
            self.send_header("Connection", "close")
            self.close_connection = True
            self.end_headers()
            model = body.get("model", "")
            self._event(_chunk(model, delta={"role": "assistant", "content": ""}))
            for number, piece in enumerate(reply.pieces):
                if reply.break_after is not None and number == reply.break_after:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if reply.garbage_after is not None and number == reply.garbage_after:
                    self._write(b"data: {not json\n\n")
                if reply.held and not fake.next_piece_released():
                    return
                if number:
                    time.sleep(reply.delay_s)
                if recorded.first_piece_at is None:
                    recorded.first_piece_at = time.perf_counter()
                self._event(_chunk(model, delta={"content": piece}, finish_reason=None))
            if reply.finish:
                self._event(_chunk(model, delta={}, finish_reason="stop"))
                if reply.usage is not None:
                    prompt, completion = reply.usage
                    usage = {
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion,
                    }
                    self._event({**_chunk(model), "choices": [], "usage": usage})
                self._write(b"data: [DONE]\n\n")
            self._write(b"")

        def _moderate(self, recorded: Recorded) -> None:
            """As OpenAI's moderation answers: a result for each input."""
            fake.moderations.append(recorded)
            given = recorded.body.get("input", "")
            inputs = given if isinstance(given, list) else [given]
            results = [
                {
                    "flagged": any(word in str(text) for word in fake.flag_words),
                    "categories": {},
                    "category_scores": {},
                    "category_applied_input_types": {},
                }
                for text in inputs
            ]
            model = recorded.body.get("model", "")
            payload = json.dumps({"id": "modr-fake", "model": model, "results": results})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.close_connection = True
            self.end_headers()
            self.wfile.write(payload.encode())

        def _event(self, data: dict[str, Any]) -> None:
            self._write(b"data: " + json.dumps(data).encode() + b"\n\n")

        def _write(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _error(self, reply: Reply, body: dict[str, Any]) -> None:
            key = self.headers.get("Authorization", "").removeprefix("Bearer ")
            # Like OpenAI's own 401, the message quotes the key it got.
            message = f"Incorrect API key provided: {key}" if reply.status == 401 else "failed"
            payload = json.dumps({"error": {"message": message, "type": "error"}}).encode()
            self.send_response(reply.status)
            self.send_header("Connection", "close")
            self.close_connection = True
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if reply.retry_after is not None:
                self.send_header("Retry-After", reply.retry_after)
            self.end_headers()
            self.wfile.write(payload)

    return Handler
