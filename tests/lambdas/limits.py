"""A handler that goes past Lambda's own limits when asked: it exits its
process, sleeps past its function's Timeout, touches more memory than its
MemorySize; or starts forty threads; or says how much time it has left, and
which container it is in."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

invocations = 0
"""This container's messages so far: 1 again in a new one."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global invocations
    request = event["requestContext"]
    if request["routeKey"] == "$connect":
        query = event.get("queryStringParameters") or {}
        if "sleep" in query:
            time.sleep(float(query["sleep"]))
        return {"statusCode": 200}
    if request["routeKey"] != "$default":
        return {"statusCode": 200}
    invocations += 1
    action = json.loads(event.get("body") or "{}").get("do")
    if action == "exit":
        os._exit(1)
    if action == "sleep":
        time.sleep(5)
    if action == "threads":  # reserved stacks, which Lambda does not count: well past 128 MB
        go = threading.Event()
        started = [threading.Thread(target=go.wait) for _ in range(40)]
        for thread in started:
            thread.start()
        go.set()
        for thread in started:
            thread.join()
    if action == "hog":
        hog = bytearray(400 * 1024 * 1024)
        hog[::4096] = b"x" * len(hog[::4096])  # every page, so that it is resident
    answer = {
        "remaining_ms": context.get_remaining_time_in_millis(),
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "pid": os.getpid(),
        "invocations": invocations,
    }
    return {"statusCode": 200, "body": json.dumps(answer)}
