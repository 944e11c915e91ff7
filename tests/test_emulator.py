"""The emulator against its promises about API Gateway (docs/promises.md), each
test named by its promise's number there, over real WebSockets and boto3; the
handler is a third-party-style probe (tests/lambdas/probe.py)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from papo.adapters.delivery.management_api import (
    Endpoint,
    GoneError,
    ManagementApiClient,
    ManagementApiError,
)
from papo.local.config import ApiConfig
from papo.local.server import Emulator
from tests.emulation import PROBE, PROBE_ROUTES, emulator, probe_log

ID = r"[A-Za-z0-9+/]{15}="
TIME = r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000"
ERROR_FRAME = re.compile(
    r'\{"message": "(?P<message>[^"]+)", "connectionId":"(?P<cid>' + ID + r')", '
    r'"requestId":"(?P<rid>' + ID + r')"\}'
)


@pytest.fixture
def log_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "probe.jsonl"
    monkeypatch.setenv("PROBE_LOG", str(path))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return path


@pytest.fixture
def api(log_path: Path) -> Iterator[Emulator]:
    with emulator(integration_timeout_s=10.0) as running:
        yield running


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 20))


async def ask(ws: ClientConnection, command: dict[str, Any] | str) -> Any:
    await ws.send(command if isinstance(command, str) else json.dumps(command))
    return json.loads(await ws.recv())


def management(api: Emulator) -> Any:
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url=api.management_url, region_name="us-east-1"
    )


# Routing: promises 1-4


def test_1_routes_match_exactly_case_included(api: Emulator) -> None:
    async def scenario() -> None:
        async with connect(api.websocket_url) as ws:
            assert (await ask(ws, {"action": "sendMessage"}))["route"] == "sendMessage"
            assert (await ask(ws, {"action": "sendmessage"}))["route"] == "$default"

    run(scenario())


def test_2_unroutable_frames_go_to_default(api: Emulator) -> None:
    async def scenario() -> None:
        async with connect(api.websocket_url) as ws:
            for frame in ("not json", '{"no": "action"}', '{"action": "nope"}', "[1]"):
                answer = await ask(ws, frame)
                assert answer["route"] == "$default"
                assert answer["event"]["body"] == frame

    run(scenario())


def test_2_without_default_the_client_gets_forbidden(log_path: Path) -> None:
    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url) as ws:
            await ws.send('{"action": "unknown"}')
            found = ERROR_FRAME.fullmatch(str(await ws.recv()))
            assert found is not None
            assert found["message"] == "Forbidden"
            assert (await ask(ws, {"action": "sendMessage"}))["route"] == "sendMessage"

    with emulator(routes=("$connect", "sendMessage")) as api:
        run(scenario(api))


def test_3_connect_and_disconnect_ignore_the_selection_expression(
    api: Emulator, log_path: Path
) -> None:
    async def scenario() -> None:
        async with connect(api.websocket_url) as ws:
            assert (await ask(ws, {"action": "$connect"}))["route"] == "$default"
            assert (await ask(ws, {"action": "$disconnect"}))["route"] == "$default"

    run(scenario())
    routes = [e["event"]["requestContext"]["routeKey"] for e in probe_log(log_path, 2)]
    assert routes == ["$connect", "$disconnect"]


def test_4_the_upgrade_waits_for_connect(log_path: Path) -> None:
    async def scenario(api: Emulator) -> None:
        opening = asyncio.create_task(connect(f"{api.websocket_url}?sleep=3").__aenter__())
        entries = await asyncio.to_thread(probe_log, log_path, 1)
        assert len(entries) == 1  # $connect is running
        assert not opening.done()
        ws = await opening
        assert (await ask(ws, {"action": "sendMessage"}))["route"] == "sendMessage"
        await ws.close()

    with emulator() as api:
        run(scenario(api))


# The handshake and the close: promises 5-8


@pytest.mark.parametrize(
    ("query", "status"),
    [("status=401", 401), ("status=403", 403), ("raise=1", 502), ("sleep=2.5", 502)],
)
def test_5_connect_refusals(log_path: Path, query: str, status: int) -> None:
    async def scenario(api: Emulator) -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{api.websocket_url}?{query}"):
                pass
        assert refused.value.response.status_code == status

    timeout = 1.0 if query.startswith("sleep=") else 10.0  # sleep=2.5: past the timeout
    with emulator(integration_timeout_s=timeout) as api:
        run(scenario(api))


def test_5_without_a_connect_route_every_connection_is_accepted(log_path: Path) -> None:
    async def scenario(api: Emulator) -> None:
        async with connect(f"{api.websocket_url}?status=500") as ws:
            assert (await ask(ws, "hi"))["route"] == "$default"

    with emulator(routes=("$default",)) as api:
        run(scenario(api))
    assert probe_log(log_path) == []


def test_6_connect_echoes_the_subprotocol(api: Emulator, log_path: Path) -> None:
    async def scenario() -> None:
        async with connect(
            f"{api.websocket_url}?echo_protocol=1",
            subprotocols=[Subprotocol("chat.v2"), Subprotocol("chat.v1")],
        ) as ws:
            assert ws.subprotocol == "chat.v2"

    run(scenario())
    headers = probe_log(log_path)[0]["event"]["headers"]
    assert headers["Sec-WebSocket-Protocol"] == "chat.v2, chat.v1"


def test_7_a_post_from_inside_connect_is_gone(api: Emulator, log_path: Path) -> None:
    async def scenario() -> None:
        async with connect(f"{api.websocket_url}?post_self=1") as ws:
            assert (await ask(ws, {"action": "sendMessage"}))["route"] == "sendMessage"

    run(scenario())
    assert {"post_self": "gone"} in probe_log(log_path)


def test_8_disconnect_runs_after_the_close_with_code_and_reason(
    api: Emulator, log_path: Path
) -> None:
    async def scenario() -> str:
        async with connect(api.websocket_url) as ws:
            cid = (await ask(ws, "hi"))["event"]["requestContext"]["connectionId"]
            await ws.close(4000, "bye now")
        return str(cid)

    cid = run(scenario())
    event = probe_log(log_path, 2)[-1]["event"]
    context = event["requestContext"]
    assert (context["routeKey"], context["eventType"]) == ("$disconnect", "DISCONNECT")
    assert context["connectionId"] == cid
    assert (context["disconnectStatusCode"], context["disconnectReason"]) == (4000, "bye now")
    with pytest.raises(management(api).exceptions.GoneException):
        management(api).post_to_connection(ConnectionId=cid, Data=b"too late")


# Errors a client sees: promises 9-11


def test_9_a_raising_route_gets_internal_server_error(
    api: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    async def scenario() -> str:
        async with connect(api.websocket_url) as ws:
            cid = (await ask(ws, "hi"))["event"]["requestContext"]["connectionId"]
            await ws.send('{"do": "raise"}')
            found = ERROR_FRAME.fullmatch(str(await ws.recv()))
            assert found is not None
            assert found["message"] == "Internal server error"
            assert found["cid"] == cid
            assert (await ask(ws, "still open"))["route"] == "$default"
            return str(found["rid"])

    request_id = run(scenario())
    lines = [line for line in capsys.readouterr().err.splitlines() if request_id in line]
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    errors = [line for line in lines if line.startswith("[ERROR]")]
    assert errors[0] == f"[ERROR]\t{request_id}\tTraceback (most recent call last):"
    assert errors[-1] == f"[ERROR]\t{request_id}\tValueError: the probe was told to fail"
    assert lines[-1].startswith(f"REPORT RequestId: {request_id}\tDuration: ")


def test_10_a_slow_route_times_out_but_runs_to_its_end(log_path: Path) -> None:
    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url) as ws:
            await ws.send('{"do": "sleep", "seconds": 3}')
            found = ERROR_FRAME.fullmatch(str(await ws.recv()))
            assert found is not None
            assert found["message"] == "Endpoint request timed out"
            finished = json.loads(await ws.recv())
            assert finished["do"] == "sleep"
            assert finished["event"]["requestContext"]["requestId"] == found["rid"]

    with emulator(integration_timeout_s=1.0) as api:
        run(scenario(api))


def test_11_a_returned_status_sends_nothing_back(api: Emulator) -> None:
    async def scenario() -> None:
        async with connect(api.websocket_url) as ws:
            await ws.send('{"do": "status", "status": 500}')
            await ws.send('{"do": "status", "status": 200}')
            await asyncio.sleep(0.3)
            assert (await ask(ws, "after"))["event"]["body"] == "after"

    run(scenario())


def test_11_with_a_route_response_the_body_is_sent(log_path: Path) -> None:
    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url) as ws:
            await ws.send('{"action": "sendMessage", "do": "status", "status": 500}')
            assert await ws.recv() == "a body nobody sees"
            await ws.send('{"do": "status", "status": 200}')  # $default: no route response
            assert (await ask(ws, "after"))["event"]["body"] == "after"

    with emulator(route_responses=frozenset({"sendMessage"})) as api:
        run(scenario(api))


# Limits: promises 12-14


async def closing_code(ws: ClientConnection) -> tuple[int, str]:
    """The code and reason of the close frame the server sends next."""
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def test_12_a_message_over_the_limit_closes_with_1009(log_path: Path) -> None:
    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url, max_size=None) as ws:
            assert (await ask(ws, "x" * 1000))["route"] == "$default"
            await ws.send("x" * 2049)
            code, _ = await closing_code(ws)
            assert code == 1009

    with emulator(max_message_bytes=2048, max_frame_bytes=1024) as api:
        run(scenario(api))


def test_12_a_frame_over_the_limit_closes_with_1009_fragments_do_not(log_path: Path) -> None:
    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url) as ws:
            await ws.send(["x" * 1000, "y" * 1000])  # one message of two 1,000-byte frames
            answer = json.loads(await ws.recv())
            assert answer["event"]["body"] == "x" * 1000 + "y" * 1000
        async with connect(api.websocket_url) as ws:
            await ws.send("z" * 1500)
            code, _ = await closing_code(ws)
            assert code == 1009

    with emulator(max_message_bytes=4096, max_frame_bytes=1024) as api:
        run(scenario(api))


def test_12_a_post_over_the_limit_is_refused(log_path: Path) -> None:
    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url) as ws:
            cid = (await ask(ws, "hi"))["event"]["requestContext"]["connectionId"]
            client = management(api)
            with pytest.raises(client.exceptions.PayloadTooLargeException):
                await asyncio.to_thread(
                    client.post_to_connection, ConnectionId=cid, Data=b"x" * 2049
                )
            await asyncio.to_thread(client.post_to_connection, ConnectionId=cid, Data=b"y" * 2048)
            assert await ws.recv() == "y" * 2048

    with emulator(max_message_bytes=2048, max_frame_bytes=1024) as api:
        run(scenario(api))


def test_13_idle_connections_close_with_1001_pings_do_not_count(log_path: Path) -> None:
    async def scenario(api: Emulator) -> None:
        started = time.monotonic()
        async with connect(api.websocket_url, ping_interval=0.2, ping_timeout=5) as ws:
            assert await closing_code(ws) == (1001, "Going away")
        assert time.monotonic() - started >= 0.9

    with emulator(idle_timeout_s=1.0) as api:
        run(scenario(api))


async def keep_busy(ws: ClientConnection) -> None:
    while True:
        await ask(ws, "busy")
        await asyncio.sleep(0.1)


def test_13_connections_close_at_their_maximum_duration(log_path: Path) -> None:
    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await keep_busy(ws)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1001, "Going away")

    with emulator(idle_timeout_s=1.0, max_connection_duration_s=1.5) as api:
        run(scenario(api))
    disconnect = probe_log(log_path)[-1]["event"]["requestContext"]
    assert disconnect["disconnectStatusCode"] == 1001


# The event: promises 15-16


def test_15_16_event_shapes(api: Emulator, log_path: Path) -> None:
    async def scenario() -> dict[str, Any]:
        url = f"{api.websocket_url}?room=main&tag=a&tag=b"
        async with connect(url, user_agent_header="papo-probe/1.0") as ws:
            text = await ask(ws, {"action": "sendMessage", "n": 1})
            await ws.send(b"\x00\x01binary")
            binary = json.loads(await ws.recv())
        return {"text": text["event"], "binary": binary["event"]}

    seen = run(scenario())
    connect_event, disconnect_event = (e["event"] for e in probe_log(log_path, 2))
    for event, route, kind in (
        (connect_event, "$connect", "CONNECT"),
        (seen["text"], "sendMessage", "MESSAGE"),
        (disconnect_event, "$disconnect", "DISCONNECT"),
    ):
        context = event["requestContext"]
        assert (context["routeKey"], context["eventType"]) == (route, kind)
        assert context["messageDirection"] == "IN"
        assert re.fullmatch(ID, context["connectionId"])
        assert re.fullmatch(ID, context["requestId"])
        assert context["extendedRequestId"]
        assert re.fullmatch(TIME, context["requestTime"])
        assert context["requestTimeEpoch"] >= context["connectedAt"] > 1.7e12
        assert context["stage"] == "dev"
        assert context["domainName"] == f"127.0.0.1:{api.port}"
        assert context["apiId"]
        assert context["identity"]["sourceIp"] == "127.0.0.1"
        assert context["identity"]["userAgent"] == "papo-probe/1.0"
        assert ("messageId" in context) is (kind == "MESSAGE")
    assert connect_event["queryStringParameters"] == {"room": "main", "tag": "b"}
    assert connect_event["multiValueQueryStringParameters"] == {"room": ["main"], "tag": ["a", "b"]}
    assert connect_event["headers"]["User-Agent"] == "papo-probe/1.0"
    assert connect_event["multiValueHeaders"]["User-Agent"] == ["papo-probe/1.0"]
    assert connect_event["headers"]["Sec-WebSocket-Version"] == "13"
    assert seen["text"]["body"] == '{"action": "sendMessage", "n": 1}'
    assert seen["text"]["isBase64Encoded"] is False
    assert seen["binary"]["isBase64Encoded"] is True
    assert base64.b64decode(seen["binary"]["body"]) == b"\x00\x01binary"
    assert seen["binary"]["requestContext"]["routeKey"] == "$default"


# The Management API: promise 17


def test_17_post_get_delete_and_gone_through_boto3(api: Emulator) -> None:
    async def scenario() -> None:
        client = management(api)
        async with connect(api.websocket_url, user_agent_header="ua/1") as ws:
            cid = (await ask(ws, "hi"))["event"]["requestContext"]["connectionId"]
            await asyncio.to_thread(
                client.post_to_connection, ConnectionId=cid, Data="olá".encode()
            )
            assert await ws.recv() == "olá"
            info = await asyncio.to_thread(client.get_connection, ConnectionId=cid)
            assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "ua/1"}
            assert info["LastActiveAt"] >= info["ConnectedAt"]
            deleted = await asyncio.to_thread(client.delete_connection, ConnectionId=cid)
            assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            for call in (
                lambda: client.post_to_connection(ConnectionId=cid, Data=b"x"),
                lambda: client.get_connection(ConnectionId=cid),
                lambda: client.delete_connection(ConnectionId="VNRUSeldSwMCIRQ="),
            ):
                with pytest.raises(client.exceptions.GoneException):
                    await asyncio.to_thread(call)

    run(scenario())


def test_17_a_handler_posts_to_another_connection(api: Emulator) -> None:
    async def scenario() -> None:
        async with connect(api.websocket_url) as a, connect(api.websocket_url) as b:
            bid = (await ask(b, "hi"))["event"]["requestContext"]["connectionId"]
            await a.send(json.dumps({"do": "post", "to": bid, "data": "psst"}))
            assert await b.recv() == "psst"
            await a.send(json.dumps({"do": "kick", "who": bid}))
            with pytest.raises(ConnectionClosed):
                await b.recv()
            await a.send(json.dumps({"do": "post", "to": bid, "data": "again?"}))
            assert await a.recv() == "gone"

    run(scenario())


# Separate containers: promise 19


@pytest.mark.parametrize(("workers", "shared"), [(0, True), (2, False)])
def test_19_module_globals_are_not_shared_between_workers(
    log_path: Path, workers: int, shared: bool
) -> None:
    async def scenario(api: Emulator) -> list[int]:
        async with connect(api.websocket_url) as ws:
            for _ in range(12):
                await ws.send("count")
            return sorted([int(await ws.recv()) for _ in range(12)])

    with emulator("tests.lambdas.counter:handler", ("$default",), workers=workers) as api:
        counts = run(scenario(api))
    assert (counts == list(range(1, 13))) is shared


def test_19_each_emulator_starts_its_functions_cold(log_path: Path) -> None:
    """A new emulator in the same process imports its handlers anew, as a new
    deployment starts new containers: no module global survives from the last."""

    async def scenario(api: Emulator) -> list[int]:
        async with connect(api.websocket_url) as ws:
            for _ in range(3):
                await ws.send("count")
            return sorted([int(await ws.recv()) for _ in range(3)])

    for _ in range(2):
        with emulator("tests.lambdas.counter:handler", ("$default",)) as api:
            assert run(scenario(api)) == [1, 2, 3]


# A handler's own client: promise 18


def test_18_a_handler_building_https_from_its_event_works_unmodified(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe builds `https://{domainName}/{stage}` as AWS's examples do."""
    monkeypatch.setenv("PROBE_SCHEME", "https")
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)

    async def scenario(api: Emulator) -> None:
        async with connect(api.websocket_url) as a, connect(api.websocket_url) as b:
            await b.send(json.dumps({"do": "info"}))
            info = json.loads(await b.recv())
            assert info["Identity"]["SourceIp"] == "127.0.0.1"
            await a.send(json.dumps({"do": "echo"}))
            echoed = json.loads(await a.recv())
            context = echoed["event"]["requestContext"]
            assert context["domainName"] == f"127.0.0.1:{api.tls_port}"

    with emulator(tls_port=0) as api:
        assert api.tls_port
        assert os.environ["AWS_CA_BUNDLE"] == str(api.tls.ca_bundle if api.tls else None)
        run(scenario(api))
    assert "AWS_CA_BUNDLE" not in os.environ  # the server's own environment is given back


