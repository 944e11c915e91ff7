"""One invocation as Lambda's Python runtime makes it, and a container that makes them
in a Python other than papo serve's own.

`invoke` is the runtime's part of every invocation, wherever it runs (a thread
of the server, a worker process): the context object, CloudWatch's
START/END/REPORT lines, and a failing handler's traceback with its request id.

`main` is a container for a function whose template names another Python
(`Runtime: python3.12`): papo serve starts that Python on this very file (see
`papo.local.containers`), so it imports nothing of papo and nothing outside
the standard library, and reads as Python 3.9. Its `sys.path` is the function's
code folder first, as Lambda's `/var/task`, then that Python's own packages,
then boto3 as Lambda's runtime brings it (`papo.local.runtime_boto3`): what
else the function does not bring, it does not have, as on AWS. It imports the
handler once, as Lambda's init phase, then serves one invocation at a time,
the event and the answer as JSON over a socket it inherits.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
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
    log_group_name = "/aws/lambda/papo-local"
    log_stream_name = "papo-local"

    def __init__(
        self,
        aws_request_id: str,
        function_name: str,
        deadline_ms: int,
        in_process_management_api: ManagementApis | None = None,
        memory_limit_in_mb: int = 128,
    ) -> None:
        self.aws_request_id = aws_request_id
        self.function_name = function_name
        self.deadline_ms = deadline_ms
        self.memory_limit_in_mb = memory_limit_in_mb
        self.in_process_management_api: ManagementApis = in_process_management_api or {}

    @property
    def invoked_function_arn(self) -> str:
        region = os.environ.get("AWS_REGION", "us-east-1")
        return f"arn:aws:lambda:{region}:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - time.time_ns() // 1_000_000)


class ImportModuleError(Exception):
    """The handler's module could not be imported, or its `Handler` names none
    (Lambda: `Runtime.ImportModuleError`); reported alike in threads and in
    containers."""


class HandlerError(Exception):
    """The handler raised (or could not be imported): `Type: message`, as Lambda reports it,
    and, from a Node.js container, Lambda's error payload (`errorType`, `errorMessage`,
    `trace`)."""

    def __init__(self, message: str, payload: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.payload = payload


class OutOfMemory(HandlerError):
    """The handler went past its function's MemorySize: its container must go."""


KILLED = "Error: Runtime exited with error: signal: killed"
"""What Lambda says of a runtime it stopped for its memory."""


Handler = Callable[[Any, Any], Any]


class Function:
    """What an invocation needs of its function's configuration: plain values,
    as they travel to a container as JSON."""

    def __init__(
        self, name: str, timeout_s: float, memory_mb: int = 128, json_log: bool = False
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.json_log = json_log

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "timeout_s": self.timeout_s,
            "memory_mb": self.memory_mb,
            "json_log": self.json_log,
        }

    @classmethod
    def from_json(cls, given: Mapping[str, Any]) -> Function:
        return cls(given["name"], given["timeout_s"], given["memory_mb"], given["json_log"])


def max_memory_used_mb(pid: int | str = "self") -> int:
    """A container's peak resident memory, in MB, as Lambda's `Max Memory Used`:
    on Linux its `VmHWM`, which starts anew with the program (`ru_maxrss` would
    count the memory of the process the container was forked from); elsewhere,
    this process's `ru_maxrss`. 0 when a process that is gone does not say."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return -(-int(line.split()[1]) // 1024)
    except (OSError, ValueError):
        pass
    return server_peak_mb() if pid == "self" and sys.platform == "darwin" else 0


def server_peak_mb() -> int:
    """papo serve's own peak resident memory, in MB: what its threads' REPORT
    says. A system call, where reading `/proc` would cost thirty times as much
    on every invocation."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return -(-peak // (1024 * 1024 if sys.platform == "darwin" else 1024))


def _now() -> str:
    """Lambda's timestamps: UTC, to the millisecond, `2024-05-01T12:00:00.123Z`."""
    moment = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment))
    return f"{stamp}.{int(moment * 1000) % 1000:03d}Z"


def log_start(function: Function, request_id: str) -> None:
    if function.json_log:
        record = {"requestId": request_id, "version": "$LATEST"}
        line = json.dumps({"time": _now(), "type": "platform.start", "record": record})
    else:
        line = f"START RequestId: {request_id} Version: $LATEST"
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def log_error(function: Function, request_id: str, message: str) -> None:
    """A line of Lambda's own about an invocation: `Task timed out after 2.00 seconds`."""
    if function.json_log:
        entry = {"timestamp": _now(), "level": "ERROR", "requestId": request_id}
        line = json.dumps({**entry, "message": message})
    else:
        line = f"{_now()} {request_id} {message}"
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def log_end(
    function: Function,
    request_id: str,
    duration_ms: float,
    max_memory_mb: int,
    init_ms: float | None = None,
    status: str = "success",
    error_type: str | None = None,
) -> None:
    """Lambda's END and REPORT lines (in JSON, its `platform.report` event).

    Billed Duration is the duration rounded up to the millisecond, with the
    Init Duration in it on a cold start, as Lambda bills since August 2025."""
    billed = math.ceil(duration_ms + (init_ms or 0.0))
    if function.json_log:
        metrics: dict[str, Any] = {
            "durationMs": round(duration_ms, 2),
            "billedDurationMs": billed,
            "memorySizeMB": function.memory_mb,
            "maxMemoryUsedMB": max_memory_mb,
        }
        if init_ms is not None:
            metrics["initDurationMs"] = round(init_ms, 2)
        record: dict[str, Any] = {"requestId": request_id, "metrics": metrics, "status": status}
        if error_type is not None:
            record["errorType"] = error_type
        sys.stderr.write(
            json.dumps({"time": _now(), "type": "platform.report", "record": record}) + "\n"
        )
    else:
        fields = [
            f"REPORT RequestId: {request_id}",
            f"Duration: {duration_ms:.2f} ms",
            f"Billed Duration: {billed} ms",
            f"Memory Size: {function.memory_mb} MB",
            f"Max Memory Used: {max_memory_mb} MB",
        ]
        if init_ms is not None:
            fields.append(f"Init Duration: {init_ms:.2f} ms")
        if status != "success":
            fields.append(f"Status: {status}")
        if error_type is not None:
            fields.append(f"Error Type: {error_type}")
        report = "\t".join(fields)
        sys.stderr.write(f"END RequestId: {request_id}\n{report}\n")
    sys.stderr.flush()


