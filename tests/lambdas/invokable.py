"""A Lambda that invokes itself the plain boto3 way, for the emulator's Invoke API."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("fail"):
        raise ValueError("asked to fail")
    if "requestContext" in event:
        if event["requestContext"]["routeKey"] == "$default":
            boto3.client("lambda").invoke(
                FunctionName=context.function_name,
                InvocationType="Event",
                Payload=json.dumps({"later": event["body"]}).encode(),
            )
        return {"statusCode": 200}
    with open(os.environ["PROBE_LOG"], "a") as log:
        log.write(json.dumps({"event": event, "function": context.function_name}) + "\n")
    return {"echo": event}
