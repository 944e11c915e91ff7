"""The Lambda handler, fed API Gateway events, posting to a real Management API endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import Credentials

from papo.aws.handler import handler
from papo.aws.logs import JsonFormatter
from tests import events
from tests.management_api import ManagementApi

ROUTES = ("setName", "sendPublic", "sendPrivate", "sendBot")


class Lambda:
    """API Gateway's side: keeps the open connections and invokes the handler."""

    def __init__(self, api: ManagementApi) -> None:
        self.api = api

    def connect(self) -> str:
        cid = events.connection_id()
        assert handler(events.connect(cid), None) == {"statusCode": 200}
        self.api.connect(cid)
        return cid

    def send(self, cid: str, body: str | dict[str, object], *, binary: bool = False) -> None:
        raw = body if isinstance(body, str) else json.dumps(body)
        action = None if isinstance(body, str) else body.get("action")
        route = action if action in ROUTES else "$default"
        assert handler(events.message(cid, str(route), raw, binary=binary), None) == {
            "statusCode": 200
        }

    def join(self, name: str) -> str:
        cid = self.connect()
        self.send(cid, {"action": "setName", "name": name})
        return cid

    def close(self, cid: str) -> None:
        self.api.open.discard(cid)
        handler(events.disconnect(cid), None)

    def frames(self) -> dict[str, list[dict[str, object]]]:
        with self.api.lock:
            taken = {cid: list(frames) for cid, frames in self.api.received.items() if frames}
            self.api.received.clear()
        return taken


@pytest.fixture
def aws(
    store_kind: str,
    aws_env: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Lambda]:
    monkeypatch.setenv("PAPO_STORE", store_kind)
    if store_kind == "sqlite":
        monkeypatch.setenv("PAPO_SQLITE_PATH", str(tmp_path / "papo.sqlite3"))
    else:
        monkeypatch.setenv("PAPO_TABLE", request.getfixturevalue("dynamodb_table"))
    with ManagementApi(Credentials("AKIDPAPOTEST", "papo-test-secret", "papo-test-token")) as api:
        monkeypatch.setenv("PAPO_MANAGEMENT_ENDPOINT", api.url)
        yield Lambda(api)
        assert api.bad_signatures == 0


def texts(frames: list[dict[str, object]]) -> list[object]:
    keys = ("code", "members", "systemMessage", "publicMessage", "privateMessage")
    return [next(frame[k] for k in keys if k in frame) for frame in frames]


def test_a_chat_session_through_the_handler(aws: Lambda) -> None:
    ana = aws.join("Ana")
    (joined,) = aws.frames().values()
    offset = joined[1]["offset"]
    assert joined[0] == {
        "members": ["Ana"],
        "type": "members",
        "ts": joined[0]["ts"],
        "asOf": offset,
    }
    assert joined[1] == {
        "systemMessage": "Ana joined the chat",
        "type": "system",
        "event": "joined",
        "name": "Ana",
        "id": joined[1]["id"],
        "ts": joined[0]["ts"],
        "offset": offset,
    }
    assert isinstance(joined[1]["id"], str)
    assert isinstance(joined[0]["ts"], int)
    bruno = aws.join("Bruno")
    frames = aws.frames()
    assert {cid: texts(f) for cid, f in frames.items()} == {
        ana: [["Ana", "Bruno"], "Bruno joined the chat"],
        bruno: [["Ana", "Bruno"], "Bruno joined the chat"],
    }

    aws.send(ana, {"action": "sendPublic", "message": "hi all"})
    frames = aws.frames()
    assert frames[ana] == frames[bruno]
    assert frames[ana][0]["publicMessage"] == "Ana: hi all"
    assert frames[ana][0]["from"] == "Ana"

    aws.send(bruno, {"action": "sendPrivate", "to": "ana", "message": "psst"})
    assert {cid: texts(f) for cid, f in aws.frames().items()} == {
        ana: ["Bruno: psst"],
        bruno: ["Bruno: psst"],
    }

    aws.send(bruno, {"action": "setName", "name": "Bia"})
    assert texts(aws.frames()[ana]) == [["Ana", "Bia"], "Bruno is now Bia"]

    aws.close(bruno)
    assert {cid: texts(f) for cid, f in aws.frames().items()} == {
        ana: [["Ana"], "Bia left the chat"]
    }


def test_every_route_for_every_connection(aws: Lambda) -> None:
    ana, bruno = aws.join("Ana"), aws.join("Bruno")
    lurker = aws.connect()
    aws.frames()

    aws.send(ana, {"action": "sendPublic", "message": "one"})
    aws.send(bruno, {"action": "sendPrivate", "to": "Ana", "message": "two"})
    aws.send(ana, {"action": "sendBot", "message": "three?"})
    aws.send(lurker, {"action": "sendPublic", "message": "four"})
    aws.send(lurker, "not json")
    aws.send(lurker, {"action": "shout", "message": "five"})
    aws.send(ana, {"action": "sendPublic", "message": "six"}, binary=True)
    aws.close(bruno)
    aws.close(lurker)

    frames = {cid: texts(f) for cid, f in aws.frames().items()}
    assert frames == {
        ana: [
            "Ana: one",
            "Bruno: two",
            "bot_not_configured",
            "Ana: six",
            ["Ana"],
            "Bruno left the chat",
        ],
        bruno: ["Ana: one", "Bruno: two", "Ana: six"],
        lurker: ["not_joined", "invalid_json", "unknown_action"],
    }


