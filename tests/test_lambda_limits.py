"""Lambda's own limits under `papo serve`: a function's Timeout and MemorySize,
kept as Lambda keeps them, and the REPORT line Lambda writes of each invocation.

Each runs as a user runs papo serve: a template's function (Timeout 2,
MemorySize 128) and a `--handler` one given the same by `--timeout` and
`--memory`, in threads mode and with worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import resource
import time
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from papo.local.config import ApiConfig, RouteTarget
from papo.local.server import Emulator
from tests.conftest import ROOT, PapoServe

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


@pytest.fixture(params=[(s, m) for s in SOURCES for m in MODES], ids="-".join)
def served(
    request: pytest.FixtureRequest, papo_serve: PapoServe, tmp_path: Path
) -> tuple[str, Path]:
    source, mode = request.param
    _, url = papo_serve(*SOURCES[source], *MODES[mode])
    return url, tmp_path / "papo-serve.log"


async def _ask(url: str, do: str) -> dict[str, Any]:
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"do": do}))
        return json.loads(await ws.recv())  # type: ignore[no-any-return]


def ask(url: str, do: str = "") -> dict[str, Any]:
    return asyncio.run(_ask(url, do))


def logged(log: Path, pattern: str, wait: bool = True) -> list[str]:
    """The log's lines that match, once one does (papo serve writes as it goes)."""
    deadline = time.monotonic() + (10 if wait else 0)
    while True:
        found = [line for line in log.read_text().splitlines() if re.search(pattern, line)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def assert_replaced(url: str, before: dict[str, Any], log: Path) -> None:
    """The container that failed is gone: a new process, its module state new,
    and an Init Duration again."""
    after = ask(url)
    assert after["pid"] != before["pid"]
    assert after["invocations"] == 1
    assert len(logged(log, r"Init Duration: ")) == 2


def test_a_handler_that_exits_its_process_fails_and_its_container_is_replaced(
    served: tuple[str, Path],
) -> None:
    url, log = served
    before = ask(url)
    failed = ask(url, "exit")
    assert failed["message"] == "Internal server error"
    assert logged(log, r"Error: Runtime exited with error: exit status 1")
    assert_replaced(url, before, log)


def test_a_handler_past_its_timeout_is_stopped_and_its_container_replaced(
    served: tuple[str, Path],
) -> None:
    url, log = served
    before = ask(url)
    failed = ask(url, "sleep")
    assert failed["message"] == "Internal server error"
    (line,) = logged(log, r"Task timed out after")
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ Task timed out after 2\.00 seconds", line
    )
    request_id = line.split()[1]
    (report,) = logged(log, rf"REPORT RequestId: {re.escape(request_id)}\t")
    assert report.endswith("\tStatus: timeout")
    assert_replaced(url, before, log)


def test_a_handler_past_its_memory_size_fails_with_lambdas_error(
    served: tuple[str, Path],
) -> None:
    url, log = served
    before = ask(url)
    failed = ask(url, "hog")
    assert failed["message"] == "Internal server error"
    (killed,) = logged(log, r"Error: Runtime exited with error: signal: killed")
    request_id = killed.split()[1]
    (report,) = logged(log, rf"REPORT RequestId: {re.escape(request_id)}\t")
    assert report.endswith("\tStatus: error\tError Type: Runtime.OutOfMemory")
    assert_replaced(url, before, log)


def test_memory_reserved_and_not_used_is_not_counted(served: tuple[str, Path]) -> None:
    """Forty threads reserve 8 MB of stack each: 320 MB that Lambda does not count
    against a MemorySize of 128, as they are never touched."""
    url, log = served
    before = ask(url)
    after = ask(url, "threads")
    assert after["pid"] == before["pid"]
    assert after["invocations"] == 2
    assert not logged(log, r"Runtime\.OutOfMemory|signal: killed", wait=False)


def test_the_remaining_time_counts_down_from_the_functions_timeout(
    served: tuple[str, Path],
) -> None:
    url, _ = served
    answer = ask(url)
    assert 0 < answer["remaining_ms"] <= 2000
    assert answer["memory_limit_in_mb"] == 128


def test_each_invocation_is_reported_as_lambda_reports_it(served: tuple[str, Path]) -> None:
    url, log = served
    ask(url)
    ask(url)
    reports = [REPORT.search(line) for line in logged(log, r"^REPORT ")]
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
