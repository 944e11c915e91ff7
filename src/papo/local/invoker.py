"""Invoking Lambda handlers: in threads of this process, or in containers.

Containers (`papo.local.containers`) are processes of their own and stand in
for Lambda's: state a handler keeps in module globals is not shared between
them, as it is not on AWS, and they can be stopped. Each call writes
CloudWatch's START/END/REPORT lines, and a handler's exception with its
request id, to standard error (`papo.local.worker`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

from papo.local import worker
from papo.local.config import ApiConfig, RouteTarget
from papo.local.containers import ContainerDied, Containers, function_of
from papo.local.loader import Loader
from papo.local.placement import placement
from papo.local.runtime import Interpreter, Runtime, environment_without_runtimes
from papo.local.runtime_boto3 import runtime_boto3

CONTAINERS = 10
"""At most this many containers a function in threads mode (--workers N says N)."""


class HandlerFailed(Exception):
    """The handler raised, or was stopped; API Gateway answers 'Internal server error'.
    `payload`: Lambda's error payload, where the runtime gave one (Node.js's)."""

    def __init__(self, message: str, payload: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.payload = payload


def call(
    loader: Loader,
    target: RouteTarget,
    event: dict[str, Any],
    request_id: str,
    management_api: worker.ManagementApis | None = None,
) -> Any:
    """Runs one invocation in a thread of the server, where the handler's context
    carries the emulator's `management_api`."""
    try:
        return worker.invoke(
            lambda: loader.load(target),
            event,
            request_id,
            function_of(target),
            management_api,
        )
    except worker.HandlerError as error:
        raise HandlerFailed(str(error)) from None


def _in_container(containers: Containers, event: dict[str, Any], request_id: str) -> Any:
    try:
        return containers.invoke(event, request_id)
    except worker.HandlerError as error:
        raise HandlerFailed(str(error), error.payload) from None
    except ContainerDied as error:
        raise HandlerFailed(str(error)) from None


class Invoker:
    """Runs the API's functions: in threads of this process, or in containers,
    processes of their own, one invocation at a time each, as Lambda's; which,
    `papo.local.placement` decides. Containers keep the function's Timeout and
    MemorySize; what runs in threads keeps neither, and its `Max Memory Used`
    is the whole server's.
    """

    def __init__(self, config: ApiConfig, runtime: Runtime) -> None:
        self.config = config
        self.runtime = runtime
        self._leave: Callable[[], None] | None = None
        functions = {target.function_name: target for target in config.functions}
        placed = placement(config)
        self.interpreters: Mapping[str, Interpreter] = placed.interpreters
        self._threads = ThreadPoolExecutor(64, thread_name_prefix="papo-lambda")
        self._loader = Loader()
        self._in_threads = Runtime(
            {**runtime.environment, **placed.shared_in_threads}, runtime.hosts
        )
        self._management_api: worker.ManagementApis = {}
        # Without the variables any handlers in this process's threads hold in it.
        started_in = environment_without_runtimes()
        self._containers = {
            name: Containers(
                self.interpreters[name].path,
                functions[name],
                {**started_in, **self._own(functions[name]).environment},
                runtime.hosts,
                config.workers or CONTAINERS,
                self.interpreters[name].language,
                self._runtime_packages(self.interpreters[name]),
            )
            for name in placed.apart
        }

    @staticmethod
    def _runtime_packages(python: Interpreter) -> Path | None:
        """boto3 as Lambda's runtime brings it, for a Python other than papo serve's
        (papo serve's own has it already)."""
        if python.language != "python" or not python.foreign:
            return None
        return runtime_boto3(python.version).folder

    def in_containers(self, function_name: str) -> bool:
        return function_name in self._containers

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
        return await self._submit(target, event, event["requestContext"]["requestId"])

    async def invoke_function(
        self, target: RouteTarget, event: dict[str, Any], request_id: str
    ) -> Any:
        """Runs a function as Lambda's Invoke API does."""
        return await self._submit(target, event, request_id)

    async def _submit(self, target: RouteTarget, event: dict[str, Any], request_id: str) -> Any:
        loop = asyncio.get_running_loop()
        containers = self._containers.get(target.function_name)
        if containers is not None:
            return await loop.run_in_executor(
                self._threads, _in_container, containers, event, request_id
            )
        return await loop.run_in_executor(
            self._threads, call, self._loader, target, event, request_id, self._management_api
        )

    def reload(self, function_names: Iterable[str], stale: Callable[[ModuleType], bool]) -> None:
        """`papo serve --reload`: these functions' next invocations run their code
        anew, in new containers, or in threads with their handlers imported anew
        and every `stale` module with them."""
        names = set(function_names)
        for name in names & set(self._containers):
            self._containers[name].renew()
        in_threads = [
            target
            for target in self.config.functions
            if target.function_name in names and target.function_name not in self._containers
        ]
        if in_threads:
            self._loader.forget(in_threads, stale)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        for containers in self._containers.values():
            containers.close()
        if self._leave is not None:
            self._leave()
            self._leave = None
        self._management_api = {}
