"""A WebSocket Lambda that answers each message with the environment it sees."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = event["requestContext"]
    if request["routeKey"] == "$default":
        client = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=f"https://{request['domainName']}/{request['stage']}",
        )
        seen = json.dumps(dict(os.environ)).encode()
        client.post_to_connection(ConnectionId=request["connectionId"], Data=seen)
    return {"statusCode": 200}
