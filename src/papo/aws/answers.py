"""Answers produced by another invocation of this same function.

API Gateway cuts a route's integration at 29 seconds; a bot answer may take
longer. So the `sendBot` route hands the question to an asynchronous
invocation (`InvocationType="Event"`) of the function it runs in, and returns.
`papo serve` answers the same Lambda `Invoke` call (it points handlers at
itself with `AWS_ENDPOINT_URL_LAMBDA`), so this code is the same on both.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import TYPE_CHECKING

import msgspec

from papo.aws.event import AnswerEvent
from papo.core.ports import AnswerJob, AnswerNotStarted

if TYPE_CHECKING:
    from types_boto3_lambda.client import LambdaClient

logger = logging.getLogger(__name__)

ANSWER_KEY = "papoAnswer"


@functools.cache
def _lambda(endpoint: str | None) -> LambdaClient:
    """One client per endpoint: `AWS_ENDPOINT_URL_LAMBDA` names papo serve's."""
    import boto3

    return boto3.client("lambda", endpoint_url=endpoint)


class SelfInvokedAnswers:
    def __init__(self, function_name: str, endpoint: str) -> None:
        self.function_name = function_name
        self.endpoint = endpoint

    def start(self, job: AnswerJob) -> None:
        payload = msgspec.json.encode({ANSWER_KEY: AnswerEvent(job, self.endpoint)})
        import botocore.exceptions

        try:
            response = _lambda(os.environ.get("AWS_ENDPOINT_URL_LAMBDA")).invoke(
                FunctionName=self.function_name, InvocationType="Event", Payload=payload
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            logger.error("answer not started", extra={"error": str(error)})
            raise AnswerNotStarted(str(error)) from error
        if response["StatusCode"] != 202:
            raise AnswerNotStarted(f"Invoke answered {response['StatusCode']}")