def invoke(
    handler: Callable[[], tuple[Handler, float | None]],
    event: Any,
    request_id: str,
    function: Function,
    in_process_management_api: ManagementApis | None = None,
    *,
    in_container: bool = False,
) -> Any:
    """Runs one invocation: `handler()` gives the function, and how long importing
    it took if this call did (its Init Duration); importing may fail too, which
    Lambda reports the same way. `in_container`: this process is the function's
    own, whose peak memory is the function's, and kept within its MemorySize."""
    started = time.perf_counter()
    deadline_ms = time.time_ns() // 1_000_000 + int(function.timeout_s * 1000)
    log_start(function, request_id)
    init_ms: float | None = None
    status, error_type = "success", None
    try:
        loaded, init_ms = handler()
        context = LambdaContext(
            request_id, function.name, deadline_ms, in_process_management_api, function.memory_mb
        )
        return loaded(event, context)
    except ImportModuleError as error:
        # One line, the same wherever the import was tried: Lambda's.
        status, error_type = "error", "Runtime.ImportModuleError"
        print(f"[ERROR]\t{request_id}\t{error_type}: {error}", file=sys.stderr)
        raise HandlerError(f"{error_type}: {error}") from None
    except Exception as error:  # noqa: BLE001 - as Lambda's runtime, any failure of the handler
        status = "error"
        lines = traceback.format_exception(type(error), error, error.__traceback__)
        for line in "".join(lines).rstrip().splitlines():
            print(f"[ERROR]\t{request_id}\t{line}", file=sys.stderr)
        if isinstance(error, MemoryError):
            error_type = "Runtime.OutOfMemory"
            log_error(function, request_id, KILLED)
            raise OutOfMemory(f"Runtime.OutOfMemory: {KILLED}") from None
        raise HandlerError(f"{type(error).__name__}: {error}") from None
    finally:
        took = (time.perf_counter() - started) * 1000
        sys.stdout.flush()  # what the handler printed, before its REPORT, as in CloudWatch
        peak = max_memory_used_mb() if in_container else server_peak_mb()
        past = in_container and error_type is None and peak > function.memory_mb
        if past:  # it answered before its container's watch saw it: Lambda would have killed it
            status, error_type = "error", "Runtime.OutOfMemory"
            log_error(function, request_id, KILLED)
        log_end(function, request_id, took, peak, init_ms, status, error_type)
        if past:
            raise OutOfMemory(f"Runtime.OutOfMemory: {KILLED}")


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


BOOTSTRAP = (
    "import sys, importlib.util as u\n"
    "del sys.path[0]\n"  # `-c` puts the current folder first; Lambda does not
    "s = u.spec_from_file_location('_papo_worker', sys.argv[1])\n"
    "m = u.module_from_spec(s); sys.modules['_papo_worker'] = m; s.loader.exec_module(m)\n"
    "m.main(int(sys.argv[2]))\n"
)
"""`python -c BOOTSTRAP worker.py FD`: this file as a container, reached through socket FD."""


def main(fd: int) -> None:
    """A container: the setup message, its init (the handler's import), then
    invocations until the socket closes, or until one runs out of memory."""
    channel = socket.socket(fileno=fd)
    setup = receive(channel)
    function = Function.from_json(setup["function"])
    hostnames = _load_file("_papo_hostnames", setup["hostnames"])
    references = _load_file("_papo_handler_reference", setup["handler_reference"])
    for host, (address, port) in setup["hosts"].items():
        hostnames.claim(host, (address, port))
    sys.path.insert(0, setup["code_dir"])
    if setup.get("runtime_packages"):
        sys.path.append(setup["runtime_packages"])  # Lambda's runtime folder, after all else
    started = time.perf_counter()
    loaded: Handler | None = None
    failure = ""
    try:
        reference = references.HandlerReference.parse(setup["handler"])
    except ValueError as error:
        failure = str(error)  # as the loader says it, in threads
    else:
        try:
            loaded = reference.find(importlib.import_module(reference.module))
        except Exception as error:  # noqa: BLE001 - reported on each invocation, as Lambda does
            failure = reference.import_failure(error)
    init_ms: float | None = (time.perf_counter() - started) * 1000
    send(channel, {"ready": True})

    def handler() -> tuple[Handler, float | None]:
        nonlocal init_ms
        if loaded is None:
            raise ImportModuleError(failure)  # a new one each time: its traceback is this call's
        first, init_ms = init_ms, None
        return loaded, first

    while True:
        try:
            request = receive(channel)
        except (EOFError, OSError):
            return
        try:
            result = invoke(
                handler, request["event"], request["request_id"], function, in_container=True
            )
        except OutOfMemory as error:
            send(channel, {"error": str(error), "ended": True})
            return
        except HandlerError as error:
            send(channel, {"error": str(error)})
            continue
        try:
            send(channel, {"result": result})
        except (TypeError, ValueError) as error:
            send(channel, {"error": f"Runtime.MarshalError: Unable to marshal response: {error}"})
