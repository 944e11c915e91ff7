"""The Lambda proxy events API Gateway sends a WebSocket integration."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from papo.local import ids


@dataclass(frozen=True)
class Peer:
    """What API Gateway knows of a connection when it opens."""

    connection_id: str
    connected_at: int
    source_ip: str
    user_agent: str | None
    domain_name: str
    stage: str
    api_id: str
    authorizer: Mapping[str, Any] | None = None
    """What `$connect`'s authorizer allowed it with, which every event of the
    connection carries as `requestContext.authorizer`."""


def _context(peer: Peer, route: str, event_type: str, request_id: str, now: int) -> dict[str, Any]:
    context: dict[str, Any] = {
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": ids.request_time(now),
        "messageDirection": "IN",
        "stage": peer.stage,
        "connectedAt": peer.connected_at,
        "requestTimeEpoch": now,
        "identity": {"sourceIp": peer.source_ip, "userAgent": peer.user_agent},
        "requestId": request_id,
        "domainName": peer.domain_name,
        "connectionId": peer.connection_id,
        "apiId": peer.api_id,
    }
    if peer.authorizer is not None:
        context["authorizer"] = dict(peer.authorizer)
    return context


def _single_and_multi(
    pairs: Sequence[tuple[str, str]],
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def connect(
    peer: Peer,
    request_id: str,
    headers: Sequence[tuple[str, str]],
    query: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    single_headers, multi_headers = _single_and_multi(headers)
    event: dict[str, Any] = {
        "headers": single_headers or {},
        "multiValueHeaders": multi_headers or {},
        "requestContext": _context(peer, "$connect", "CONNECT", request_id, peer.connected_at),
        "isBase64Encoded": False,
    }
    single_query, multi_query = _single_and_multi(query)
    if single_query is not None:
        event["queryStringParameters"] = single_query
        event["multiValueQueryStringParameters"] = multi_query
    return event


def message(peer: Peer, route: str, request_id: str, data: str | bytes, now: int) -> dict[str, Any]:
    context = _context(peer, route, "MESSAGE", request_id, now)
    context["messageId"] = ids.request_id()
    if isinstance(data, bytes):
        return {
            "requestContext": context,
            "body": base64.b64encode(data).decode(),
            "isBase64Encoded": True,
        }
    return {"requestContext": context, "body": data, "isBase64Encoded": False}


def disconnect(
    peer: Peer, request_id: str, status_code: int, reason: str, now: int
) -> dict[str, Any]:
    context = _context(peer, "$disconnect", "DISCONNECT", request_id, now)
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    headers: Mapping[str, str] = {"Host": peer.domain_name, "x-api-key": "", "x-restapi": ""}
    return {
        "headers": dict(headers),
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }
