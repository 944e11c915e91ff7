from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from hypothesis import settings
from playwright.sync_api import Browser

from papo.adapters.store.dynamodb import DynamoDbStore
from papo.adapters.store.dynamodb_table import create_table
from papo.adapters.store.sqlite import SqliteStore
from papo.core.ports import Store
from papo.local.runtime import environment_without_runtimes
from tests.browser import Browsers
from tests.fake_openai import FakeOpenAi
from tests.moto_server import SerialMotoServer
from tests.served import SharedEmulators

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(autouse=True)
def no_bot_settings_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own OpenAI key or bot settings never reach a test."""
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "PAPO_BOT_", "PAPO_OPENAI_", "AWS_ENDPOINT_URL")):
            monkeypatch.delenv(name)


@pytest.fixture
def fake() -> Iterator[FakeOpenAi]:
    """A local OpenAI-compatible server, for the bot."""
    with FakeOpenAi().running() as server:
        yield server


@pytest.fixture(scope="session")
def browsers() -> Iterator[Browsers]:
    held = Browsers()
    yield held
    held.close()


@pytest.fixture(autouse=True)
def browser_only_where_used(browsers: Browsers, request: pytest.FixtureRequest) -> None:
    """A test that does not use the browser runs without it (see `tests.browser`)."""
    if "browser" not in request.fixturenames:
        browsers.close()


@pytest.fixture
def browser(browsers: Browsers, request: pytest.FixtureRequest) -> Browser:
    """Chromium, shared with the tests of the page that ran just before; each page
    in a context of its own. The headless shell, or `chromium` for a test marked
    `full_chromium` (see `tests.browser`)."""
    return browsers.get(full=request.node.get_closest_marker("full_chromium") is not None)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """AWS services through moto's server mode, on a free loopback port."""
    server = SerialMotoServer()
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def shared_emulators(
    tmp_path_factory: pytest.TempPathFactory, moto_url: str
) -> Iterator[SharedEmulators]:
    """The emulators `serve` shares, for this session (each xdist worker has its own);
    moto's server outlives them, as their handlers may still reach it as they stop."""
    emulators = SharedEmulators(tmp_path_factory.mktemp("served"), moto_url)
    yield emulators
    emulators.close()


@pytest.fixture(scope="module")
def threads_end_with_module(shared_emulators: SharedEmulators) -> Iterator[None]:
    """A shared emulator running handlers in this process's threads stops with the
    module that used it: its environment is this process's while it runs."""
    yield
    shared_emulators.end_of_module()


LONGEST_FIRST = (
    "test_artifact.py",
    "test_rooms.py",
    "test_order_and_resume.py",
    "test_web.py",
    "test_hostile_input.py",
    "test_web_presence.py",
    "test_web_bot.py",
    "test_web_edits.py",
    "test_node_functions.py",
    "test_bot_participant.py",
    "test_web_access.py",
    "test_bot.py",
    "test_web_reconnect.py",
    "test_fanout_faults.py",
    "test_what_shows.py",
    "test_cli.py",
    "test_lambda_limits.py",
    "test_emulator.py",
    "test_store_contract.py",
    "test_web_rooms.py",
    "test_web_long_room.py",
    "test_lines.py",
    "test_template.py",
    "test_conformance.py",
    "test_node_faults.py",
    "test_access_served.py",
    "test_store_log_and_counters.py",
    "test_chalice.py",
    "test_fuzz_frames.py",
    "test_edits_served.py",
    "test_authorizers.py",
    "test_access.py",
    "test_wheel.py",
    "test_mock.py",
    "test_reload.py",
    "test_runtime_boto3.py",
)
"""The modules that take longest, longest first, as measured with the whole suite
(`docs/contributing-tests.md`): `make test` runs each module in one process
(`--dist loadfile`), in this order (`--no-loadscope-reorder`, else xdist starts
the modules with the most tests first), so that shorter ones fill in around them
rather than a long one starting last."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first (`LONGEST_FIRST`); within each module, the tests
    that `serve` in one mode on one store run one after another, so that they
    share its emulator (`SharedEmulators`); the order is kept otherwise."""

    def served_as(item: pytest.Item) -> tuple[int, str]:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "serve" not in callspec.params:
            return (-1, "")
        return (callspec.params["serve"], str(callspec.params.get("store_kind")))

    def module_of(item: pytest.Item) -> str:
        return item.nodeid.partition("::")[0]

    modules: dict[str, int] = {}
    for item in items:
        modules.setdefault(module_of(item), len(modules))
    order = {id(item): n for n, item in enumerate(items)}

    def position(item: pytest.Item) -> tuple[int, int, tuple[int, str], int]:
        name = module_of(item).rpartition("/")[2]
        first = LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
        return (first, modules[module_of(item)], served_as(item), order[id(item)])

    items.sort(key=position)


