"""A WebSocket chat written the way AWS's own simple-websockets-chat-app sample
is: one function per route, the connection ids in a DynamoDB table named by an
environment variable, the Management API client built from the event. papo's
emulator must run it unmodified."""

import json
import os

import boto3

dynamodb = boto3.resource("dynamodb")


def _table():
    return dynamodb.Table(os.environ["TABLE_NAME"])


def on_connect(event, context):
    _table().put_item(Item={"connectionId": event["requestContext"]["connectionId"]})
    return {"statusCode": 200, "body": "Connected."}


def on_disconnect(event, context):
    _table().delete_item(Key={"connectionId": event["requestContext"]["connectionId"]})
    return {"statusCode": 200, "body": "Disconnected."}


def send_message(event, context):
    context_ = event["requestContext"]
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"https://{context_['domainName']}/{context_['stage']}",
    )
    data = json.loads(event["body"])["data"]
    for item in _table().scan(ProjectionExpression="connectionId")["Items"]:
        try:
            client.post_to_connection(ConnectionId=item["connectionId"], Data=data.encode())
        except client.exceptions.GoneException:
            _table().delete_item(Key={"connectionId": item["connectionId"]})
    return {"statusCode": 200, "body": "Data sent."}


def handler(event, context):
    """All routes in one function, for `papo serve --handler app:handler --route sendmessage`."""
    route = event["requestContext"]["routeKey"]
    if route == "$connect":
        return on_connect(event, context)
    if route == "$disconnect":
        return on_disconnect(event, context)
    return send_message(event, context)
