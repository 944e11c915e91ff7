"""The backend `papo conformance` expects: a WebSocket Lambda that tells a client
what API Gateway handed it, and nothing else.

Standard library only, so that its file is a Lambda's whole code as it is
(docs/conformance/template.yaml deploys it). Its routes: `$connect` answers
the status a `?status=` asks for and picks the first subprotocol offered;
`echo` and `$default` answer, through their route responses, which route ran
and on which connection, with the message's length and, when short, the
message itself.
"""

from __future__ import annotations

import json
from typing import Any

SHORT = 1024
"""A message longer than this is answered with its length alone."""


def handler(event: dict[str, Any], _context: object) -> dict[str, Any]:
    request = event["requestContext"]
    route = request["routeKey"]
    if route == "$connect":
        return _connect(event)
    if route == "$disconnect":
        return {"statusCode": 200}
    body = event.get("body") or ""
    answer: dict[str, Any] = {
        "route": route,
        "connectionId": request["connectionId"],
        "length": len(body),
    }
    if len(body) <= SHORT:
        answer["body"] = body
    return {"statusCode": 200, "body": json.dumps(answer)}


def _connect(event: dict[str, Any]) -> dict[str, Any]:
    query = event.get("queryStringParameters") or {}
    status = query.get("status", "200")
    answer: dict[str, Any] = {"statusCode": int(status) if status.isdigit() else 400}
    offered = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    protocols = offered.get("sec-websocket-protocol")
    if protocols and answer["statusCode"] == 200:
        answer["headers"] = {"Sec-WebSocket-Protocol": protocols.split(",")[0].strip()}
    return answer
