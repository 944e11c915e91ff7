"""A missing `$connect`, `$disconnect` or `$default` route, said once.

API Gateway needs none of the three: without `$connect` every connection is
accepted and no function hears of it, without `$disconnect` none hears that it
ended, and without `$default` a message that names no route gets `Forbidden`.
A handler written for them (AWS's own chat sample keeps its connections in
`$connect` and `$disconnect`) then sees nothing of what it expects, and says
nothing. papo serve's banner names the missing ones, and the first event that
finds no route says it again, with how to add it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection

log = logging.getLogger("papo.local")

SPECIAL = ("$connect", "$disconnect", "$default")

CONSEQUENCE = {
    "$connect": "connections are accepted without invoking a function",
    "$disconnect": "no function hears that a connection ended",
    "$default": 'a message that names no route gets {"message": "Forbidden"}',
}


def missing(route_keys: Collection[str]) -> list[str]:
    return [key for key in SPECIAL if key not in route_keys]


def how_to_add(key: str, *, template: bool) -> str:
    if template:
        return f"an AWS::ApiGatewayV2::Route with RouteKey: {key} in the template"
    return f"--route '{key}'"


class Unrouted:
    """Says, at the first event each missing route would have had, that it is missing."""

    def __init__(self, route_keys: Collection[str]) -> None:
        self._pending = set(missing(route_keys))
        self._lock = threading.Lock()

    def saw(self, key: str) -> None:
        with self._lock:
            if key not in self._pending:
                return
            self._pending.discard(key)
        log.warning(
            "no %s route: %s (add it: %s, or a Route with RouteKey %s in a template)",
            key,
            CONSEQUENCE[key],
            how_to_add(key, template=False),
            key,
        )
