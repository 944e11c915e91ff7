"""A handler that hard-codes its deployed API's address, as some do instead of
reading the event: papo serve runs it under that API's id (`--api-id`, or the
template's `Metadata`)."""

import os

import boto3

API_ID = "a1b2c3d4e5"

management = boto3.client(
    "apigatewaymanagementapi",
    endpoint_url=f"https://{API_ID}.execute-api.{os.environ['AWS_REGION']}.amazonaws.com/dev",
)


def handler(event, context):
    connection_id = event["requestContext"]["connectionId"]
    management.post_to_connection(ConnectionId=connection_id, Data=b"hello from " + API_ID.encode())
    return {"statusCode": 200}
