"""Lambda's own limits under `papo serve`: a function's Timeout and MemorySize,
kept as Lambda keeps them, and the REPORT line Lambda writes of each invocation.

Each runs as a user runs papo serve: a template's function (Timeout 2,
MemorySize 128) and a `--handler` one given the same by `--timeout` and
`--memory`, in threads mode and with worker processes. The tests of one of
those four share its papo serve, each reading the log from where it began; the
one that needs the first container of its function has its own."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from papo.local.config import ApiConfig, RouteTarget
from papo.local.server import Emulator
from tests.conftest import ROOT, PapoServe, PapoServes

LIMITS = ROOT / "tests" / "samples" / "limits"

SOURCES = {
    "template": ("--template", str(LIMITS / "template.yaml")),
    "handler": (
        "--handler",
        "tests.lambdas.limits:handler",
        "--route",
        "$connect",
        "--route",
        "$default",
        "--route-response",
        "$default",
        "--timeout",
        "2",
        "--memory",
        "128",
    ),
}
MODES = {"threads": (), "workers": ("--workers", "2")}

REPORT = re.compile(
    r"REPORT RequestId: (\S+)\tDuration: (\d+\.\d\d) ms\tBilled Duration: (\d+) ms"
    r"\tMemory Size: 128 MB\tMax Memory Used: (\d+) MB(\tInit Duration: \d+\.\d\d ms)?"
)


SERVED = [(s, m) for s in SOURCES for m in MODES]


@dataclass
class Served:
    """A papo serve that the tests of one source and mode share: each reads the
    log from where it began (`since`)."""

    url: str
    log: Path
    since: int = 0

    def logged(self, pattern: str, wait: bool = True) -> list[str]:
        return logged(self.log, pattern, wait, since=self.since)


@pytest.fixture(scope="module", params=SERVED, ids="-".join)
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    source, mode = request.param
    serves = PapoServes(tmp_path_factory.mktemp("limits") / "papo-serve.log")
    _, url = serves.start(*SOURCES[source], *MODES[mode])
    yield Served(url, serves.log_path)
    serves.stop()


@pytest.fixture
def served(shared: Served) -> Served:
    """The shared papo serve, its log read from this test on."""
    return Served(shared.url, shared.log, shared.log.stat().st_size)


@pytest.fixture(params=SERVED, ids="-".join)
def served_alone(request: pytest.FixtureRequest, papo_serve: PapoServe, tmp_path: Path) -> Served:
    """A papo serve of the test's own, for a test that needs its first container."""
    source, mode = request.param
    _, url = papo_serve(*SOURCES[source], *MODES[mode])
    return Served(url, tmp_path / "papo-serve.log")


async def _ask(url: str, do: str) -> dict[str, Any]:
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"do": do}))
        return json.loads(await ws.recv())  # type: ignore[no-any-return]


def ask(url: str, do: str = "") -> dict[str, Any]:
    return asyncio.run(_ask(url, do))


def logged(log: Path, pattern: str, wait: bool = True, since: int = 0) -> list[str]:
    """The log's lines from byte `since` on that match, once one does (papo serve
    writes as it goes)."""
    deadline = time.monotonic() + (10 if wait else 0)
    while True:
        with log.open("rb") as opened:
            opened.seek(since)
            lines = opened.read().decode().splitlines()
        found = [line for line in lines if re.search(pattern, line)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def assert_replaced(served: Served, before: dict[str, Any]) -> None:
    """The container that failed is gone: a new process, its module state new,
    and an Init Duration again."""
    after = ask(served.url)
    assert after["pid"] != before["pid"]
    assert after["invocations"] == 1
    started = 2 if before["invocations"] == 1 else 1  # the failed one, if new in this test
    assert len(served.logged(r"Init Duration: ")) == started


def test_a_handler_that_exits_its_process_fails_and_its_container_is_replaced(
    served: Served,
) -> None:
    before = ask(served.url)
    failed = ask(served.url, "exit")
    assert failed["message"] == "Internal server error"
    assert served.logged(r"Error: Runtime exited with error: exit status 1")
    assert_replaced(served, before)


def test_a_handler_past_its_timeout_is_stopped_and_its_container_replaced(
    served: Served,
) -> None:
    before = ask(served.url)
    failed = ask(served.url, "sleep")
    assert failed["message"] == "Internal server error"
    (line,) = served.logged(r"Task timed out after")
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ Task timed out after 2\.00 seconds", line
    )
    request_id = line.split()[1]
    (report,) = served.logged(rf"REPORT RequestId: {re.escape(request_id)}\t")
    assert report.endswith("\tStatus: timeout")
    assert_replaced(served, before)


