"""A third-party-style WebSocket Lambda, written the plain boto3 way, that the
emulator tests steer through its messages and query strings."""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

import boto3


def _client(event: dict[str, Any]) -> Any:
    context = event["requestContext"]
    scheme = os.environ.get("PROBE_SCHEME", "http")
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"{scheme}://{context['domainName']}/{context['stage']}",
    )


def _record(entry: dict[str, Any]) -> None:
    with open(os.environ["PROBE_LOG"], "a") as log:
        log.write(json.dumps(entry) + "\n")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any] | None:
    request = event["requestContext"]
    route = request["routeKey"]
    if route == "$connect":
        query = event.get("queryStringParameters") or {}
        _record({"event": event})
        if "sleep" in query:
            time.sleep(float(query["sleep"]))
        if "raise" in query:
            raise RuntimeError("refused by the probe")
        if "status" in query:
            return {"statusCode": int(query["status"])}
        if "post_self" in query:
            client = _client(event)
            try:
                client.post_to_connection(ConnectionId=request["connectionId"], Data=b"early")
                _record({"post_self": "sent"})
            except client.exceptions.GoneException:
                _record({"post_self": "gone"})
        offered = event["headers"].get("Sec-WebSocket-Protocol")
        if offered and "echo_protocol" in query:
            chosen = offered.split(",")[0].strip()
            return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": chosen}}
        return {"statusCode": 200}
    if route == "$disconnect":
        _record({"event": event})
        return {"statusCode": 200}
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode(errors="replace")
    try:
        command = json.loads(raw)
    except ValueError:
        command = {}
    if not isinstance(command, dict):
        command = {}
    do = command.get("do")
    if do == "raise":
        raise ValueError("the probe was told to fail")
    if do == "sleep":
        time.sleep(float(command["seconds"]))
    if do == "status":
        return {"statusCode": int(command["status"]), "body": "a body nobody sees"}
    client = _client(event)
    if do == "post":
        target = command.get("to", request["connectionId"])
        data = command.get("data", "x") * int(command.get("times", 1))
        try:
            client.post_to_connection(ConnectionId=target, Data=data.encode())
        except client.exceptions.GoneException:
            client.post_to_connection(ConnectionId=request["connectionId"], Data=b"gone")
        return {"statusCode": 200}
    if do == "info":
        found = client.get_connection(ConnectionId=command.get("of", request["connectionId"]))
        found.pop("ResponseMetadata", None)
        answer = json.dumps(found, default=str).encode()
        client.post_to_connection(ConnectionId=request["connectionId"], Data=answer)
        return {"statusCode": 200}
    if do == "context":
        handed = getattr(context, "in_process_management_api", {})
        answer = json.dumps({"in_process_management_api": sorted(handed)}).encode()
        client.post_to_connection(ConnectionId=request["connectionId"], Data=answer)
        return {"statusCode": 200}
    if do == "kick":
        client.delete_connection(ConnectionId=command.get("who", request["connectionId"]))
        return {"statusCode": 200}
    client.post_to_connection(
        ConnectionId=request["connectionId"],
        Data=json.dumps({"route": route, "event": event, "do": do}).encode(),
    )
    return {"statusCode": 200}