def test_a_stale_connection_is_dropped_on_410_and_announced_once(aws: Lambda) -> None:
    ana, bruno, carla = aws.join("Ana"), aws.join("Bruno"), aws.join("Carla")
    aws.frames()
    aws.api.open.discard(carla)  # gone without a $disconnect, as when a client vanishes
    aws.send(ana, {"action": "sendPublic", "message": "still there?"})
    aws.send(bruno, {"action": "sendPublic", "message": "hello"})
    frames = {cid: texts(f) for cid, f in aws.frames().items()}
    assert frames == {
        ana: ["Ana: still there?", ["Ana", "Bruno"], "Carla left the chat", "Bruno: hello"],
        bruno: ["Ana: still there?", ["Ana", "Bruno"], "Carla left the chat", "Bruno: hello"],
    }
    aws.close(carla)
    assert aws.frames() == {}


def test_an_unknown_route_key_is_served_as_default(aws: Lambda) -> None:
    ana = aws.join("Ana")
    aws.frames()
    handler(events.message(ana, "sendSomething", '{"action": "sendSomething"}'), None)
    assert texts(aws.frames()[ana]) == ["unknown_action"]


def test_the_event_endpoint_is_used_without_configuration(
    aws: Lambda, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without PAPO_MANAGEMENT_ENDPOINT the handler posts to https://{domainName}/{stage}."""
    from papo.aws import wiring
    from papo.settings import Settings

    monkeypatch.delenv("PAPO_MANAGEMENT_ENDPOINT")
    settings = Settings.from_env()
    url = wiring.endpoint_url(settings, events.DOMAIN, "prod")
    assert url == f"https://{events.DOMAIN}/prod"
    delivery = wiring.delivery(settings, url)
    assert delivery.client.endpoint.url == url


class HandedOver:
    """A context carrying a Management API, as `papo serve` hands its own to the
    handlers it runs in its threads: it answers as API Gateway does."""

    def __init__(self, url: str, open_connections: set[str]) -> None:
        self.in_process_management_api = {url: self.call}
        self.open = open_connections
        self.posted: list[tuple[str, object]] = []

    def call(self, method: str, connection_id: str, body: bytes) -> tuple[int, bytes]:
        if connection_id not in self.open:
            return 410, b'{"message": null}'
        if method == "POST":
            self.posted.append((connection_id, json.loads(body)["publicMessage"]))
        return 200, b""


def test_a_management_api_handed_in_the_context_carries_the_posts(aws: Lambda) -> None:
    """Handed one for its endpoint, the handler posts through it and not over HTTP;
    one for another endpoint is not used."""
    ana, bruno = aws.join("Ana"), aws.join("Bruno")
    aws.frames()
    said = json.dumps({"action": "sendPublic", "message": "hi"})
    handed = HandedOver(aws.api.url, {ana, bruno})
    requests = aws.api.requests
    handler(events.message(ana, "sendPublic", said), handed)
    assert aws.api.requests == requests
    assert sorted(handed.posted) == sorted([(ana, "Ana: hi"), (bruno, "Ana: hi")])

    elsewhere = HandedOver("http://127.0.0.1:9/dev", {ana, bruno})
    handler(events.message(ana, "sendPublic", said), elsewhere)
    assert elsewhere.posted == []
    assert {cid: texts(frames) for cid, frames in aws.frames().items()} == {
        ana: ["Ana: hi"],
        bruno: ["Ana: hi"],
    }


def json_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The records as the handler writes them to CloudWatch."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == "papo"]


def test_logs_are_json_lines_with_route_connection_and_request(
    aws: Lambda, caplog: pytest.LogCaptureFixture
) -> None:
    ana = aws.join("Ana")
    caplog.clear()
    # A space: no random id (base64) holds the message by chance, as one held "hi".
    event = events.message(ana, "sendPublic", '{"action": "sendPublic", "message": "hi all"}')
    handler(event, None)
    lines = json_lines(caplog)
    done = [line for line in lines if line["message"] == "route done"]
    assert len(done) == 1
    assert done[0]["route"] == "sendPublic"
    assert done[0]["connection_id"] == ana
    assert done[0]["request_id"] == event["requestContext"]["requestId"]
    assert done[0]["level"] == "INFO"
    assert "hi all" not in json.dumps(done[0])


def test_a_failing_store_is_logged_and_raised(
    aws: Lambda, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PAPO_STORE", "sqlite")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("PAPO_SQLITE_PATH", str(blocker / "papo.sqlite3"))
    with pytest.raises((FileExistsError, NotADirectoryError)) as raised:
        handler(events.connect(events.connection_id()), None)
    failed = json_lines(caplog)
    assert [line["message"] for line in failed] == ["route failed"]
    assert failed[0]["level"] == "ERROR"
    assert failed[0]["exception_name"] == type(raised.value).__name__
    assert failed[0]["route"] == "$connect"
