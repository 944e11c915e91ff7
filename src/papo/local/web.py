"""Serving papo's web client: the built React app (`web/dist`), and a
`config.json` that tells it where the WebSocket API is.

It has a port of its own, so that the emulated API answers exactly what API
Gateway would, and a page served from elsewhere works the same.

When the page signs in with OpenID Connect (`PAPO_AUTH=oidc`),
`config.json` names the issuer and the client id (`{"oidc": {"issuer": …,
"clientId": …}}`), and the page goes through the authorization code flow with
PKCE itself.

Where the API listens on every address (`--host 0.0.0.0` or `::`), no page
could connect to `ws://0.0.0.0:…`: `config.json` and the policy name the host
the page was loaded from (its `Host` header), with the API's port.

Every response carries a Content-Security-Policy that allows the page what it
needs and nothing else: its own scripts and styles (no inline script), and
connections to its own origin, to the WebSocket API's, and to the issuer's
(its discovery document, and its token endpoint, which may be elsewhere).
"""

from __future__ import annotations

import json
import logging
import re
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_PACKAGED = Path(__file__).resolve().parents[1] / "web"
_CHECKOUT = Path(__file__).resolve().parents[3] / "web" / "dist"
WEB_DIST = _PACKAGED if (_PACKAGED / "index.html").is_file() else _CHECKOUT
"""The built client: inside papo's wheel (`papo/web`), else where `make web` builds
it in a checkout of papo."""


logger = logging.getLogger(__name__)

_DISCOVERY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class PageOidc:
    """The OpenID Connect issuer the page signs in with, and its client id there
    (a public client: the authorization code flow with PKCE, no secret)."""

    issuer: str
    client_id: str

    def config(self) -> dict[str, str]:
        return {"issuer": self.issuer, "clientId": self.client_id}

    def origins(self) -> list[str]:
        """Where the page fetches from: the issuer's origin, and its token
        endpoint's (Amazon Cognito's, say, is on another host), from the issuer's
        discovery document; the issuer's alone when that cannot be read."""
        found = [_origin(self.issuer)]
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            with urllib.request.urlopen(url, timeout=_DISCOVERY_TIMEOUT_S) as answer:  # noqa: S310 - the issuer's http(s) URL
                discovery = json.load(answer)
            token_endpoint = discovery.get("token_endpoint")
            if isinstance(token_endpoint, str) and token_endpoint.startswith(("http:", "https:")):
                found.append(_origin(token_endpoint))
        except (OSError, ValueError, AttributeError) as error:
            logger.warning(
                "could not read %s (%s): the page may fetch from %s only", url, error, found[0]
            )
        return list(dict.fromkeys(found))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


_EVERY_ADDRESS = frozenset(("0.0.0.0", "::"))  # noqa: S104 - what is listened on, not bound
_HOST = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?")


def page_websocket_url(websocket_url: str, host_header: str | None) -> str:
    """The WebSocket API's address for a page loaded through `host_header`:
    `websocket_url`, unless that names every address (0.0.0.0, ::), which no
    browser connects to; then the page's own host, with the API's port."""
    parts = urlsplit(websocket_url)
    if parts.hostname not in _EVERY_ADDRESS or not host_header:
        return websocket_url
    found = _HOST.fullmatch(host_header.strip())
    if found is None:
        return websocket_url
    return urlunsplit(parts._replace(netloc=f"{found['host']}:{parts.port}"))


def content_security_policy(websocket_url: str, origins: list[str] | None = None) -> str:
    """The page's policy: `connect-src` names the WebSocket API's origin, in
    both ws: and wss:, beside the page's own (for `config.json`) and `origins`
    (an OpenID Connect issuer's). The sign-in leaves the page by navigating, which
    no directive restricts, so forms still post nowhere."""
    netloc = urlsplit(websocket_url).netloc
    connect = " ".join(["'self'", f"ws://{netloc}", f"wss://{netloc}", *(origins or [])])
    directives = {
        "default-src": "'none'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": connect,
        "manifest-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class _SecurityHeaders:
    """Adds the page's security headers to every response, made for its request."""

    def __init__(self, app: ASGIApp, headers: Callable[[str | None], dict[str, str]]) -> None:
        self.app = app
        self.headers = headers
        """The headers, for the request's `Host`."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1") or None
        added = [(k.lower().encode(), v.encode()) for k, v in self.headers(host).items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def web_app(directory: Path, websocket_url: str, oidc: PageOidc | None = None) -> Starlette:
    async def config(request: Request) -> Response:
        page_config: dict[str, object] = {
            "websocketUrl": page_websocket_url(websocket_url, request.headers.get("host"))
        }
        if oidc is not None:
            page_config["oidc"] = oidc.config()
        return JSONResponse(page_config)

    origins = oidc.origins() if oidc is not None else []

    def headers(host: str | None) -> dict[str, str]:
        return {
            "Content-Security-Policy": content_security_policy(
                page_websocket_url(websocket_url, host), origins
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }

    return Starlette(
        routes=[
            Route("/config.json", config),
            Mount("/", StaticFiles(directory=directory, html=True)),
        ],
        middleware=[Middleware(_SecurityHeaders, headers=headers)],
    )
