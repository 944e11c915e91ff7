"""What an emulated WebSocket API is: its routes, their handlers, its limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PAPO_HANDLER = "papo.aws.handler:handler"
PAPO_ROUTES = (
    "$connect",
    "$disconnect",
    "$default",
    "setName",
    "sendPublic",
    "sendPrivate",
    "sendBot",
)


@dataclass(frozen=True)
class Limits:
    """API Gateway's quotas, in bytes and seconds; each may be set smaller for tests."""

    max_message_bytes: int = 128 * 1024
    max_frame_bytes: int = 32 * 1024
    idle_timeout_s: float = 10 * 60
    max_connection_duration_s: float = 2 * 60 * 60
    integration_timeout_s: float = 29.0


@dataclass(frozen=True)
class RouteTarget:
    """A route's Lambda integration: `module:function`, and the environment it runs with."""

    handler: str
    code_dir: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    name: str = ""
    """The function's name (a template's logical id); else one made from `handler`."""
    timeout_s: float = 900.0
    """The function's own timeout, as its context reports it (not enforced)."""

    @property
    def function_name(self) -> str:
        return self.name or self.handler.partition(":")[0].replace(".", "-")


@dataclass(frozen=True)
class ApiConfig:
    routes: Mapping[str, RouteTarget]
    route_selection_expression: str = "$request.body.action"
    stage: str = "dev"
    api_id: str = "papolocal0"
    limits: Limits = field(default_factory=Limits)
    workers: int = 0
    """0 runs handlers in threads of the server's process; N > 0, in N worker processes."""
    route_responses: frozenset[str] = frozenset()
    """Routes with a route response (two-way): the `body` their handler returns is sent
    back to the client. Other routes send nothing back, whatever they return."""

    @classmethod
    def for_handler(cls, handler: str, routes: tuple[str, ...], **options: object) -> ApiConfig:
        target = RouteTarget(handler)
        return cls(routes={route: target for route in routes}, **options)  # type: ignore[arg-type]

    def selection_path(self) -> tuple[str, ...]:
        """`$request.body.action` → ("action",): the path into the JSON body."""
        prefix = "$request.body."
        expression = self.route_selection_expression
        if not expression.startswith(prefix):
            raise ValueError(f"unsupported route selection expression {expression!r}")
        return tuple(expression[len(prefix) :].split("."))