def test_17_posts_racing_a_closing_client_are_gone_never_an_error(api: Emulator) -> None:
    """A client that closes while the handler still posts: 200 or 410, as on AWS."""

    async def scenario() -> set[int]:
        statuses: set[int] = set()
        for _ in range(5):
            ws = await connect(api.websocket_url)
            cid = (await ask(ws, "hi"))["event"]["requestContext"]["connectionId"]
            url = f"{api.management_url}/@connections/{cid}"
            posts = asyncio.gather(*(asyncio.to_thread(post_status, url) for _ in range(20)))
            answers, _ = await asyncio.gather(posts, ws.close())
            statuses.update(answers)
        return statuses

    statuses = run(scenario())
    assert statuses <= {200, 410}, statuses


def post_status(url: str) -> int:
    headers = {"Content-Type": "application/octet-stream"}  # urllib's own is a form's
    request = urllib.request.Request(url, data=b"late", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


# The in-process Management API, handed to handlers in the emulator's threads


def outcomes(client: ManagementApiClient, ws_url: str) -> list[object]:
    """What a client sees of one script of calls: posts in order, a GET, a post
    too big, a DELETE, and posts to connections that are gone."""

    async def scenario() -> list[object]:
        seen: list[object] = []
        async with connect(ws_url) as ws:
            cid = (await ask(ws, "hi"))["event"]["requestContext"]["connectionId"]

            def post_many() -> None:
                for n in range(200):
                    client.post(cid, str(n).encode())

            await asyncio.to_thread(post_many)
            seen.append([await ws.recv() for _ in range(200)])
            info = json.loads(await asyncio.to_thread(client.get, cid))
            seen.append((sorted(info), info["identity"]))
            calls: list[Callable[[], object]] = [
                lambda: client.post(cid, b"x" * 2049),
                lambda: client.delete(cid),
                lambda: client.post(cid, b"late"),
                lambda: client.get(cid),
                lambda: client.delete(cid),
                lambda: client.post("AAAAAAAAAAAAAAA=", b"nobody"),
            ]
            for call in calls:
                try:
                    await asyncio.to_thread(call)
                    seen.append("ok")
                except GoneError:
                    seen.append(410)
                except ManagementApiError as error:
                    seen.append(error.status)
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        return seen

    return run(scenario())  # type: ignore[no-any-return]


def test_the_in_process_management_api_answers_as_over_http(log_path: Path) -> None:
    """What the emulator hands its handlers in threads answers every call as its
    HTTP endpoint does: statuses, 410 for gone connections, and posts in order."""
    with emulator(max_message_bytes=2048, max_frame_bytes=2048) as api:
        endpoint = Endpoint.parse(api.management_url)
        in_process = ManagementApiClient(
            endpoint, None, transport=api.in_process_management_api[api.management_url]
        )
        over_http = ManagementApiClient(endpoint, None)
        seen = outcomes(in_process, api.websocket_url)
        assert seen == outcomes(over_http, api.websocket_url)
    assert seen[0] == [str(n) for n in range(200)]
    assert seen[2:] == [413, "ok", 410, 410, 410, 410]
    assert api.in_process_management_api == {}  # nothing is served once it stopped


def test_a_client_slow_to_read_holds_up_nobody(log_path: Path) -> None:
    """Frames to a client that does not read wait for it, in the order posted,
    while the others' go out at once."""

    async def scenario(api: Emulator) -> None:
        transport = api.in_process_management_api[api.management_url]
        client = ManagementApiClient(Endpoint.parse(api.management_url), None, transport=transport)
        async with (
            connect(api.websocket_url, max_queue=1) as slow,
            connect(api.websocket_url) as quick,
        ):
            slow_id = (await ask(slow, "hi"))["event"]["requestContext"]["connectionId"]
            quick_id = (await ask(quick, "hi"))["event"]["requestContext"]["connectionId"]
            numbers = [f"{n:04d}" for n in range(300)]

            def post() -> None:
                for number in numbers:  # some 9 MB, more than the sockets' buffers hold
                    client.post(slow_id, number.encode() + b"x" * 30_000)
                client.post(quick_id, b"meanwhile")

            await asyncio.to_thread(post)
            assert await quick.recv() == "meanwhile"
            assert [(await slow.recv())[:4] for _ in numbers] == numbers

    with emulator() as api:
        run(scenario(api))


def test_posts_from_many_threads_at_once_all_arrive_each_threads_in_order(log_path: Path) -> None:
    async def scenario(api: Emulator) -> None:
        transport = api.in_process_management_api[api.management_url]
        client = ManagementApiClient(Endpoint.parse(api.management_url), None, transport=transport)
        async with connect(api.websocket_url, max_queue=None) as ws:
            cid = (await ask(ws, "hi"))["event"]["requestContext"]["connectionId"]

            def post(thread: int) -> None:
                for n in range(500):
                    client.post(cid, f"{thread} {n}".encode())

            with ThreadPoolExecutor(8) as pool:
                await asyncio.gather(
                    *(asyncio.get_running_loop().run_in_executor(pool, post, t) for t in range(8))
                )
            received = [str(await ws.recv()).split() for _ in range(8 * 500)]
            for thread in range(8):
                assert [int(n) for t, n in received if t == str(thread)] == list(range(500))

    with emulator() as api:
        run(scenario(api))


@pytest.mark.parametrize(("workers", "handed"), [(0, True), (2, False)])
def test_handlers_in_threads_get_the_management_api_in_their_context(
    log_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int, handed: bool
) -> None:
    """In the emulator's threads the context carries its Management API under
    each of its URLs; in worker processes, which stand for Lambda's containers,
    it carries none, and handlers post over HTTP as on AWS."""

    async def scenario(api: Emulator) -> Any:
        async with connect(api.websocket_url) as ws:
            return (await ask(ws, {"do": "context"}))["in_process_management_api"]

    monkeypatch.setenv("PROBE_SCHEME", "https")
    with emulator(workers=workers, tls_port=0) as api:
        urls = run(scenario(api))
        assert urls == (sorted(api.management_urls) if handed else [])


def test_the_production_client_knows_nothing_of_an_emulator_beside_it(log_path: Path) -> None:
    """A client handed no transport goes over HTTP, even to an emulator serving in
    this very process: unsigned, it is refused there as anywhere."""
    config = ApiConfig.for_handler(PROBE, PROBE_ROUTES)
    with Emulator(config, port=0, require_signatures=True).running() as api:
        client = ManagementApiClient(Endpoint.parse(api.management_url), None)
        with pytest.raises(ManagementApiError) as refused:
            client.post("AAAAAAAAAAAAAAA=", b"unsigned")
        assert refused.value.status == 403


def test_workers_take_nothing_of_another_emulators_handlers_in_threads() -> None:
    """Handlers in threads hold their variables in this process's environment
    while their emulator serves; an emulator whose handlers run in worker
    processes, started meanwhile, gives its workers the environment without
    them (its own variables, and the process's as it was)."""

    async def seen(api: Emulator) -> dict[str, str]:
        async with connect(api.websocket_url) as ws:
            await ws.send("what do you see?")
            environment: dict[str, str] = json.loads(await asyncio.wait_for(ws.recv(), 30))
            return environment

    handler, routes = "tests.lambdas.environment:handler", ("$default",)
    threads = {"PAPO_ONLY_IN_THREADS": "1", "PAPO_BOTH": "threads"}
    with emulator(handler, routes, environment=threads, tls_port=0) as in_threads:
        assert asyncio.run(seen(in_threads))["PAPO_ONLY_IN_THREADS"] == "1"
        workers = {"PAPO_BOTH": "workers"}
        with emulator(handler, routes, environment=workers, workers=1, tls_port=0) as apart:
            environment = asyncio.run(seen(apart))
    assert "PAPO_ONLY_IN_THREADS" not in environment
    assert environment["PAPO_BOTH"] == "workers"
    assert "PAPO_ONLY_IN_THREADS" not in os.environ
