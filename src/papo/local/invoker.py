"""Invoking Lambda handlers: in threads of this process, or in worker processes.

Worker processes stand in for Lambda containers: state a handler keeps in
module globals is not shared between them, as it is not on AWS. Each call
writes CloudWatch's START/END/REPORT lines, and a handler's exception with
its request id, to standard error (`papo.local.worker`). A function whose
template names another Python than papo serve's runs in containers of that
Python instead (`papo.local.containers`), whatever the mode.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from papo.local import worker
from papo.local.config import ApiConfig, RouteTarget
from papo.local.containers import ContainerDied, Containers
from papo.local.loader import Loader
from papo.local.runtime import Interpreter, Runtime, interpreter

CONTAINERS = 10
"""At most this many containers a function of another Python, unless --workers says."""


class HandlerFailed(Exception):
    """The handler raised; API Gateway answers 'Internal server error'."""


def call(
    loader: Loader,
    target: RouteTarget,
    event: dict[str, Any],
    timeout_s: float,
    request_id: str,
    management_api: worker.ManagementApis | None = None,
) -> Any:
    """Runs one invocation; in a worker process, or in a thread of the server,
    where the handler's context carries the emulator's `management_api`."""
    try:
        return worker.invoke(
            lambda: loader.handler(target),
            event,
            request_id,
            target.function_name,
            timeout_s,
            management_api,
        )
    except worker.HandlerError as error:
        raise HandlerFailed(str(error)) from None


def _in_container(
    containers: Containers, event: dict[str, Any], timeout_s: float, request_id: str
) -> Any:
    try:
        return containers.invoke(event, request_id, timeout_s)
    except (worker.HandlerError, ContainerDied) as error:
        raise HandlerFailed(str(error)) from None


_worker_loader = Loader()
"""A worker process's handlers: the process is the worker's alone."""


def _start_worker(runtime: Runtime) -> None:
    runtime.enter()  # for the worker's whole life, as a Lambda container's


def _call_in_worker(
    target: RouteTarget, event: dict[str, Any], timeout_s: float, request_id: str
) -> Any:
    return call(_worker_loader, target, event, timeout_s, request_id)


def one_environment(targets: Iterable[RouteTarget]) -> tuple[dict[str, str], set[str]]:
    """The environment one process can hold for these functions, and those,
    after the first, that set a variable another set before them to another
    value: they cannot share it."""
    held: dict[str, str] = {}
    apart: set[str] = set()
    for target in targets:
        if any(held.get(name, value) != value for name, value in target.environment.items()):
            apart.add(target.function_name)
        else:
            held.update(target.environment)
    return held, apart


class Invoker:
    """Runs the API's functions: in N worker processes, or in threads of this one.

    Each function runs with its own environment over what all share, as each
    Lambda function has its own: in worker mode each distinct environment has
    its own worker processes; in threads, the process holds one environment,
    so a function whose variables contradict another's (two functions, one
    variable, two values) runs in containers of papo serve's Python instead.
    """

    def __init__(self, config: ApiConfig, runtime: Runtime) -> None:
        self.config = config
        self.runtime = runtime
        self._leave: Callable[[], None] | None = None
        functions = {target.function_name: target for target in config.functions}
        self.interpreters: dict[str, Interpreter] = {
            name: interpreter(target.runtime) for name, target in functions.items()
        }
        apart = {name for name, found in self.interpreters.items() if found.foreign}
        self._threads = ThreadPoolExecutor(64, thread_name_prefix="papo-lambda")
        self._pools: dict[str, Executor] = {}
        shared_in_threads: dict[str, str] = {}
        self.environment_apart: set[str] = set()
        """Functions run in containers in threads mode, for their environment."""
        if config.workers > 0:
            by_environment: dict[frozenset[tuple[str, str]], Executor] = {}
            for name, target in functions.items():
                if name in apart:
                    continue
                key = frozenset(target.environment.items())
                if key not in by_environment:
                    by_environment[key] = ProcessPoolExecutor(
                        config.workers,
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=_start_worker,
                        initargs=(self._own(target),),
                    )
                self._pools[name] = by_environment[key]
        else:
            self._loader = Loader()
            in_threads = [t for name, t in functions.items() if name not in apart]
            shared_in_threads, self.environment_apart = one_environment(in_threads)
            apart |= self.environment_apart
        self._in_threads = Runtime({**runtime.environment, **shared_in_threads}, runtime.hosts)
        self._management_api: worker.ManagementApis = {}
        # Taken before `open` puts the threads' variables into this process's.
        started_in = dict(os.environ)
        self._containers = {
            name: Containers(
                self.interpreters[name].path,
                functions[name],
                {**started_in, **self._own(functions[name]).environment},
                runtime.hosts,
                config.workers or CONTAINERS,
            )
            for name in apart
        }

    def _own(self, target: RouteTarget) -> Runtime:
        """What a function's process holds: what all share, then its own variables."""
        return Runtime({**self.runtime.environment, **target.environment}, self.runtime.hosts)

    def open(self, management_api: worker.ManagementApis | None = None) -> None:
        """Readies this process for handlers in its threads (workers ready their
        own); those get `management_api`, the emulator's, in their context."""
        if self.config.workers == 0 and self._leave is None:
            self._leave = self._in_threads.enter()
            self._management_api = management_api or {}

    async def invoke(self, route: str, event: dict[str, Any]) -> Any:
        """Runs the route's handler; raises HandlerFailed if it raised.

        The caller bounds the wait; the invocation itself runs to its end.
        """
        target = self.config.routes[route]
        timeout = self.config.limits.integration_timeout_s
        request_id = event["requestContext"]["requestId"]
        return await self._submit(target, event, timeout, request_id)

    async def invoke_function(
        self, target: RouteTarget, event: dict[str, Any], request_id: str
    ) -> Any:
        """Runs a function as Lambda's Invoke API does, with its own timeout."""
        return await self._submit(target, event, target.timeout_s, request_id)

    async def _submit(
        self, target: RouteTarget, event: dict[str, Any], timeout_s: float, request_id: str
    ) -> Any:
        loop = asyncio.get_running_loop()
        containers = self._containers.get(target.function_name)
        if containers is not None:
            return await loop.run_in_executor(
                self._threads, _in_container, containers, event, timeout_s, request_id
            )
        if self.config.workers > 0:
            return await loop.run_in_executor(
                self._pools[target.function_name],
                _call_in_worker,
                target,
                event,
                timeout_s,
                request_id,
            )
        return await loop.run_in_executor(
            self._threads,
            call,
            self._loader,
            target,
            event,
            timeout_s,
            request_id,
            self._management_api,
        )

    def close(self) -> None:
        for pool in {id(p): p for p in self._pools.values()}.values():
            pool.shutdown(wait=False, cancel_futures=True)
        self._threads.shutdown(wait=False, cancel_futures=True)
        for containers in self._containers.values():
            containers.close()
        if self._leave is not None:
            self._leave()
            self._leave = None
        self._management_api = {}
