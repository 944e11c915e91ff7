"""What an emulated WebSocket API is: its routes, their integrations, its limits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from papo.local.handler_reference import HandlerReference

PAPO_HANDLER = "papo.aws.handler:handler"
"""papo's own handler; its routes are its `ROUTE_KEYS`, which `papo serve` names."""

PAPOS_AUTHORIZER = "papo.aws.authorizer:handler"
"""papo's authorizer, which `papo serve` puts before papo's `$connect` when PAPO_AUTH is on."""
PAPOS_IDENTITY_SOURCE = "route.request.querystring.token"
"""Where papo's authorizer finds its token: `?token=` on the handshake."""


def is_papos_handler(handler: str) -> bool:
    """Whether `handler` names papo's own, in either spelling (`papo.aws.handler.handler`)."""
    try:
        return HandlerReference.parse(handler) == HandlerReference.parse(PAPO_HANDLER)
    except ValueError:
        return False


PAPOS_TIMEOUT_S = 300.0
PAPOS_MEMORY_MB = 512
"""papo's own function's Timeout and MemorySize, as its SAM template declares them."""

LAMBDA_TIMEOUT_S = 3.0
LAMBDA_MEMORY_MB = 128
"""Lambda's defaults, for a function that declares no Timeout or MemorySize."""

ACCOUNT_ID = "000000000000"
"""The AWS account the emulated API belongs to, as ARNs name it."""


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
    """The function's `Timeout`: past it, an invocation is stopped where it runs in
    a process of its own (`papo.local.invoker`)."""
    memory_mb: int = 128
    """The function's `MemorySize`, kept where it runs in a process of its own."""
    log_format: str = "Text"
    """`LoggingConfig: LogFormat`: `Text`, or `JSON` (Lambda's lines as JSON events)."""
    runtime: str | None = None
    """The Lambda runtime its template names (`python3.12`, `nodejs20.x`); None: papo
    serve's own Python."""

    @classmethod
    def of(cls, handler: str, **fields: Any) -> RouteTarget:
        """`handler`'s function, papo's own with its template's Timeout and MemorySize."""
        if is_papos_handler(handler):
            fields = {"timeout_s": PAPOS_TIMEOUT_S, "memory_mb": PAPOS_MEMORY_MB, **fields}
        return cls(handler, **fields)

    @property
    def function_name(self) -> str:
        return self.name or self.handler.partition(":")[0].replace(".", "-")


@dataclass(frozen=True)
class MockTarget:
    """A route's MOCK integration: API Gateway answers it itself and invokes nothing.

    Its request template gives a status code (`{"statusCode": 200}`), which
    selects one of its integration responses; that response's template is
    what a route response sends back to the client.
    """

    status_code: int | None = 200
    """None: the request template gives no integer `statusCode`, which API Gateway
    reports as a configuration error (a 500 handshake on `$connect`, `Internal
    server error` on a message)."""
    response: str | None = None
    """The selected integration response's template (`$context` variables are
    filled in as it is sent); None: no integration response, or one without a
    template, so there is nothing to send."""


IDENTITY_SOURCE = re.compile(r"route\.request\.(header|querystring)\.(.+)")


@dataclass(frozen=True)
class Authorizer:
    """A `REQUEST` authorizer on `$connect`: the function that decides the handshake,
    and where the identity it needs comes from (`route.request.querystring.token`,
    `route.request.header.Auth`)."""

    target: RouteTarget
    identity_sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for source in self.identity_sources:
            if IDENTITY_SOURCE.fullmatch(source) is None:
                raise ValueError(
                    f"identity source {source!r}: papo serve reads "
                    "route.request.header.NAME and route.request.querystring.NAME"
                )

    @classmethod
    def papos(cls) -> Authorizer:
        """papo's own authorizer, its token from `?token=`."""
        return cls(RouteTarget(PAPOS_AUTHORIZER), (PAPOS_IDENTITY_SOURCE,))


@dataclass(frozen=True)
class Throttle:
    """A token bucket's limits: `burst` requests at once, `rate` a second after.

    API Gateway takes an unset one from the account's own limits, as here."""

    burst: int | None = None
    rate: float | None = None

    ACCOUNT_BURST = 5000
    ACCOUNT_RATE = 10000.0

    def __post_init__(self) -> None:
        if (self.burst is not None and self.burst < 0) or (self.rate is not None and self.rate < 0):
            raise ValueError("throttling limits are numbers of requests, 0 or more")

    def over(self, base: Throttle) -> Throttle:
        """These limits, each unset one taken from `base` (a route's over its
        stage's, as API Gateway reads `RouteSettings`)."""
        return Throttle(
            base.burst if self.burst is None else self.burst,
            base.rate if self.rate is None else self.rate,
        )

    @property
    def limits(self) -> tuple[int, float]:
        burst = self.ACCOUNT_BURST if self.burst is None else self.burst
        return burst, self.ACCOUNT_RATE if self.rate is None else self.rate

    def __str__(self) -> str:
        burst, rate = self.limits
        return f"burst {burst}, rate {rate:g}/s"


