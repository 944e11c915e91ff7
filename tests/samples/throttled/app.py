"""Answers every message with its route."""


def handler(event, context):
    request = event["requestContext"]
    if request["routeKey"] in ("$connect", "$disconnect"):
        return {"statusCode": 200}
    return {"statusCode": 200, "body": request["routeKey"]}
