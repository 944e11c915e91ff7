"""Invoking this same function asynchronously (`InvocationType="Event"`): for a
bot answer that may outlast API Gateway's 29 s, and for the shares of a big
fan-out. `papo serve` answers the same call, named in `AWS_ENDPOINT_URL_LAMBDA`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types_boto3_lambda.client import LambdaClient

_clients: dict[str | None, LambdaClient] = {}
_building = threading.Lock()


def _lambda(endpoint: str | None) -> LambdaClient:
    """One client per endpoint, for the container's life. Built under a lock:
    a split's threads ask at once, and boto3's default session is not safe to
    build clients from in several threads. It gives up soon, as the caller then
    does the work itself or says it could not."""
    with _building:
        client = _clients.get(endpoint)
        if client is None:
            import boto3
            from botocore.config import Config

            timeouts = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2})
            client = _clients[endpoint] = boto3.client(
                "lambda", endpoint_url=endpoint, config=timeouts
            )
        return client


def self_invoker(function_name: str) -> Callable[[bytes], None]:
    """Invokes `function_name` asynchronously with a payload; raises when Lambda
    did not take it."""

    def invoke(payload: bytes) -> None:
        client = _lambda(os.environ.get("AWS_ENDPOINT_URL_LAMBDA"))
        response = client.invoke(
            FunctionName=function_name, InvocationType="Event", Payload=payload
        )
        if response["StatusCode"] != 202:
            raise RuntimeError(f"Invoke answered {response['StatusCode']}")

    return invoke