@pytest.fixture
def no_pyenv_pythons(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyenv's versions out of sight (an empty PYENV_ROOT): a template's `Runtime:
    python3.12` is found only on PATH, so the samples' functions run, where PATH has
    none, on papo serve's own Python with the packages of papo's environment
    (Chalice, boto3), which a bare pyenv Python lacks."""
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path_factory.getbasetemp() / "no-pyenv"))


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDPAPOTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "papo-test-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "papo-test-token")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def dynamodb_table(moto_url: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_url)
    table = f"papo-{uuid.uuid4().hex[:8]}"
    create_table(boto3.client("dynamodb", endpoint_url=moto_url), table)
    return table


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def store(store_kind: str, request: pytest.FixtureRequest, tmp_path: object) -> Store:
    stores: Callable[[], Store] = request.getfixturevalue("containers")
    return stores()


@pytest.fixture
def containers(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: object
) -> Callable[[], Store]:
    """Makes stores over the same file or table, as containers of one function
    each have their own."""
    if store_kind == "sqlite":
        return lambda: SqliteStore(f"{tmp_path}/papo.sqlite3")
    table = request.getfixturevalue("dynamodb_table")
    moto_url = request.getfixturevalue("moto_url")
    return lambda: DynamoDbStore(boto3.client("dynamodb", endpoint_url=moto_url), table)


ROOT = Path(__file__).resolve().parent.parent
PapoServe = Callable[..., tuple["subprocess.Popen[bytes]", str]]


def listens(process: subprocess.Popen[bytes], port: int) -> bool:
    """Whether `process` listens on `port` within 90 s (False: it ended first)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("papo serve did not start")


def _served_url(process: subprocess.Popen[bytes], log: Path, port: int) -> str | None:
    """The WebSocket API's URL, as the banner of the papo serve on `port` says
    (its stage is the template's, where it names one); None: it ended first. Its
    banner may reach the log a moment after it listens, on a loaded machine."""
    deadline = time.monotonic() + 90
    banner = re.compile(rf"WebSocket API +(ws://127\.0\.0\.1:{port}/\S+)")
    while not (found := banner.search(log.read_text())):
        if process.poll() is not None:
            return None
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    return found[1]


class PapoServes:
    """`papo serve` started as a user runs it, each process writing to one log."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.log = log_path.open("wb")
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str, cwd: Path = ROOT) -> tuple[subprocess.Popen[bytes], str]:
        """Starts `papo serve` with these arguments, in that folder; gives the
        process and its WebSocket URL."""
        for _ in range(3):
            port = free_port()
            command = [sys.executable, "-m", "papo", "serve", "--port", str(port)]
            command += ["--tls-port", str(free_port()), "--web-port", str(free_port()), *args]
            # This tree's papo, whichever the environment has installed; its tests too.
            # Without what a shared emulator's handlers in threads hold in os.environ.
            env = {
                **environment_without_runtimes(),
                "PYTHONPATH": os.pathsep.join((str(ROOT / "src"), str(ROOT))),
            }
            process = subprocess.Popen(command, cwd=cwd, env=env, stdout=self.log, stderr=self.log)
            self.started.append(process)
            url = listens(process, port) and _served_url(process, self.log_path, port)
            if url:
                return process, url
            said = self.log_path.read_text()
            # A port probed free may be taken by another process before papo binds it.
            assert "address already in use" in said, said
        raise RuntimeError("papo serve did not start")

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        self.log.close()


@pytest.fixture
def papo_serve(tmp_path: Path) -> Iterator[PapoServe]:
    """Starts `papo serve` as a user runs it, with these arguments, in that folder
    (`cwd=`); gives the process and its WebSocket URL. Stopped after the test;
    its log is the test's `papo-serve.log`."""
    serves = PapoServes(tmp_path / "papo-serve.log")
    yield serves.start
    serves.stop()


@pytest.fixture(autouse=True)
def papo_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """papo's logger writes its own JSON lines and does not propagate: hand its
    records to caplog as well."""
    logger = logging.getLogger("papo")
    logger.addHandler(caplog.handler)
    yield
    logger.removeHandler(caplog.handler)
