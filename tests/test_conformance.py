"""`papo conformance` against papo serve serving the echo handler's template:
every check holds; against servers that differ from API Gateway, the checks
that should fail do."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from papo.conformance.checks import CHECKS, management_url_of, region_of
from papo.local.config import ApiConfig, Limits
from papo.local.server import Emulator
from tests.conftest import ROOT, PapoServe

TEMPLATE = str(ROOT / "deploy" / "conformance.yaml")
IDLE = "an idle connection closes with 1001 at the idle timeout"


def conformance(url: str, *options: str) -> tuple[int, dict[str, str]]:
    """The exit status, and each check's result."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "papo", "conformance", url, *options],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    results = {}
    for name, _ in CHECKS:
        line = next(line for line in done.stdout.splitlines() if line.startswith(name))
        results[name] = line[len(name) :].split()[0]
    return done.returncode, results


def test_every_check_holds_against_papo_serve(papo_serve: PapoServe, aws_env: None) -> None:
    _, url = papo_serve("--template", TEMPLATE, "--idle-timeout", "3")
    status, results = conformance(url, "--idle", "3")
    assert results == {name: "held" for name, _ in CHECKS}
    assert status == 0


def test_a_stage_whose_handler_is_not_the_echo_fails_every_check_of_an_answer(
    papo_serve: PapoServe, aws_env: None
) -> None:
    # The echo's code with no $connect route and no route response: nothing comes back.
    _, url = papo_serve("--handler", "papo.conformance.echo:handler", "--route", "echo")
    status, results = conformance(url, "--wait", "1")
    limits = {
        "a frame over 32 KB closes the connection with 1009",
        "a message over 128 KB closes the connection with 1009",
    }
    failed = {name for name, result in results.items() if result == "FAILED"}
    assert failed == {name for name, _ in CHECKS} - limits - {IDLE}
    assert {results[name] for name in limits} == {"held"}
    assert results[IDLE] == "skipped"
    assert status == 1


def test_a_stage_with_other_limits_fails_the_checks_of_those_limits(aws_env: None) -> None:
    config = ApiConfig.for_handler(
        "papo.conformance.echo:handler",
        ("$connect", "$default", "echo"),
        route_responses=frozenset({"$default", "echo"}),
        limits=Limits(max_frame_bytes=64 * 1024, max_message_bytes=256 * 1024, idle_timeout_s=2),
    )
    with Emulator(config, port=0, tls_port=None).running() as api:
        status, results = conformance(api.websocket_url, "--idle", "8")
    failed = {name for name, result in results.items() if result == "FAILED"}
    assert failed == {
        "a frame over 32 KB closes the connection with 1009",
        "a message over 128 KB closes the connection with 1009",
        IDLE,
    }
    assert status == 1


@pytest.mark.parametrize(
    ("url", "management", "region"),
    [
        (
            "wss://a1b2c3.execute-api.eu-west-1.amazonaws.com/prod",
            "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/prod",
            "eu-west-1",
        ),
        ("ws://127.0.0.1:8000/dev/", "http://127.0.0.1:8000/dev", None),
    ],
)
def test_the_management_api_is_the_stages_https_address(
    url: str, management: str, region: str | None
) -> None:
    assert management_url_of(url) == management
    assert region_of(url) == region
