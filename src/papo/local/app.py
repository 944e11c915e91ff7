"""The emulator as an ASGI app built from `PAPO_*` environment variables.

`papo serve` writes its options into the environment and serves
`papo.local.app:create_app`, so that uvicorn's reloader can build the
same app again in a fresh process after a code change.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from papo.local.config import PAPO_HANDLER, PAPO_ROUTES, ApiConfig, Limits
from papo.local.server import Emulator
from papo.local.template import api_config


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    return default if not raw else float(raw)


def config_from_env(environ: Mapping[str, str] = os.environ) -> ApiConfig:
    defaults = Limits()
    limits = Limits(
        max_message_bytes=int(environ.get("PAPO_MAX_MESSAGE_BYTES") or defaults.max_message_bytes),
        max_frame_bytes=int(environ.get("PAPO_MAX_FRAME_BYTES") or defaults.max_frame_bytes),
        idle_timeout_s=_seconds(environ, "PAPO_IDLE_TIMEOUT", defaults.idle_timeout_s),
        max_connection_duration_s=_seconds(
            environ, "PAPO_MAX_CONNECTION_DURATION", defaults.max_connection_duration_s
        ),
        integration_timeout_s=_seconds(
            environ, "PAPO_INTEGRATION_TIMEOUT", defaults.integration_timeout_s
        ),
    )
    options: dict[str, Any] = {
        "stage": environ.get("PAPO_STAGE") or "dev",
        "limits": limits,
        "workers": int(environ.get("PAPO_WORKERS") or 0),
    }
    template = environ.get("PAPO_TEMPLATE")
    if template:
        return api_config(Path(template), **options)
    responses = environ.get("PAPO_ROUTE_RESPONSES")
    if responses:
        options["route_responses"] = frozenset(r for r in responses.split(",") if r)
    handler = environ.get("PAPO_HANDLER") or PAPO_HANDLER
    routes = tuple(r for r in (environ.get("PAPO_ROUTES") or "").split(",") if r)
    if not routes:
        routes = PAPO_ROUTES if handler == PAPO_HANDLER else ("$default",)
    return ApiConfig.for_handler(
        handler,
        routes,
        route_selection_expression=environ.get("PAPO_ROUTE_SELECTION_EXPRESSION")
        or "$request.body.action",
        **options,
    )


def create_app() -> Starlette:
    emulator = Emulator(
        config_from_env(),
        host=os.environ.get("PAPO_HOST") or "127.0.0.1",
        port=int(os.environ.get("PAPO_PORT") or 8000),
    )
    return emulator.app