@dataclass(frozen=True)
class Throttling:
    """A stage's throttling: each route's limits (`DefaultRouteSettings`), and
    those of routes with their own (`RouteSettings`)."""

    stage: Throttle | None = None
    routes: Mapping[str, Throttle] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.stage is not None or bool(self.routes)


@dataclass(frozen=True)
class ApiConfig:
    routes: Mapping[str, RouteTarget]
    """The routes integrated with a Lambda function."""
    route_selection_expression: str = "$request.body.action"
    stage: str = "dev"
    api_id: str = "papolocal0"
    """The API's id, as events carry it (`requestContext.apiId`) and as its AWS
    address names it: `{api_id}.execute-api.{region}.amazonaws.com`."""
    region: str = "us-east-1"
    limits: Limits = field(default_factory=Limits)
    workers: int = 0
    """0 runs handlers in threads of the server's process (those that must be stopped
    in processes of their own); N > 0, each function in up to N processes of its own."""
    route_responses: frozenset[str] = frozenset()
    """Routes with a route response (two-way): the `body` their handler returns, or
    their MOCK integration's response, is sent back to the client. Other routes send
    nothing back, whatever they return."""
    mocks: Mapping[str, MockTarget] = field(default_factory=dict)
    """The routes API Gateway answers itself (MOCK integrations); none is in `routes`."""
    authorizer: Authorizer | None = None
    """`$connect`'s authorizer, run before it."""
    throttling: Throttling = field(default_factory=Throttling)

    def __post_init__(self) -> None:
        check_api_id(self.api_id)
        both = set(self.routes) & set(self.mocks)
        if both:
            raise ValueError(f"a route has one integration: {sorted(both)} have two")
        if not re.fullmatch(r"[a-z0-9-]+", self.region):
            raise ValueError(f"not a region: {self.region!r}")

    @classmethod
    def for_handler(
        cls, handler: str | RouteTarget, routes: tuple[str, ...], **options: object
    ) -> ApiConfig:
        """The API whose `routes` all invoke one function: `handler`, or a function
        of that handler as its template would declare it (papo's own with its
        Timeout and MemorySize, any other with `RouteTarget`'s)."""
        target = RouteTarget.of(handler) if isinstance(handler, str) else handler
        return cls(routes={route: target for route in routes}, **options)  # type: ignore[arg-type]

    @property
    def functions(self) -> list[RouteTarget]:
        """Every function the API invokes: its routes', and its authorizer's."""
        found = list(self.routes.values())
        if self.authorizer is not None:
            found.append(self.authorizer.target)
        return found

    @property
    def route_keys(self) -> frozenset[str]:
        """Every route of the API, whatever its integration."""
        return frozenset(self.routes) | frozenset(self.mocks)

    def integrations(self) -> list[tuple[str, list[str]]]:
        """Each integration, as a listing of the API names it, with its routes:
        a function as `name (module:function)`, a MOCK one as what it answers."""
        grouped: dict[str, list[str]] = {}
        for key, target in sorted(self.routes.items()):
            grouped.setdefault(f"{target.function_name} ({target.handler})", []).append(key)
        for key, mock in sorted(self.mocks.items()):
            grouped.setdefault(f"MOCK ({self._mock_answer(key, mock)})", []).append(key)
        if self.authorizer is not None:
            target = self.authorizer.target
            name = f"{target.function_name} ({target.handler})"
            grouped.setdefault(name, []).append("authorizer of $connect")
        return list(grouped.items())

    def _mock_answer(self, key: str, mock: MockTarget) -> str:
        status = mock.status_code
        if status is None:
            return "no statusCode in its request template: a configuration error"
        if key == "$connect":
            return "accepts" if 200 <= status < 300 else f"refuses with {status}"
        if key in self.route_responses and mock.response is not None:
            return f"answers {mock.response}"
        return "answers nothing"

    def selection_path(self) -> tuple[str, ...]:
        """`$request.body.action` → ("action",): the path into the JSON body."""
        prefix = "$request.body."
        expression = self.route_selection_expression
        if not expression.startswith(prefix):
            raise ValueError(f"unsupported route selection expression {expression!r}")
        return tuple(expression[len(prefix) :].split("."))


def check_api_id(api_id: str) -> str:
    """An API id is a host name's first label: lowercase letters and digits, as
    API Gateway's own (`a1b2c3d4e5`)."""
    if not re.fullmatch(r"[a-z0-9]{1,63}", api_id):
        raise ValueError(
            f"an API id has lowercase letters and digits only, like a1b2c3d4e5, not {api_id!r}"
        )
    return api_id
