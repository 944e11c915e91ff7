"""Answers produced by another invocation of this same function.

API Gateway cuts a route's integration at 29 seconds; a bot answer may take
longer. So the `sendBot` route hands the question to an asynchronous
invocation (`InvocationType="Event"`) of the function it runs in, and returns.
`papo serve` answers the same Lambda `Invoke` call (it points handlers at
itself with `AWS_ENDPOINT_URL_LAMBDA`), so this code is the same on both.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec

from papo.aws.event import AnswerEvent
from papo.aws.self_invoke import self_invoker
from papo.core.ports import AnswerJob, AnswerNotStarted

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

ANSWER_KEY = "papoAnswer"


class SelfInvokedAnswers:
    def __init__(self, function_name: str, endpoint: str) -> None:
        self.endpoint = endpoint
        self._invoke = self_invoker(function_name)

    def start(self, job: AnswerJob) -> None:
        payload = msgspec.json.encode({ANSWER_KEY: AnswerEvent(job, self.endpoint)})
        import botocore.exceptions

        try:
            self._invoke(payload)
        except (
            botocore.exceptions.BotoCoreError,
            botocore.exceptions.ClientError,
            RuntimeError,
        ) as error:
            logger.error("answer not started", extra={"error": str(error)})
            raise AnswerNotStarted(str(error)) from error
