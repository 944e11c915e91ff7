"""A REQUEST authorizer for a WebSocket API, written the plain way: the token
decides, and the answer is an IAM policy on the method ARN."""

import json
import os
import time


def _note(event):
    path = os.environ.get("AUTHORIZER_LOG")
    if path:
        with open(path, "a") as log:
            log.write(json.dumps(event) + "\n")


def _policy(principal, effect, resource, context=None):
    answer = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
    if context is not None:
        answer["context"] = context
    return answer


def _token(event):
    query = event.get("queryStringParameters") or {}
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    return query.get("token") or headers.get("auth") or ""


def handler(event, context):
    _note(event)
    token = _token(event)
    arn = event["methodArn"]
    if token.startswith("allow:"):
        name = token.split(":", 1)[1]
        return _policy(name, "Allow", arn, {"name": name, "level": 3, "admin": True, "ratio": 0.5})
    if token == "wildcard":
        return _policy("anyone", "Allow", "arn:aws:execute-api:*:*:*/*/*")
    if token == "deny":
        return _policy("someone", "Deny", arn)
    if token == "elsewhere":
        return _policy("someone", "Allow", arn.replace("/dev/", "/prod/"))
    if token == "unauthorized":
        raise Exception("Unauthorized")
    if token == "not-quite":
        raise Exception("unauthorized: no such user")
    if token == "no-principal":
        answer = _policy("someone", "Allow", arn)
        del answer["principalId"]
        return answer
    if token == "nested":
        return _policy("someone", "Allow", arn, {"user": {"id": 1}})
    if token == "no-policy":
        return {"principalId": "someone", "policyDocument": {"Statement": "Allow"}}
    if token == "slow":
        time.sleep(4)
        return _policy("late", "Allow", arn)
    raise RuntimeError(f"no rule for the token {token!r}")
