"""Containers: a function's processes of its own, as Lambda's.

A function runs in containers where it must be stopped at its Timeout or
kept within its MemorySize (`papo.local.invoker` says when), or where its
template names another Python than papo serve's (`Runtime: python3.12`,
served by papo serve running on 3.11): processes of that Python
(`papo.local.worker`), one invocation at a time each: an idle one takes the
next invocation, else a new one starts, up to a limit, and waits for its
turn beyond it. They share nothing with papo serve's process but the
environment Lambda would give the function: what the function imports comes
from its code folder and that Python's own packages. One that timed out,
ran out of memory or exited is gone, and the next invocation starts another.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from papo.local import handler_reference, hostnames, nodejs, worker
from papo.local.config import RouteTarget

LEFT_OUT = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
"""papo serve's own interpreter settings, which would mislead another Python (papo
serve's own keeps them, as its threads have them)."""


INIT_LIMIT_S = 10.0
"""Lambda's limit on a container's init: the handler's import."""

MEMORY_WATCH_S = 0.02
"""How often a container's resident memory is looked at while it runs an invocation."""


class ContainerDied(Exception):
    """The container's process ended during an invocation, or was stopped at its Timeout."""


def function_of(target: RouteTarget) -> worker.Function:
    return worker.Function(
        target.function_name, target.timeout_s, target.memory_mb, target.log_format == "JSON"
    )


