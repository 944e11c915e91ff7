"""papo's one Lambda handler: the route table of the WebSocket API.

API Gateway picks the route by `$request.body.action`; `$connect` and
`$disconnect` are the connection's, and every action of the chat core's
table (`papo.core.chat.ACTIONS`) is a route of its own, served the same way
as `$default`. The event is parsed once, at the edge, into a typed
`WebSocketEvent`. The same function also produces bot answers, when it
invokes itself with a `papoAnswer` event (see `papo.aws.answers`), and posts
shares of big fan-outs, with a `papoShare` event (see `papo.aws.fanout`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from papo.aws import identity_check, logs, wiring
from papo.aws.answers import ANSWER_KEY, SelfInvokedAnswers
from papo.aws.event import AnswerEvent, WebSocketEvent
from papo.aws.fanout import SHARE_KEY, ShareEvent, deliver_share
from papo.core.chat import ACTIONS, Chat
from papo.core.clock import now_ms
from papo.core.ports import Delivery
from papo.core.rooms import InvalidRoom
from papo.core.texts import Texts
from papo.settings import Settings

if TYPE_CHECKING:
    from papo.adapters.delivery.management_api import Transport

logger = logs.setup()

Route = Callable[[Chat, WebSocketEvent], None]


def connect(chat: Chat, event: WebSocketEvent) -> None:
    query = event.query_string_parameters or {}
    request = event.request_context
    chat.connect(request.connection_id, query.get("lang"), request.identity, query.get("room"))


def disconnect(chat: Chat, event: WebSocketEvent) -> None:
    chat.disconnect(event.request_context.connection_id)


def act(chat: Chat, event: WebSocketEvent) -> None:
    """An action's own route, or `$default` (which finds the action in the body)."""
    route = event.request_context.route_key
    action = route if route in ACTIONS else None
    request = event.request_context
    chat.act(action, request.connection_id, event.decoded_body, request.identity)


ROUTES: dict[str, Route] = {
    "$connect": connect,
    "$disconnect": disconnect,
    "$default": act,
    **dict.fromkeys(ACTIONS, act),
}
ROUTE_KEYS = tuple(ROUTES)
"""The routes to declare for this handler, in API Gateway or `papo serve`."""


def _chat(
    settings: Settings, url: str, context: object, transport: Transport | None = None
) -> Chat:
    """The chat of this container for the Management API at `url`. When it runs
    as a Lambda function, answers go to another invocation of this function
    and big fan-outs are split across invocations; else answers are produced
    at once, and posted here. `transport`: the Management API's, when
    `papo serve` serves it in process."""
    function = getattr(context, "invoked_function_arn", None)
    return _container_chat(
        settings, url, function if isinstance(function, str) else None, transport
    )


@functools.lru_cache(maxsize=16)
def _container_chat(
    settings: Settings, url: str, function: str | None, transport: Transport | None
) -> Chat:
    """Built once per container while its settings stay the same: the chat
    keeps no state of its own, only its clients."""
    delivery: Delivery = wiring.delivery(settings, url, transport)
    if function is not None:
        delivery = wiring.split_delivery(settings, url, function, transport)
    return Chat(
        store=wiring.store(settings),
        delivery=delivery,
        rules=settings.rules,
        texts=Texts(settings.language),
        bot=wiring.bot(settings),
        answers=SelfInvokedAnswers(function, url) if function is not None else None,
    )


def _route(settings: Settings, event: WebSocketEvent, context: object) -> None:
    request = event.request_context
    url = wiring.endpoint_url(settings, request.domain_name, request.stage)
    transport = wiring.in_process_transport(context, url)
    try:
        identity_check.check(settings.access.mode, request)
    except identity_check.Refused:
        if request.route_key != "$connect":
            wiring.delivery(settings, url, transport).close(request.connection_id)
        raise
    ROUTES.get(request.route_key, act)(_chat(settings, url, context, transport), event)


def _answer(settings: Settings, event: AnswerEvent, context: object) -> None:
    transport = wiring.in_process_transport(context, event.endpoint)
    _chat(settings, event.endpoint, None, transport).answer(event.job)


def _share(settings: Settings, event: ShareEvent, context: object) -> None:
    transport = wiring.in_process_transport(context, event.endpoint)
    chat = _chat(settings, event.endpoint, context, transport)
    deliver_share(chat, wiring.store(settings), event, now_ms())


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    started = time.perf_counter()
    run: Callable[[Settings], None]
    if ANSWER_KEY in event:
        answer = AnswerEvent.parse(event[ANSWER_KEY])
        request_id = getattr(context, "aws_request_id", None)
        keys = {"route": ANSWER_KEY, "connection_id": answer.job.asker_id, "request_id": request_id}
        run = functools.partial(_answer, event=answer, context=context)
    elif SHARE_KEY in event:
        share = ShareEvent.parse(event[SHARE_KEY])
        request_id = getattr(context, "aws_request_id", None)
        keys = {"route": SHARE_KEY, "share_id": share.share_id, "request_id": request_id}
        run = functools.partial(_share, event=share, context=context)
    else:
        ws = WebSocketEvent.parse(event)
        request = ws.request_context
        keys = {
            "route": request.route_key,
            "connection_id": request.connection_id,
            "request_id": request.request_id,
        }
        run = functools.partial(_route, event=ws, context=context)
    try:
        run(Settings.from_env())
    except identity_check.Refused as refused:
        # $connect: API Gateway refuses the handshake with this status.
        logger.warning("not let in by papo's authorizer", extra={**keys, "reason": refused.why})
        return {"statusCode": refused.status, "body": refused.why}
    except InvalidRoom as invalid:
        # $connect only: API Gateway refuses the handshake with this status.
        logger.info("connection refused", extra={**keys, "reason": str(invalid)})
        return {"statusCode": 400, "body": str(invalid)}
    except Exception:
        logger.exception("route failed", extra=keys)
        raise
    duration_ms = round((time.perf_counter() - started) * 1e3, 2)
    logger.info("route done", extra={**keys, "duration_ms": duration_ms})
    return {"statusCode": 200}
