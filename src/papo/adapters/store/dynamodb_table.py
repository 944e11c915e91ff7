"""papo's DynamoDB table: its definition, made on a local DynamoDB, checked at start-up.

`TABLE` is the one definition, in CloudFormation's `AWS::DynamoDB::Table`
properties: the deploy template declares the same (a test keeps them equal),
and `create_table` makes it through the API on any DynamoDB (moto's server,
DynamoDB Local, LocalStack) for `papo table create`, tests and benchmarks.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient

TABLE: dict[str, Any] = {
    "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
}
"""Partition key `pk`, sort key `sk`, both strings; on demand; items expire by
their `expiresAt` (epoch seconds)."""


def create_table(client: DynamoDBClient, table: str) -> None:
    """Creates `table` as `TABLE` says, and waits until it is there."""
    client.create_table(
        TableName=table,
        AttributeDefinitions=TABLE["AttributeDefinitions"],
        KeySchema=TABLE["KeySchema"],
        BillingMode=TABLE["BillingMode"],
    )
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})
    client.update_time_to_live(
        TableName=table, TimeToLiveSpecification=TABLE["TimeToLiveSpecification"]
    )


def _key(schema: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return sorted((part["AttributeName"], part["KeyType"]) for part in schema)


class Problem(enum.Enum):
    """Why papo cannot use a table."""

    MISSING = "missing"
    UNREACHABLE = "unreachable"
    REFUSED = "refused"
    KEYED_OTHERWISE = "keyed otherwise"


def table_problem(client: DynamoDBClient, table: str) -> tuple[Problem, str] | None:
    """What keeps papo from using `table`, and a detail to show (None: nothing).
    Only a refusal to describe tables (`AccessDeniedException`) is no problem:
    credentials allowed papo's item calls alone still run papo."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.exceptions import ConnectionError as Unreachable

    try:
        found = client.describe_table(TableName=table)["Table"]
    except client.exceptions.ResourceNotFoundException:
        return Problem.MISSING, ""
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "AccessDeniedException":
            return None
        return Problem.REFUSED, code or str(error)
    except Unreachable:
        return Problem.UNREACHABLE, ""
    except BotoCoreError as error:
        return Problem.UNREACHABLE, str(error)
    keys = _key(found.get("KeySchema", []))
    if keys != _key(TABLE["KeySchema"]):
        return Problem.KEYED_OTHERWISE, ", ".join(f"{name} ({kind})" for name, kind in keys)
    return None
