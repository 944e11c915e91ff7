"""One invocation as Lambda's Python runtime makes it, and a container that makes them
in a Python other than papo serve's own.

`invoke` is the runtime's part of every invocation, wherever it runs (a thread
of the server, a worker process): the context object, CloudWatch's
START/END/REPORT lines, and a failing handler's traceback with its request id.

`main` is a container for a function whose template names another Python
(`Runtime: python3.12`): papo serve starts that Python on this very file (see
`papo.local.containers`), so it imports nothing of papo and nothing outside
the standard library, and reads as Python 3.9. Its `sys.path` is the function's
code folder first, as Lambda's `/var/task`, then that Python's own packages:
what the function does not bring, it does not have, as on AWS. It imports the
handler once, as Lambda's init phase, then serves one invocation at a time,
the event and the answer as JSON over a socket it inherits.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import socket
import struct
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

_LENGTH = struct.Struct("!I")


ManagementApis = Mapping[str, Callable[[str, str, bytes], tuple[int, bytes]]]
"""The emulator's Management API by its URLs (`http://127.0.0.1:8000/dev`), each
a call (method, connection id, body) -> (status, answer body)."""


class LambdaContext:
    """The attributes of Lambda's context object that handlers commonly read,
    and one of papo serve's own: `in_process_management_api`, the emulator's
    Management API for a handler that runs in the emulator's own threads (empty
    anywhere else). A handler may call it instead of going over HTTP, with the
    same answers (410 for a gone connection...); handlers that do not know of
    it never see it."""

    function_version = "$LATEST"
    memory_limit_in_mb = 128
    log_group_name = "/aws/lambda/papo-local"
    log_stream_name = "papo-local"

    def __init__(
        self,
        aws_request_id: str,
        function_name: str,
        deadline_ms: int,
        in_process_management_api: ManagementApis | None = None,
    ) -> None:
        self.aws_request_id = aws_request_id
        self.function_name = function_name
        self.deadline_ms = deadline_ms
        self.in_process_management_api: ManagementApis = in_process_management_api or {}

    @property
    def invoked_function_arn(self) -> str:
        region = os.environ.get("AWS_REGION", "us-east-1")
        return f"arn:aws:lambda:{region}:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - time.time_ns() // 1_000_000)


class ImportModuleError(Exception):
    """The handler's module could not be imported (Lambda: `Runtime.ImportModuleError`)."""


class HandlerError(Exception):
    """The handler raised (or could not be imported): `Type: message`, as Lambda reports it."""


Handler = Callable[[Any, Any], Any]


def invoke(
    handler: Callable[[], Handler],
    event: Any,
    request_id: str,
    function_name: str,
    timeout_s: float,
    in_process_management_api: ManagementApis | None = None,
) -> Any:
    """Runs one invocation: `handler()` gives the function (importing it may fail
    too, which Lambda reports the same way)."""
    started = time.perf_counter()
    print(f"START RequestId: {request_id} Version: $LATEST", file=sys.stderr, flush=True)
    try:
        function = handler()
        deadline_ms = time.time_ns() // 1_000_000 + int(timeout_s * 1000)
        context = LambdaContext(request_id, function_name, deadline_ms, in_process_management_api)
        return function(event, context)
    except Exception as error:  # noqa: BLE001 - as Lambda's runtime, any failure of the handler
        lines = traceback.format_exception(type(error), error, error.__traceback__)
        for line in "".join(lines).rstrip().splitlines():
            print(f"[ERROR]\t{request_id}\t{line}", file=sys.stderr)
        raise HandlerError(f"{type(error).__name__}: {error}") from None
    finally:
        took = (time.perf_counter() - started) * 1000
        sys.stdout.flush()  # what the handler printed, before its REPORT, as in CloudWatch
        sys.stderr.write(
            f"END RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {took:.2f} ms\n"
        )
        sys.stderr.flush()


def send(channel: socket.socket, message: Any) -> None:
    data = json.dumps(message).encode()
    channel.sendall(_LENGTH.pack(len(data)) + data)


def receive(channel: socket.socket) -> Any:
    """The next message; EOFError when the other side is gone."""
    (length,) = _LENGTH.unpack(_exactly(channel, _LENGTH.size))
    return json.loads(_exactly(channel, length))


def _exactly(channel: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = channel.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _load_file(name: str, path: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _import_handler(reference: str) -> Handler:
    module_name, _, function_name = reference.partition(":")
    if not function_name:
        module_name, _, function_name = reference.rpartition(".")
    function = getattr(importlib.import_module(module_name), function_name)
    if not callable(function):
        raise TypeError(f"{reference} is not callable")
    return function  # type: ignore[no-any-return]


BOOTSTRAP = (
    "import sys, importlib.util as u\n"
    "del sys.path[0]\n"  # `-c` puts the current folder first; Lambda does not
    "s = u.spec_from_file_location('_papo_worker', sys.argv[1])\n"
    "m = u.module_from_spec(s); sys.modules['_papo_worker'] = m; s.loader.exec_module(m)\n"
    "m.main(int(sys.argv[2]))\n"
)
"""`python -c BOOTSTRAP worker.py FD`: this file as a container, reached through socket FD."""


def main(fd: int) -> None:
    """A container: the setup message, then invocations until the socket closes."""
    channel = socket.socket(fileno=fd)
    setup = receive(channel)
    hostnames = _load_file("_papo_hostnames", setup["hostnames"])
    for host, (address, port) in setup["hosts"].items():
        hostnames.claim(host, (address, port))
    sys.path.insert(0, setup["code_dir"])
    loaded: Handler | None = None
    failure = ""
    try:
        loaded = _import_handler(setup["handler"])
    except Exception as error:  # noqa: BLE001 - reported on each invocation, as Lambda does
        reference = setup["handler"]
        module = reference.partition(":")[0] if ":" in reference else reference.rpartition(".")[0]
        failure = f"Unable to import module '{module}': {error}"

    def handler() -> Handler:
        if loaded is None:
            raise ImportModuleError(failure)  # a new one each time: its traceback is this call's
        return loaded

    while True:
        try:
            request = receive(channel)
        except (EOFError, OSError):
            return
        try:
            result = invoke(
                handler,
                request["event"],
                request["request_id"],
                setup["function_name"],
                request["timeout_s"],
            )
        except HandlerError as error:
            send(channel, {"error": str(error)})
            continue
        try:
            send(channel, {"result": result})
        except (TypeError, ValueError) as error:
            send(channel, {"error": f"Runtime.MarshalError: Unable to marshal response: {error}"})
