"""papo's one Lambda handler: the route table of the WebSocket API.

API Gateway picks the route by `$request.body.action`; each route below is
a short function over the chat core. The event is parsed once, at the edge,
into a typed `WebSocketEvent`. The same function also produces bot answers,
when it invokes itself with a `papoAnswer` event (see `papo.aws.answers`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from papo.aws import wiring
from papo.aws.answers import ANSWER_KEY, SelfInvokedAnswers
from papo.aws.event import AnswerEvent, WebSocketEvent
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


def _chat(settings: Settings, url: str, context: object) -> Chat:
    """The chat for one invocation. Answers go to another invocation of this
    function when it runs as a Lambda function, else are produced at once."""
    function = getattr(context, "invoked_function_arn", None)
    return Chat(
        store=wiring.store(settings),
        delivery=wiring.delivery(settings, url),
        texts=Texts(settings.language),
        limits=settings.limits,
        bot=wiring.bot(settings),
        answers=SelfInvokedAnswers(function, url) if isinstance(function, str) else None,
        bot_rules=settings.bot_rules,
    )


def _route(settings: Settings, event: dict[str, Any], context: object) -> None:
    ws = WebSocketEvent.parse(event)
    request = ws.request_context
    # Thread-local keys: the emulator runs invocations in threads of one process.
    logger.thread_safe_append_keys(
        route=request.route_key,
        connection_id=request.connection_id,
        request_id=request.request_id,
    )
    url = wiring.endpoint_url(settings, request.domain_name, request.stage)
    ROUTES.get(request.route_key, default)(_chat(settings, url, context), ws)


def _answer(settings: Settings, event: object, context: object) -> None:
    answer = AnswerEvent.parse(event)
    logger.thread_safe_append_keys(
        route=ANSWER_KEY,
        connection_id=answer.job.asker_id,
        request_id=getattr(context, "aws_request_id", None),
    )
    _chat(settings, answer.endpoint, None).answer(answer.job)


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    started = time.perf_counter()
    settings = Settings.from_env()
    try:
        if ANSWER_KEY in event:
            _answer(settings, event[ANSWER_KEY], context)
        else:
            _route(settings, event, context)
    except Exception:
        logger.exception("route failed")
        raise
    logger.info(
        "route done", extra={"duration_ms": round((time.perf_counter() - started) * 1e3, 2)}
    )
    return {"statusCode": 200}
