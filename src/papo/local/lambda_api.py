"""Lambda's `Invoke` API, for the functions of the emulated API.

Handlers run by the emulator get `AWS_ENDPOINT_URL_LAMBDA` pointing here, so
`boto3.client("lambda").invoke(...)` in handler code reaches the emulator as
it reaches Lambda on AWS: `Event` invocations answer 202 at once and run in
the background, `RequestResponse` ones answer the handler's result, or its
error with `X-Amz-Function-Error`, as Lambda does.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from papo.local import admission, ids
from papo.local.config import ApiConfig, RouteTarget
from papo.local.invoker import HandlerFailed, Invoker
from papo.local.signatures import Verifier

log = logging.getLogger("papo.local")

PATH = "/2015-03-31/functions/{function}/invocations"


def _error(status: int, kind: str, message: str) -> Response:
    return Response(
        json.dumps({"Type": "User", "message": message}),
        status_code=status,
        media_type="application/json",
        headers={"x-amzn-ErrorType": kind},
    )


def function_name(reference: str) -> str:
    """`name`, `name:alias` or an ARN, down to the function's name."""
    if reference.startswith("arn:"):
        parts = reference.split(":")
        return parts[6] if len(parts) > 6 else reference
    return reference.partition(":")[0]


class LambdaApi:
    def __init__(
        self, config: ApiConfig, invoker: Invoker, verifier: Verifier | None = None
    ) -> None:
        self.invoker = invoker
        self.verifier = verifier
        """When set, calls must be signed (`papo.local.signatures`)."""
        self.functions: dict[str, RouteTarget] = {
            target.function_name: target for target in config.functions
        }
        self._background: set[asyncio.Task[None]] = set()

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        refused = admission.refusal(request, body, self.verifier, "lambda")
        if refused is not None:
            status, refusal_headers, refusal = refused
            return Response(refusal, status_code=status, headers=refusal_headers)
        reference = request.path_params["function"]
        target = self.functions.get(function_name(reference))
        if target is None:
            return _error(404, "ResourceNotFoundException", f"Function not found: {reference}")
        try:
            event: Any = json.loads(body) if body else {}
        except ValueError:
            return _error(
                400, "InvalidRequestContentException", "Could not parse request body into json"
            )
        request_id = ids.request_id()
        headers = {"x-amzn-RequestId": request_id}
        kind = request.headers.get("x-amz-invocation-type", "RequestResponse")
        if kind == "DryRun":
            return Response(status_code=204, headers=headers)
        if kind == "Event":
            task = asyncio.ensure_future(self._in_background(target, event, request_id))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return Response(status_code=202, headers=headers)
        headers["X-Amz-Executed-Version"] = "$LATEST"
        try:
            result = await self.invoker.invoke_function(target, event, request_id)
        except HandlerFailed as failure:
            kind_of, _, message = str(failure).partition(": ")
            headers["X-Amz-Function-Error"] = "Unhandled"
            payload = failure.payload or {"errorMessage": message, "errorType": kind_of}
            return Response(json.dumps(payload), media_type="application/json", headers=headers)
        return Response(json.dumps(result), media_type="application/json", headers=headers)

    async def _in_background(
        self, target: RouteTarget, event: dict[str, Any], request_id: str
    ) -> None:
        try:
            await self.invoker.invoke_function(target, event, request_id)
        except HandlerFailed:
            pass  # its lines are on standard error already, as in CloudWatch
        except Exception:  # Lambda drops a failed event once its retries are spent
            log.exception("asynchronous invocation %s failed", request_id)
