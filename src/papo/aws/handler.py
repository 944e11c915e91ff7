"""papo's one Lambda handler: the route table of the WebSocket API.

API Gateway picks the route by `$request.body.action`; each route below is
a short function over the chat core. The event is parsed once, at the edge,
into a typed `WebSocketEvent`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from papo.aws import wiring
from papo.aws.event import WebSocketEvent
from papo.chat import Chat
from papo.settings import Settings
from papo.texts import Texts

logger = Logger(service="papo")

Route = Callable[[Chat, WebSocketEvent], None]
ROUTES: dict[str, Route] = {}


def route(key: str) -> Callable[[Route], Route]:
    def register(function: Route) -> Route:
        ROUTES[key] = function
        return function

    return register


@route("$connect")
def connect(chat: Chat, event: WebSocketEvent) -> None:
    chat.connect(event.request_context.connection_id)


@route("$disconnect")
def disconnect(chat: Chat, event: WebSocketEvent) -> None:
    chat.disconnect(event.request_context.connection_id)


@route("setName")
def set_name(chat: Chat, event: WebSocketEvent) -> None:
    chat.set_name(event.request_context.connection_id, event.decoded_body)


@route("sendPublic")
def send_public(chat: Chat, event: WebSocketEvent) -> None:
    chat.send_public(event.request_context.connection_id, event.decoded_body)


@route("sendPrivate")
def send_private(chat: Chat, event: WebSocketEvent) -> None:
    chat.send_private(event.request_context.connection_id, event.decoded_body)


@route("sendBot")
def send_bot(chat: Chat, event: WebSocketEvent) -> None:
    chat.send_bot(event.request_context.connection_id, event.decoded_body)


@route("$default")
def default(chat: Chat, event: WebSocketEvent) -> None:
    chat.default(event.request_context.connection_id, event.decoded_body)


def _chat(settings: Settings, event: WebSocketEvent) -> Chat:
    context = event.request_context
    url = wiring.endpoint_url(settings, context.domain_name, context.stage)
    return Chat(
        store=wiring.store(settings),
        delivery=wiring.delivery(settings, url),
        texts=Texts(settings.language),
        limits=settings.limits,
    )


def handler(event: dict[str, Any], _context: object) -> dict[str, Any]:
    ws = WebSocketEvent.parse(event)
    request = ws.request_context
    # Thread-local keys: the emulator runs invocations in threads of one process.
    logger.thread_safe_append_keys(
        route=request.route_key,
        connection_id=request.connection_id,
        request_id=request.request_id,
    )
    started = time.perf_counter()
    try:
        ROUTES.get(request.route_key, default)(_chat(Settings.from_env(), ws), ws)
    except Exception:
        logger.exception("route failed")
        raise
    logger.info(
        "route done", extra={"duration_ms": round((time.perf_counter() - started) * 1e3, 2)}
    )
    return {"statusCode": 200}
