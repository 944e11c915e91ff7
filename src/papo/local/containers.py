"""Containers for functions whose template names another Python than papo serve's.

A function with `Runtime: python3.12`, served by papo serve running on 3.11,
runs in processes of that Python (`papo.local.worker`), one invocation at a
time each, as Lambda's containers: an idle one takes the next invocation,
else a new one starts, up to a limit, and waits for its turn beyond it.
They share nothing with papo serve's process but the environment Lambda
would give the function: what the function imports comes from its code
folder and that Python's own packages.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from papo.local import hostnames, worker
from papo.local.config import RouteTarget

LEFT_OUT = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
"""papo serve's own interpreter settings, which would mislead another Python."""


class ContainerDied(Exception):
    """The container's process ended during an invocation."""


class Container:
    """One process of the function's Python, serving one invocation at a time."""

    def __init__(
        self,
        python: str,
        target: RouteTarget,
        environment: Mapping[str, str],
        hosts: Mapping[str, hostnames.Address],
    ) -> None:
        ours, theirs = socket.socketpair()
        self._channel = ours
        env = dict(environment)
        for name in LEFT_OUT:
            env.pop(name, None)
        with theirs:
            self.process = subprocess.Popen(  # noqa: S603 - the function's own Python
                [python, "-c", worker.BOOTSTRAP, worker.__file__, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                env=env,
            )
        worker.send(
            ours,
            {
                "code_dir": str(Path(target.code_dir or os.getcwd()).resolve()),
                "handler": target.handler,
                "function_name": target.function_name,
                "hosts": dict(hosts),
                "hostnames": hostnames.__file__,
            },
        )

    def invoke(self, event: Any, request_id: str, timeout_s: float) -> Any:
        """The handler's result; HandlerError if it raised, ContainerDied if the process ended."""
        try:
            worker.send(
                self._channel, {"event": event, "request_id": request_id, "timeout_s": timeout_s}
            )
            answer = worker.receive(self._channel)
        except (EOFError, OSError):
            code = self.process.poll()
            raise ContainerDied(f"Runtime.ExitError: the process exited ({code})") from None
        if "error" in answer:
            raise worker.HandlerError(answer["error"])
        return answer["result"]

    def close(self) -> None:
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
    ) -> None:
        self.python = python
        self.target = target
        self.environment = environment
        self.hosts = hosts
        self.limit = limit
        self._idle: list[Container] = []
        self._started = 0
        self._closed = False
        self._turn = threading.Condition()

    def invoke(self, event: Any, request_id: str, timeout_s: float) -> Any:
        """Runs one invocation in an idle container, or a new one (blocking)."""
        container = self._take()
        healthy = False
        try:
            result = container.invoke(event, request_id, timeout_s)
            healthy = True
            return result
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
        try:
            return Container(self.python, self.target, self.environment, self.hosts)
        except BaseException:
            with self._turn:
                self._started -= 1
                self._turn.notify()
            raise

    def _give_back(self, container: Container, healthy: bool) -> None:
        with self._turn:
            if healthy and not self._closed:
                self._idle.append(container)
                self._turn.notify()
                return
            self._started -= 1
            self._turn.notify()
        container.close()

    def close(self) -> None:
        with self._turn:
            self._closed = True
            idle, self._idle = self._idle, []
            self._turn.notify_all()
        for container in idle:
            container.close()