def test_a_handler_past_its_memory_size_fails_with_lambdas_error(
    served: Served,
) -> None:
    before = ask(served.url)
    failed = ask(served.url, "hog")
    assert failed["message"] == "Internal server error"
    (killed,) = served.logged(r"Error: Runtime exited with error: signal: killed")
    request_id = killed.split()[1]
    (report,) = served.logged(rf"REPORT RequestId: {re.escape(request_id)}\t")
    assert report.endswith("\tStatus: error\tError Type: Runtime.OutOfMemory")
    assert_replaced(served, before)


def test_memory_reserved_and_not_used_is_not_counted(served: Served) -> None:
    """Forty threads reserve 8 MB of stack each: 320 MB that Lambda does not count
    against a MemorySize of 128, as they are never touched."""
    before = ask(served.url)
    after = ask(served.url, "threads")
    assert after["pid"] == before["pid"]
    assert after["invocations"] == before["invocations"] + 1
    assert not served.logged(r"Runtime\.OutOfMemory|signal: killed", wait=False)


def test_the_remaining_time_counts_down_from_the_functions_timeout(
    served: Served,
) -> None:
    answer = ask(served.url)
    assert 0 < answer["remaining_ms"] <= 2000
    assert answer["memory_limit_in_mb"] == 128


def test_each_invocation_is_reported_as_lambda_reports_it(served_alone: Served) -> None:
    ask(served_alone.url)
    ask(served_alone.url)
    reports = [REPORT.search(line) for line in served_alone.logged(r"^REPORT ")]
    assert len(reports) == 4  # two connections, each its $connect and its message, one container
    first, *others = reports
    assert first is not None
    assert first[5] is not None  # the container's cold start
    for report in reports:
        assert report is not None
        assert int(report[3]) >= float(report[2])  # rounded up, the init in it
        assert int(report[4]) > 0
    assert all(report is not None and report[5] is None for report in others)


def test_a_function_logging_json_writes_lambdas_platform_report(
    papo_serve: PapoServe, tmp_path: Path
) -> None:
    _, url = papo_serve(
        "--template", str(LIMITS / "template.yaml"), "--parameter", "LogFormat=JSON"
    )
    ask(url)
    reports = [
        json.loads(line) for line in logged(tmp_path / "papo-serve.log", r"platform\.report")
    ]
    assert reports
    record = reports[0]["record"]
    assert record["status"] == "success"
    metrics = record["metrics"]
    assert metrics["memorySizeMB"] == 128
    assert metrics["billedDurationMs"] >= metrics["durationMs"]
    assert metrics["maxMemoryUsedMB"] > 0
    assert "initDurationMs" in metrics
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", reports[0]["time"])


def test_a_connect_past_its_timeout_refuses_the_handshake_with_502(papo_serve: PapoServe) -> None:
    _, url = papo_serve("--template", str(LIMITS / "template.yaml"))
    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(websockets.connect(url + "?sleep=5").__aenter__())
    assert refused.value.response.status_code == 502


def test_a_function_outlasting_the_integration_timeout_runs_in_threads_and_is_reported(
    papo_serve: PapoServe, tmp_path: Path
) -> None:
    handler = SOURCES["handler"][: SOURCES["handler"].index("--timeout")]
    process, url = papo_serve(*handler, "--timeout", "60")
    answer = ask(url)
    assert 58_000 < answer["remaining_ms"] <= 60_000
    assert answer["pid"] == process.pid
    log = tmp_path / "papo-serve.log"
    assert len(logged(log, r"^REPORT .*Memory Size: 128 MB\tMax Memory Used: \d+ MB")) == 2


def test_a_container_answers_in_a_server_holding_many_descriptors() -> None:
    """A server holding over a thousand connections hands out descriptors past
    1023, which `select` cannot wait on: a container's answer is waited for by
    `poll`, as the Timeout and the memory watch need."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1500:
        pytest.skip(f"this machine lets a process open {hard} files at most")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1500), hard))
    target = RouteTarget("tests.lambdas.limits:handler", code_dir=str(ROOT), timeout_s=2)
    config = ApiConfig.for_handler(
        target, ("$connect", "$default"), route_responses=frozenset({"$default"})
    )
    with contextlib.ExitStack() as held:
        for _ in range(1100 - len(os.listdir("/proc/self/fd"))):
            held.enter_context(open(os.devnull))
        with Emulator(config, port=0, tls_port=0).running() as api:
            assert ask(api.websocket_url)["invocations"] == 1
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
