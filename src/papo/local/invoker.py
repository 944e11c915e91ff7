"""Invoking Lambda handlers: in threads of this process, or in worker processes.

Worker processes stand in for Lambda containers: state a handler keeps in
module globals is not shared between them, as it is not on AWS. Each call
writes CloudWatch's START/END/REPORT lines, and a handler's exception with
its request id, to standard error.
"""

from __future__ import annotations

import asyncio
import importlib
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from papo.local.config import ApiConfig, RouteTarget

Handler = Callable[[dict[str, Any], Any], Any]
_loaded: dict[str, Handler] = {}


class HandlerFailed(Exception):
    """The handler raised; API Gateway answers 'Internal server error'."""


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers commonly read."""

    aws_request_id: str
    function_name: str
    deadline_ms: int
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    log_group_name: str = "/aws/lambda/papo-local"
    log_stream_name: str = "papo-local"

    @property
    def invoked_function_arn(self) -> str:
        region = os.environ.get("AWS_REGION", "us-east-1")
        return f"arn:aws:lambda:{region}:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - time.time_ns() // 1_000_000)


def load(target: RouteTarget) -> Handler:
    """Imports `module:function`, from the target's code folder when it has one."""
    key = f"{target.code_dir}|{target.handler}"
    if key not in _loaded:
        module_name, _, function_name = target.handler.partition(":")
        if not function_name:
            module_name, _, function_name = target.handler.rpartition(".")
        code_dir = target.code_dir or os.getcwd()  # as `python -m`, uvicorn and Lambda do
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)
        handler = getattr(importlib.import_module(module_name), function_name)
        if not callable(handler):
            raise TypeError(f"{target.handler} is not callable")
        _loaded[key] = handler
    return _loaded[key]


def call(target: RouteTarget, event: dict[str, Any], timeout_s: float, request_id: str) -> Any:
    """Runs one invocation; in a worker process, or in a thread of the server."""
    started = time.perf_counter()
    print(f"START RequestId: {request_id} Version: $LATEST", file=sys.stderr, flush=True)
    try:
        handler = load(target)
        context = LambdaContext(
            aws_request_id=request_id,
            function_name=target.function_name,
            deadline_ms=time.time_ns() // 1_000_000 + int(timeout_s * 1000),
        )
        return handler(event, context)
    except Exception as error:  # noqa: BLE001 - as Lambda's runtime, any failure of the handler
        lines = traceback.format_exception(error)
        for line in "".join(lines).rstrip().splitlines():
            print(f"[ERROR]\t{request_id}\t{line}", file=sys.stderr)
        raise HandlerFailed(f"{type(error).__name__}: {error}") from None
    finally:
        took = (time.perf_counter() - started) * 1000
        print(f"END RequestId: {request_id}", file=sys.stderr)
        print(
            f"REPORT RequestId: {request_id}\tDuration: {took:.2f} ms",
            file=sys.stderr,
            flush=True,
        )


def lambda_defaults(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """What Lambda's environment always has and a laptop may not: a region, and
    credentials for boto3 (the emulator's Management API accepts any; real AWS
    services keep using the developer's own when they have some)."""
    defaults: dict[str, str] = {}
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if not environ.get(name):
            defaults[name] = region
    import botocore.session

    if botocore.session.get_session().get_credentials() is None:
        defaults["AWS_ACCESS_KEY_ID"] = "papo-local"
        defaults["AWS_SECRET_ACCESS_KEY"] = "papo-local"  # noqa: S105 - a placeholder, no secret
    return defaults


def _start_worker(environment: Mapping[str, str]) -> None:
    os.environ.update(environment)


class Invoker:
    def __init__(self, config: ApiConfig, environment: Mapping[str, str] | None = None) -> None:
        self.config = config
        merged: dict[str, str] = {**lambda_defaults(), **(environment or {})}
        for target in config.routes.values():
            merged.update(target.environment)
        self._executor: Executor
        self._replaced: dict[str, str | None] = {}
        if config.workers > 0:
            self._executor = ProcessPoolExecutor(
                config.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(merged,),
            )
        else:
            # Handlers in threads read this process's environment; close() gives it back.
            self._replaced = {name: os.environ.get(name) for name in merged}
            os.environ.update(merged)
            self._executor = ThreadPoolExecutor(64, thread_name_prefix="papo-lambda")

    async def invoke(self, route: str, event: dict[str, Any]) -> Any:
        """Runs the route's handler; raises HandlerFailed if it raised.

        The caller bounds the wait; the invocation itself runs to its end.
        """
        target = self.config.routes[route]
        timeout = self.config.limits.integration_timeout_s
        request_id = event["requestContext"]["requestId"]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, call, target, event, timeout, request_id)

    async def invoke_function(
        self, target: RouteTarget, event: dict[str, Any], request_id: str
    ) -> Any:
        """Runs a function as Lambda's Invoke API does, with its own timeout."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, call, target, event, target.timeout_s, request_id
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        for name, value in self._replaced.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._replaced = {}
