"""Serving papo's web client: the built React app (`web/dist`), and a
`config.json` that tells it where the WebSocket API is.

It has a port of its own, so that the emulated API answers exactly what API
Gateway would, and a page served from elsewhere works the same.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

WEB_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
"""Where `make web` builds the client, in a checkout of papo."""


def web_app(directory: Path, websocket_url: str) -> Starlette:
    async def config(_: Request) -> Response:
        return JSONResponse({"websocketUrl": websocket_url})

    return Starlette(
        routes=[
            Route("/config.json", config),
            Mount("/", StaticFiles(directory=directory, html=True)),
        ]
    )
