"""`papo serve`'s options, and the emulator they make.

The options are plain values; nothing of them travels through the environment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papo.local.config import (
    LAMBDA_MEMORY_MB,
    LAMBDA_TIMEOUT_S,
    PAPO_HANDLER,
    ApiConfig,
    Authorizer,
    Limits,
    MockTarget,
    RouteTarget,
    Throttle,
)
from papo.local.faults import Faults
from papo.local.runtime import refusal
from papo.local.server import Emulator
from papo.local.signatures import beyond_loopback
from papo.local.template import api_config
from papo.local.web import PageOidc

PAPOS_MOCKS: Mapping[str, MockTarget] = {"ping": MockTarget(response='{"type": "pong"}')}
"""papo's routes API Gateway answers itself, each with a route response, as papo's
SAM template declares them: the web client's heartbeat, which keeps an idle
connection open at no Lambda invocation's cost. Over papo's handler's own route
of the same key, which serves deployments without them."""


def serves_papos_own(handler: str, template: Path | str | None) -> bool:
    """Whether papo serve runs papo's own handler on papo's own routes: no
    template, and `--handler` left at papo's."""
    return not template and handler == PAPO_HANDLER


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    stage: str | None = None
    """None: the template's stage (the `StageName` of its API's one stage), else `dev`."""
    handler: str = PAPO_HANDLER
    timeout_s: float | None = None
    """The handler's Timeout; None: papo's template's for papo's own, else Lambda's 3 s."""
    memory_mb: int | None = None
    """The handler's MemorySize; None: papo's template's for papo's own, else Lambda's 128."""
    runtime: str | None = None
    """The handler's Runtime (`nodejs20.x`, `python3.12`); None: papo serve's own Python."""
    routes: tuple[str, ...] = ()
    """Empty: `$default` alone."""
    route_responses: frozenset[str] = frozenset()
    route_selection_expression: str = "$request.body.action"
    template: Path | None = None
    api_id: str | None = None
    """None: the template's (its API's `Metadata: papo: ApiId`), else `papolocal0`."""
    region: str = "us-east-1"
    limits: Limits = field(default_factory=Limits)
    workers: int = 0
    tls_port: int | None = 8443
    web_port: int | None = None
    web_dir: Path | None = None
    web_oidc: PageOidc | None = None
    """The OpenID Connect issuer the web client signs in with."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """For handlers, over Lambda's own variables."""
    authorizer: str | None = None
    """`$connect`'s REQUEST authorizer, MODULE:FUNCTION, over a template's."""
    identity_sources: tuple[str, ...] = ()
    """The authorizer's, like `route.request.querystring.token`."""
    throttle_burst: int | None = None
    throttle_rate: float | None = None
    """The stage's throttling, over a template's `DefaultRouteSettings`."""
    require_signatures: bool = False
    """Signatures on the Management and Lambda APIs even on loopback (beyond it, always)."""

    @property
    def signatures_required(self) -> bool:
        return self.require_signatures or beyond_loopback(self.host)

    parameters: Mapping[str, str] = field(default_factory=dict)
    """The template's parameters, over their defaults."""
    code: Mapping[str, Path] = field(default_factory=dict)
    """Functions' code (a folder or a zip), by logical id or FunctionName, over their CodeUri."""
    faults: Faults | None = None
    """The share of `@connections` calls answered 410, 429 or 500."""
    account_throttle: Throttle | None = None
    """The account's limits on `@connections` calls; None: not throttled."""

    @property
    def papos_own(self) -> bool:
        return serves_papos_own(self.handler, self.template)

    def api_config(self) -> ApiConfig:
        """The API to emulate; OSError or ValueError (TemplateError) when it cannot be."""
        config = self._trust(self._api_config())
        refused = refusal(config.functions)
        if refused is not None:
            raise ValueError(refused)
        return config

    def _api_config(self) -> ApiConfig:
        common = {
            **({"stage": self.stage} if self.stage else {}),
            "limits": self.limits,
            "workers": self.workers,
            "region": self.region,
        }
        if self.template is not None:
            return api_config(
                self.template,
                api_id=self.api_id,
                parameters=self.parameters,
                code=self.code,
                **common,
            )
        routes = self.routes or ("$default",)
        mocks = PAPOS_MOCKS if self.papos_own else {}
        return ApiConfig.for_handler(
            self._handler_target(),
            tuple(route for route in routes if route not in mocks),
            mocks=mocks,
            route_responses=self.route_responses | frozenset(mocks),
            route_selection_expression=self.route_selection_expression,
            **({"api_id": self.api_id} if self.api_id else {}),
            **common,
        )

    def _handler_target(self) -> RouteTarget:
        """The `--handler` function: its Timeout and MemorySize as given, else papo's
        own template's for papo's handler and Lambda's defaults for any other."""
        given: dict[str, Any] = {}
        if not self.papos_own:
            given = {"timeout_s": LAMBDA_TIMEOUT_S, "memory_mb": LAMBDA_MEMORY_MB}
        if self.timeout_s is not None:
            given["timeout_s"] = self.timeout_s
        if self.memory_mb is not None:
            given["memory_mb"] = self.memory_mb
        if self.runtime is not None:
            given["runtime"] = self.runtime
        return RouteTarget.of(self.handler, **given)

    def _trust(self, config: ApiConfig) -> ApiConfig:
        """`config` with the authorizer and the stage throttling these options set."""
        if self.authorizer is not None:
            authorizer = Authorizer(RouteTarget(self.authorizer), self.identity_sources)
            config = dataclasses.replace(config, authorizer=authorizer)
        if self.throttle_burst is not None or self.throttle_rate is not None:
            given = Throttle(self.throttle_burst, self.throttle_rate)
            stage = given.over(config.throttling.stage or Throttle())
            throttling = dataclasses.replace(config.throttling, stage=stage)
            config = dataclasses.replace(config, throttling=throttling)
        return config

    def emulator(self, config: ApiConfig | None = None) -> Emulator:
        return Emulator(
            config or self.api_config(),
            host=self.host,
            port=self.port,
            environment=self.environment,
            tls_port=self.tls_port,
            web_port=self.web_port,
            web_dir=self.web_dir,
            web_oidc=self.web_oidc,
            require_signatures=self.signatures_required,
            faults=self.faults,
            account_throttle=self.account_throttle,
        )
