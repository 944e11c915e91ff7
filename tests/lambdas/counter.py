"""A handler that wrongly keeps the room's state in a module global, as the
course's `names = {}` did: right in one process, wrong across containers."""

from __future__ import annotations

import time
from typing import Any

import boto3

seen = 0


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global seen
    request = event["requestContext"]
    if request["routeKey"] == "$default":
        seen += 1
        mine = seen
        time.sleep(0.2)  # long enough that every container gets a share of the calls
        client = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=f"http://{request['domainName']}/{request['stage']}",
        )
        client.post_to_connection(ConnectionId=request["connectionId"], Data=str(mine).encode())
    return {"statusCode": 200}
