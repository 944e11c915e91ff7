"""A stage's throttling, as API Gateway applies it (docs/promises.md: "Stage
throttling"): token buckets.

A bucket holds at most `burst` tokens and gains `rate` a second; each request
takes one, and a request that finds none is refused: a handshake with 429, a
message with an error frame, `Too Many Requests`, and is not routed. As API
Gateway's documentation describes its stage limits (REST's "default
per-method limits", WebSocket's "default route throttling limits"), the
stage's `DefaultRouteSettings` are each route's limits, `RouteSettings` a
route's own: every route, `$connect` included, has a bucket of its own. A
message that matches no route is left to the account's limits, which papo
does not count. Buckets are used from the event loop's thread only.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from papo.local.config import Throttle, Throttling

TOO_MANY_REQUESTS = "Too Many Requests"
"""The error frame's message for a throttled message: the wording of API Gateway's
documented 429, inferred for WebSocket frames."""


class TokenBucket:
    def __init__(self, throttle: Throttle, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity, self.rate = throttle.limits
        self.tokens = float(self.capacity)
        self._clock = clock
        self._updated = clock()

    def take(self) -> bool:
        """Takes a token, if there is one."""
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Throttles:
    """The buckets of a stage's routes, each made on its route's first request."""

    def __init__(self, throttling: Throttling, clock: Callable[[], float] = time.monotonic) -> None:
        self._throttling = throttling
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def allow(self, route: str | None) -> bool:
        """Whether a request for `route` (None: one that matches none) may go on."""
        if route is None:
            return True
        bucket = self._buckets.get(route)
        if bucket is None:
            throttle = self._throttling.routes.get(route) or self._throttling.stage
            if throttle is None:
                return True
            bucket = self._buckets[route] = TokenBucket(throttle, self._clock)
        return bucket.take()