class Container:
    """One process of the function's Python, serving one invocation at a time.

    Both of the function's limits are kept here, from outside, as Lambda keeps
    them: past its Timeout, or with more resident memory than its MemorySize,
    the process is killed (a thread could not be). Resident memory is what
    Lambda counts: a thread's stack or malloc's arenas, reserved and not
    touched, are not (docs/promises.md: "A function's Timeout and MemorySize
    are kept as Lambda keeps them")."""

    def __init__(
        self,
        python: str,
        target: RouteTarget,
        environment: Mapping[str, str],
        hosts: Mapping[str, hostnames.Address],
        language: str = "python",
        runtime_packages: Path | None = None,
    ) -> None:
        """`runtime_packages`: what Lambda's runtime brings (boto3), last on its path."""
        ours, theirs = socket.socketpair()
        self._channel = ours
        self._answered = select.poll()
        self._answered.register(ours, select.POLLIN)
        self._peak = 0
        self.function = function_of(target)
        self.reports = language == "node"
        """Whether START, END and REPORT are written here: a Python container
        writes its own, with `papo.local.worker`'s invocation."""
        env = dict(environment)
        if python != sys.executable:
            for name in LEFT_OUT:
                env.pop(name, None)
        setup: dict[str, Any] = {
            "code_dir": str(Path(target.code_dir or os.getcwd()).resolve()),
            "handler": target.handler,
            "function": self.function.as_json(),
            "hosts": dict(hosts),
        }
        if self.reports:
            env = nodejs.environment(env, target.runtime)
            command = [python, str(nodejs.BOOTSTRAP)]
            setup["sdk"] = str(nodejs.sdk_modules())
        else:
            command = [python, "-c", worker.BOOTSTRAP, worker.__file__]
            setup["hostnames"] = hostnames.__file__
            setup["handler_reference"] = handler_reference.__file__
            setup["runtime_packages"] = None if runtime_packages is None else str(runtime_packages)
        with theirs:
            self.process = subprocess.Popen(  # noqa: S603 - the function's own Python or Node
                [*command, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                env=env,
            )
        worker.send(ours, setup)
        try:
            # Lambda gives an init 10 s, then tries it again within the invocation.
            limit = max(INIT_LIMIT_S, self.function.timeout_s)
            if not self._answers_within(limit):
                took = f"Init Duration: {limit * 1000:.2f} ms"
                sys.stderr.write(f"INIT_REPORT {took}\tPhase: init\tStatus: timeout\n")
                raise ContainerDied("Runtime.InitTimeout: the handler's import took too long")
            worker.receive(ours)
        except BaseException:
            self._end()
            raise

    def _answers_within(self, seconds: float) -> bool:
        """Whether the container says something within `seconds`. By `poll`, not
        `select`, which fails on a descriptor past 1023, as a server holding many
        connections hands out."""
        return bool(self._answered.poll(max(seconds, 0.0) * 1000))

    def invoke(self, event: Any, request_id: str) -> Any:
        """The handler's result; HandlerError if it raised, OutOfMemory if it went
        past its MemorySize, ContainerDied if the process ended or was stopped at
        the function's Timeout (after either of the last two, it is gone)."""
        started = time.perf_counter()
        if self.reports:
            worker.log_start(self.function, request_id)
        try:
            worker.send(self._channel, {"event": event, "request_id": request_id})
            self._watch(request_id, started)
            answer = worker.receive(self._channel)
            if self.reports:
                answer = self._report(request_id, answer)
        except (EOFError, OSError):
            self._end()
            code = self.process.returncode
            message = f"Error: Runtime exited with error: exit status {code}"
            if code is not None and code < 0:
                message = f"Error: Runtime exited with error: signal: {signal.Signals(-code).name}"
            self._reported(request_id, started, message, "error", "Runtime.ExitError")
            raise ContainerDied(f"Runtime.ExitError: the process exited ({code})") from None
        if answer.get("ended"):
            self._end()
            raise worker.OutOfMemory(answer["error"])
        if "error" in answer:
            raise worker.HandlerError(answer["error"], answer.get("payload"))
        return answer["result"]

    def _report(self, request_id: str, answer: dict[str, Any]) -> dict[str, Any]:
        """Lambda's END and REPORT lines for an invocation that answered; the
        answer, or an out-of-memory one when it went past its MemorySize."""
        peak = self._peak_mb()
        status, error_type = "success", None
        if "error" in answer:
            status = "error"
            kind = answer["error"].partition(":")[0]
            error_type = kind if kind.startswith("Runtime.") else None
        past = peak > self.function.memory_mb
        if past:
            status, error_type = "error", "Runtime.OutOfMemory"
            worker.log_error(self.function, request_id, worker.KILLED)
        took, init = answer["duration_ms"], answer.get("init_ms")
        worker.log_end(self.function, request_id, took, peak, init, status, error_type)
        if past:
            return {"error": f"Runtime.OutOfMemory: {worker.KILLED}", "ended": True}
        return answer

    def _watch(self, request_id: str, started: float) -> None:
        """Waits for the answer, within the function's Timeout and MemorySize: the
        process's peak resident memory is looked at, so that what went past and
        came back down between two looks is seen too."""
        deadline = started + self.function.timeout_s
        self._peak_mb()  # what its REPORT says if it exits before it answers
        while not self._answers_within(min(deadline - time.perf_counter(), MEMORY_WATCH_S)):
            if self._peak_mb() > self.function.memory_mb:
                self._out_of_memory(request_id, started)
            if time.perf_counter() >= deadline:
                self._timed_out(request_id, started)

    def _peak_mb(self) -> int:
        """The process's peak resident memory so far, kept for when it is gone."""
        self._peak = max(self._peak, worker.max_memory_used_mb(self.process.pid))
        return self._peak

    def _out_of_memory(self, request_id: str, started: float) -> None:
        self._end()
        self._peak = max(self._peak, self.function.memory_mb)  # what Lambda reports of a kill
        self._reported(request_id, started, worker.KILLED, "error", "Runtime.OutOfMemory")
        raise worker.OutOfMemory(f"Runtime.OutOfMemory: {worker.KILLED}")

    def _timed_out(self, request_id: str, started: float) -> None:
        timeout = self.function.timeout_s
        self._end()
        said = f"Task timed out after {timeout:.2f} seconds"
        self._reported(request_id, started, said, "timeout", None)
        raise ContainerDied(f"Sandbox.Timedout: Task timed out after {timeout:.2f} seconds")

    def _reported(
        self, request_id: str, started: float, said: str, status: str, error_type: str | None
    ) -> None:
        """Lambda's lines for an invocation its container did not live through:
        what ended it, then its REPORT (the container wrote its START)."""
        worker.log_error(self.function, request_id, said)
        took = (time.perf_counter() - started) * 1000
        worker.log_end(
            self.function, request_id, took, self._peak, status=status, error_type=error_type
        )

    def _end(self) -> int:
        """Kills the process; its peak resident memory, in MB (0 if unknown)."""
        self._channel.close()
        if self.process.returncode is None and self.process.poll() is None:
            self._peak_mb()
            self.process.kill()
        self.process.wait()
        return self._peak

    @property
    def ended(self) -> bool:
        return self._channel.fileno() == -1

    def close(self) -> None:
        if self.ended:
            return
        self._channel.close()  # the container's loop ends with its socket
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Containers:
    """A function's containers, started as invocations need them, at most `limit`."""

    def __init__(
        self,
        python: str,
        target: RouteTarget,
        environment: Mapping[str, str],
        hosts: Mapping[str, hostnames.Address],
        limit: int,
        language: str = "python",
        runtime_packages: Path | None = None,
    ) -> None:
        self.python = python
        self.language = language
        self.runtime_packages = runtime_packages
        self.target = target
        self.environment = environment
        self.hosts = hosts
        self.limit = limit
        self._idle: list[Container] = []
        self._generation = 0
        """Bumped by `renew`: containers of an earlier one are not reused."""
        self._of_generation: dict[Container, int] = {}
        self._started = 0
        self._closed = False
        self._turn = threading.Condition()

    def invoke(self, event: Any, request_id: str) -> Any:
        """Runs one invocation in an idle container, or a new one (blocking)."""
        container = self._take()
        healthy = False
        try:
            result = container.invoke(event, request_id)
            healthy = True
            return result
        except worker.OutOfMemory:
            raise
        except worker.HandlerError:
            healthy = True
            raise
        finally:
            self._give_back(container, healthy)

    def _take(self) -> Container:
        with self._turn:
            while not self._idle and self._started >= self.limit and not self._closed:
                self._turn.wait()
            if self._closed:
                raise ContainerDied("papo serve is stopping")
            if self._idle:
                return self._idle.pop()
            self._started += 1
            generation = self._generation
        try:
            container = Container(
                self.python,
                self.target,
                self.environment,
                self.hosts,
                self.language,
                self.runtime_packages,
            )
        except BaseException:
            with self._turn:
                self._started -= 1
                self._turn.notify()
            raise
        with self._turn:
            self._of_generation[container] = generation
        return container

    def _give_back(self, container: Container, healthy: bool) -> None:
        with self._turn:
            current = self._of_generation.get(container) == self._generation
            if healthy and current and not self._closed:
                self._idle.append(container)
                self._turn.notify()
                return
            self._started -= 1
            self._of_generation.pop(container, None)
            self._turn.notify()
        container.close()

    def renew(self) -> None:
        """`papo serve --reload`: the invocations that follow run in new containers,
        which import the function's code anew; those running end as they are, then go."""
        with self._turn:
            self._generation += 1
            idle, self._idle = self._idle, []
            self._started -= len(idle)
            for container in idle:
                self._of_generation.pop(container, None)
            self._turn.notify_all()
        for container in idle:
            container.close()

    def close(self) -> None:
        with self._turn:
            self._closed = True
            idle, self._idle = self._idle, []
            self._turn.notify_all()
        for container in idle:
            container.close()
