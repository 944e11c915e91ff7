"""The API's one function: notes what each event carries from the authorizer, and
answers a message with it."""

import json
import os


def handler(event, context):
    request = event["requestContext"]
    path = os.environ.get("EVENTS_LOG")
    if path:
        with open(path, "a") as log:
            log.write(json.dumps({"route": request["routeKey"], "event": event}) + "\n")
    if request["routeKey"] == "$default":
        return {"statusCode": 200, "body": json.dumps({"authorizer": request.get("authorizer")})}
    return {"statusCode": 200}
