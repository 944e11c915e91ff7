"""Where each function of an API runs: in the server's threads, or in processes
of its own (`papo.local.containers`), and why; the invoker places them so, and
the banner says so.

A thread cannot be stopped, so a function runs in processes of its own
wherever it must be: with `--workers N`, every function; in threads mode,
one whose Timeout is shorter than the API's integration timeout (API Gateway
would still be waiting when Lambda stops it), one whose template names
another Python than papo serve's, or Node.js (`papo.local.nodejs`), and one
whose variables contradict another function's (two functions, one variable,
two values: the process holds one environment). The rest run in threads.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from papo.local.config import ApiConfig, RouteTarget
from papo.local.runtime import Interpreter, interpreter


class Apart(enum.Enum):
    """Why a function runs in processes of its own."""

    WORKERS = "--workers"
    PYTHON = "another Python"
    NODE = "Node.js"
    TIMEOUT = "its Timeout"
    ENVIRONMENT = "its Environment"


@dataclass(frozen=True)
class Placement:
    interpreters: Mapping[str, Interpreter]
    """Each function's Python, by function name."""
    apart: Mapping[str, Apart]
    """The functions that run in processes of their own, and why."""
    shared_in_threads: Mapping[str, str]
    """The environment the server's process holds for the functions in its threads."""


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


def placement(config: ApiConfig) -> Placement:
    functions = {target.function_name: target for target in config.functions}
    interpreters = {name: interpreter(target.runtime) for name, target in functions.items()}
    apart = {
        name: Apart.NODE if found.language == "node" else Apart.PYTHON
        for name, found in interpreters.items()
        if found.foreign
    }
    if config.workers > 0:
        return Placement(interpreters, {name: Apart.WORKERS for name in functions}, {})
    integration = config.limits.integration_timeout_s
    for name, target in functions.items():
        if name not in apart and target.timeout_s < integration:
            apart[name] = Apart.TIMEOUT
    in_threads = [target for name, target in functions.items() if name not in apart]
    shared, contradicting = one_environment(in_threads)
    apart.update(dict.fromkeys(contradicting, Apart.ENVIRONMENT))
    return Placement(interpreters, apart, shared)
