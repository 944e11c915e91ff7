"""What reading a room's members costs on DynamoDB, per public message, by room size.

    python bench/room_reads.py [--sizes 100 1000 10000]

Every public message reads who is in the room. The list was a strongly
consistent Query of every connection item of the room, charged by the size
of the items it reads; now each container keeps the list it read with the
room's members version, and reads only that version (one strongly consistent
GetItem) while it is unchanged. For rooms of N members, in moto's server
mode, it counts the read units of one message's members read by DynamoDB's
rules (a read unit per 4 KB of items read, rounded up per call; projection
does not lower it), in a container that read the list before (the version is
unchanged) and in one that did not, or after a change of who is here
(version + Query), against the Query alone as before; and the write units a
change of who is here adds (the version's ADD: 2 in a join's transaction, 1
on its own). Items are what papo writes: one member is made by papo's store,
the others are copies of its item under other ids and names.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import boto3  # noqa: E402

from dynamodb_units import item_size, read_units  # noqa: E402
from papo.adapters.store.dynamodb import DynamoDbStore  # noqa: E402
from papo.adapters.store.dynamodb_table import create_table  # noqa: E402
from tests.moto_server import SerialMotoServer  # noqa: E402

NOW = time.time_ns() // 1_000_000


def fill(client: Any, table: str, room: str, count: int) -> list[int]:
    """A room of `count` members; the sizes of their items."""
    store = DynamoDbStore(client, table).in_room(room)
    store.add("model-connection", NOW, "en")
    store.claim_name("model-connection", "Model Person", NOW, session="s" * 32)
    key = {"pk": {"S": f"ROOM#{room}"}, "sk": {"S": "C#model-connection"}}
    model = client.get_item(TableName=table, Key=key)["Item"]
    copies = []
    for n in range(count - 1):
        copy = json.loads(json.dumps(model))
        copy["sk"] = {"S": f"C#conn{n:011d}="}
        copy["name"] = {"S": f"Person {n:05d}"}
        copies.append(copy)
    for start in range(0, len(copies), 25):
        batch = [{"PutRequest": {"Item": item}} for item in copies[start : start + 25]]
        client.batch_write_item(RequestItems={table: batch})
    return [item_size(model)] * count


class Calls:
    """The DynamoDB calls a client makes, by operation."""

    def __init__(self, client: Any) -> None:
        self.made: list[str] = []
        client.meta.events.register("before-call.dynamodb.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.made.append(model.name)

    def during(self, action: Any) -> list[str]:
        self.made.clear()
        action()
        return sorted(self.made)


def units(calls: list[str], query: int) -> int:
    """Read units of a members read: a GetItem of the version, a Query of the room."""
    return calls.count("GetItem") + (query if "Query" in calls else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000])
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    print("N        item B  before: Query  now: unchanged  now: after a change  calls, unchanged")
    server = SerialMotoServer()
    server.start()
    try:
        client = boto3.client("dynamodb", endpoint_url=server.url)
        calls = Calls(client)
        create_table(client, "bench")
        for count in args.sizes:
            room = f"size-{count}"
            sizes = fill(client, "bench", room, count)
            container = DynamoDbStore(client, "bench").in_room(room)
            other = DynamoDbStore(client, "bench").in_room(room)
            first = calls.during(container.members)
            unchanged = calls.during(container.members)
            other.add("late-connection", NOW)
            other.claim_name("late-connection", "Late Person", NOW + 1)
            changed = calls.during(container.members)
            assert len(container.members()) == count + 1
            assert first == changed, (first, changed)
            assert set(first) == {"GetItem", "Query"}, first
            query = int(read_units(sizes))
            print(
                f"{count:<8} {sizes[0]:>6}  {query:>13}  {units(unchanged, query):>14}"
                f"  {units(changed, query):>19}  {'+'.join(unchanged)}",
                flush=True,
            )
    finally:
        server.stop()
    print("A change of who is here adds 2 write units in a join's or a resume's transaction")
    print("and 1 for someone away or gone; a public message's own writes are unchanged.")


if __name__ == "__main__":
    main()
