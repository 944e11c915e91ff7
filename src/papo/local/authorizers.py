"""`$connect`'s `REQUEST` authorizer, run as API Gateway runs it (docs/promises.md:
"No identity source, no handshake", "The authorizer's event", "Its policy decides").

Before `$connect`, API Gateway checks that each identity source the authorizer
names is in the request and not empty (else it refuses the handshake with 401
and invokes nothing), then invokes the authorizer function with the request
and the CONNECT event's `requestContext`. The function answers an IAM policy:
a `Deny`, or no `Allow`, of `execute-api:Invoke` on the method ARN refuses with
403; an error whose message is exactly `Unauthorized` with 401; anything else
going wrong (another error, a timeout, an answer without `principalId`, a policy
that is no policy, a `context` that is not flat) with 500. An `Allow` lets
`$connect` run, and the connection's events carry `requestContext.authorizer`:
the `principalId`, the `context`'s keys with their values stringified (`123` is
`"123"`, `true` is `"true"`, as API Gateway's documentation says of Lambda proxy
integrations) and `integrationLatency`, the authorizer's time in milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from papo.local import ids
from papo.local.config import ACCOUNT_ID, IDENTITY_SOURCE, Authorizer, Limits
from papo.local.invoker import HandlerFailed, Invoker

log = logging.getLogger("papo.local")

UNAUTHORIZED = "Unauthorized"
"""The error message by which an authorizer function refuses with 401."""

_ACTIONS = ("execute-api:Invoke",)


@dataclass(frozen=True)
class Refused:
    """The handshake's refusal, and why, for the developer's terminal."""

    status: int
    why: str


def method_arn(region: str, api_id: str, stage: str) -> str:
    return f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{api_id}/{stage}/$connect"


def missing_identity(
    sources: Sequence[str],
    headers: Sequence[tuple[str, str]],
    query: Sequence[tuple[str, str]],
) -> str | None:
    """The first identity source the request lacks (or has empty), if any; header
    names match whatever their case, query string names exactly."""
    header_values = {name.lower(): value for name, value in headers if value}
    query_values = {name: value for name, value in query if value}
    for source in sources:
        found = IDENTITY_SOURCE.fullmatch(source)
        assert found is not None  # checked when the authorizer was configured
        where, name = found.groups()
        present = header_values.get(name.lower()) if where == "header" else query_values.get(name)
        if not present:
            return source
    return None


def request_event(connect_event: Mapping[str, Any], arn: str) -> dict[str, Any]:
    """The authorizer's event: the request as `$connect` gets it, its type and ARN."""
    event: dict[str, Any] = {"type": "REQUEST", "methodArn": arn}
    for key in ("headers", "multiValueHeaders"):
        event[key] = connect_event[key]
    for key in ("queryStringParameters", "multiValueQueryStringParameters"):
        if key in connect_event:
            event[key] = connect_event[key]
    event["stageVariables"] = {}
    event["requestContext"] = connect_event["requestContext"]
    return event


class _Malformed(ValueError):
    pass


def _listed(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    raise _Malformed(f"a statement's {what} is a string or a list of strings, not {value!r}")


def _wildcard(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM's matching: `*` any run of characters, `?` any one."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE if ignore_case else 0)


def _effect(policy: Any, arn: str) -> str | None:
    """`Deny` when a statement denies invoking `arn`, else `Allow` when one allows
    it, else None; `_Malformed` when the policy is no IAM policy."""
    if not isinstance(policy, dict):
        raise _Malformed("the answer has no policyDocument object")
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise _Malformed("the policyDocument has no Statement")
    effects = set()
    for statement in statements:
        if not isinstance(statement, dict):
            raise _Malformed(f"a statement is an object, not {statement!r}")
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise _Malformed(f"a statement's Effect is Allow or Deny, not {effect!r}")
        actions = _listed(statement.get("Action"), "Action")
        resources = _listed(statement.get("Resource"), "Resource")
        acts = any(
            _wildcard(action, ignore_case=True).fullmatch(wanted)
            for action in actions
            for wanted in _ACTIONS
        )
        if acts and any(_wildcard(resource).fullmatch(arn) for resource in resources):
            effects.add(effect)
    if "Deny" in effects:
        return "Deny"
    return "Allow" if "Allow" in effects else None


def _stringified(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    raise _Malformed(f"a context value is a string, number or boolean, not {value!r}")


def verdict(answer: Any, arn: str, latency_ms: int) -> dict[str, Any] | Refused:
    """What an authorizer's answer means: the `requestContext.authorizer` of an
    allowed connection, or the refusal."""
    try:
        if not isinstance(answer, dict):
            raise _Malformed(f"the answer is an object, not {answer!r}")
        principal = answer.get("principalId")
        if not isinstance(principal, str):
            raise _Malformed("the answer has no principalId string")
        effect = _effect(answer.get("policyDocument"), arn)
        context = answer.get("context") or {}
        if not isinstance(context, dict):
            raise _Malformed(f"the context is an object, not {context!r}")
        flat = {str(key): _stringified(value) for key, value in context.items()}
    except _Malformed as error:
        return Refused(500, f"a malformed answer: {error}")
    if effect is None:
        return Refused(403, f"its policy allows no execute-api:Invoke on {arn}")
    if effect == "Deny":
        return Refused(403, f"its policy denies execute-api:Invoke on {arn}")
    return {**flat, "principalId": principal, "integrationLatency": latency_ms}


async def authorize(
    authorizer: Authorizer,
    invoker: Invoker,
    connect_event: Mapping[str, Any],
    headers: Sequence[tuple[str, str]],
    query: Sequence[tuple[str, str]],
    limits: Limits,
    region: str,
) -> dict[str, Any] | Refused:
    """Runs the authorizer for a handshake whose `$connect` event would be
    `connect_event`: the connection's `requestContext.authorizer`, or the refusal.

    The wait is bounded by the function's own timeout and the integration
    timeout, whichever is shorter; as on AWS, the invocation is not cancelled.
    """
    missing = missing_identity(authorizer.identity_sources, headers, query)
    if missing is not None:
        return Refused(401, f"the request has no {missing}")
    context = connect_event["requestContext"]
    arn = method_arn(region, context["apiId"], context["stage"])
    event = request_event(connect_event, arn)
    target = authorizer.target
    started = time.perf_counter()
    try:
        answer = await asyncio.wait_for(
            asyncio.shield(invoker.invoke_function(target, event, ids.request_id())),
            min(target.timeout_s, limits.integration_timeout_s),
        )
    except TimeoutError:
        return Refused(500, "it timed out")
    except HandlerFailed as failure:
        message = str(failure).partition(": ")[2]
        if message == UNAUTHORIZED:
            return Refused(401, "it raised Unauthorized")
        return Refused(500, f"it failed: {failure}")
    return verdict(answer, arn, round((time.perf_counter() - started) * 1000))
