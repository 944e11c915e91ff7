"""API Gateway WebSocket events, in the exact shape Lambda receives them."""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

API_ID = "a1b2c3d4e5"
DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"


def connection_id() -> str:
    """An id in API Gateway's form, e.g. `VNRUSeldSwMCIRQ=`."""
    return base64.b64encode(secrets.token_bytes(11)).decode()


def _context(route: str, event_type: str, cid: str, stage: str) -> dict[str, Any]:
    now = time.time()
    request_id = base64.b64encode(secrets.token_bytes(10)).decode()
    return {
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "messageDirection": "IN",
        "stage": stage,
        "connectedAt": int(now * 1000) - 5,
        "requestTimeEpoch": int(now * 1000),
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "papo-tests"},
        "requestId": request_id,
        "domainName": DOMAIN,
        "connectionId": cid,
        "apiId": API_ID,
    }


def connect(cid: str, stage: str = "dev") -> dict[str, Any]:
    headers = {
        "Host": DOMAIN,
        "Sec-WebSocket-Key": base64.b64encode(secrets.token_bytes(16)).decode(),
        "Sec-WebSocket-Version": "13",
        "User-Agent": "papo-tests",
        "X-Forwarded-For": "127.0.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": _context("$connect", "CONNECT", cid, stage),
        "isBase64Encoded": False,
    }


def disconnect(cid: str, stage: str = "dev") -> dict[str, Any]:
    context = _context("$disconnect", "DISCONNECT", cid, stage)
    context["disconnectStatusCode"] = 1001
    context["disconnectReason"] = "Going away"
    return {
        "headers": {"Host": DOMAIN, "x-api-key": "", "x-restapi": ""},
        "multiValueHeaders": {"Host": [DOMAIN], "x-api-key": [""], "x-restapi": [""]},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def message(
    cid: str, route: str, body: str | bytes, stage: str = "dev", *, binary: bool = False
) -> dict[str, Any]:
    context = _context(route, "MESSAGE", cid, stage)
    context["messageId"] = base64.b64encode(secrets.token_bytes(10)).decode()
    if binary:
        raw = body.encode() if isinstance(body, str) else body
        return {
            "requestContext": context,
            "body": base64.b64encode(raw).decode(),
            "isBase64Encoded": True,
        }
    return {"requestContext": context, "body": body, "isBase64Encoded": False}
