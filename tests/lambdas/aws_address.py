"""A WebSocket Lambda written the plain boto3 way that builds the Management
API's address from the API's id and its region, as Chalice does, instead of
from the event's `domainName`; a message may name another address to post to."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = event["requestContext"]
    if request["routeKey"] != "$default":
        return {"statusCode": 200}
    region = os.environ["AWS_REGION"]
    endpoint = json.loads(event["body"]).get("endpoint") or (
        f"https://{request['apiId']}.execute-api.{region}.amazonaws.com/{request['stage']}"
    )
    client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)
    client.post_to_connection(
        ConnectionId=request["connectionId"], Data=json.dumps({"via": endpoint}).encode()
    )
    return {"statusCode": 200}
