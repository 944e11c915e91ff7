"""The one function of the sample: it echoes, and notes each invocation in the
file `INVOCATIONS` names, so that a test sees what ran and what did not."""

import json
import os


def handler(event, context):
    with open(os.environ["INVOCATIONS"], "a") as log:
        log.write(event["requestContext"]["routeKey"] + "\n")
    return {"statusCode": 200, "body": json.dumps({"echo": event.get("body")})}
