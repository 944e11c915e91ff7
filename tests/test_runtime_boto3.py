"""Functions on another Python than papo serve's get boto3 as Lambda's Python
runtime brings it: last on their path, after their code and their Python's own
packages (docs/promises.md: "boto3 is there, as in Lambda's Python runtime").
The Python here is a bare virtual environment of Python 3.12, which has no
boto3, as a developer's own `python3.12` may have none."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import chalice
import pytest
from websockets.asyncio.client import connect

from papo.local.config import ApiConfig, RouteTarget
from papo.local.runtime import find_python
from papo.local.runtime_boto3 import runtime_boto3
from papo.local.server import Emulator
from tests.conftest import PapoServe
from tests.test_chalice import SAMPLE, converse


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin` folder of a virtual environment of Python 3.12 without boto3."""
    python = find_python("3.12", {"PATH": os.environ["PATH"]})
    if python is None:
        pytest.skip("no Python 3.12 on this machine")
    venv = tmp_path_factory.mktemp("bare-python") / "py312"
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
    lacks = subprocess.run([venv / "bin" / "python", "-c", "import boto3"], check=False)
    assert lacks.returncode != 0, "the bare Python has boto3"
    return venv / "bin"


@pytest.fixture
def on_bare_python(
    bare_python: Path,
    no_pyenv_pythons: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    """`python3.12` is the bare one; papo's cache is the test's (what an earlier
    test of this process found in its own is forgotten, before and after)."""
    monkeypatch.setenv("PATH", f"{bare_python}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    runtime_boto3.cache_clear()
    yield bare_python
    runtime_boto3.cache_clear()


def packaged_as_chalice_does(tmp_path: Path) -> Path:
    """The Chalice sample as `chalice package` packages it: the app, with Chalice's
    runtime (`chalice/__init__.py` and `chalice/app.py`) beside it, and no boto3,
    which Lambda's runtime brings."""
    app = tmp_path / "chalice_echo"
    shutil.copytree(SAMPLE, app)
    (app / "chalice").mkdir()
    runtime = Path(chalice.__file__).parent
    for name in ("__init__.py", "app.py"):
        shutil.copy(runtime / name, app / "chalice" / name)
    return app


def test_a_chalice_app_runs_on_a_python_without_boto3(
    papo_serve: PapoServe, tmp_path: Path, on_bare_python: Path
) -> None:
    """Without boto3 from papo serve, every handshake fails with 502: `Unable to
    import module 'app': No module named 'boto3'`."""
    app = packaged_as_chalice_does(tmp_path)
    _, url = papo_serve("--template", "template.yaml", cwd=app)
    log = tmp_path / "papo-serve.log"
    banner = log.read_text()
    assert f"WebsocketMessage runs on python3.12 ({on_bare_python}/python3.12)" in banner
    assert "functions on Python 3.12 get papo serve's boto3" in banner
    asyncio.run(converse(url, log))
    assert "ImportModuleError" not in log.read_text()


BOTO3_OF_ITS_OWN = """__version__ = "the function's own"
"""
WHICH_BOTO3 = """import json
import sys

import boto3
import botocore


def handler(event, context):
    found = {"boto3": boto3.__version__, "botocore": botocore.__file__, "last": sys.path[-1]}
    return {"statusCode": 200, "body": json.dumps(found)}
"""


@pytest.fixture
def emulator_on_bare_python(on_bare_python: Path, tmp_path: Path) -> Iterator[Emulator]:
    code = tmp_path / "code"
    (code / "boto3").mkdir(parents=True)
    (code / "boto3" / "__init__.py").write_text(BOTO3_OF_ITS_OWN)
    (code / "app.py").write_text(WHICH_BOTO3)
    target = RouteTarget("app.handler", str(code), runtime="python3.12", timeout_s=30)
    config = ApiConfig.for_handler(target, ("$default",), route_responses=frozenset({"$default"}))
    with Emulator(config, port=0, tls_port=None).running() as running:
        yield running


def test_the_functions_own_packages_come_before_the_runtimes(
    emulator_on_bare_python: Emulator, tmp_path: Path
) -> None:
    """A function's own boto3 wins; what it lacks (botocore) comes from the
    folder appended last to its path, in papo's cache."""

    async def ask() -> dict[str, str]:
        async with connect(emulator_on_bare_python.websocket_url) as ws:
            await ws.send("which boto3?")
            found: dict[str, str] = json.loads(await asyncio.wait_for(ws.recv(), 30))
            return found

    found = asyncio.run(ask())
    runtime = tmp_path / "cache" / "papo" / "lambda-python-runtime"
    assert found["boto3"] == "the function's own"
    assert Path(found["last"]).parent == runtime
    assert Path(found["botocore"]).parent.parent == Path(found["last"])


def test_a_cache_that_cannot_be_written_leaves_functions_their_own_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """papo serve still starts, and says why such functions get no boto3."""
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    runtime_boto3.cache_clear()
    try:
        found = runtime_boto3("3.12")
    finally:
        runtime_boto3.cache_clear()
    assert found.folder is None
    assert found.said.startswith("get no boto3 but their own: papo's cache cannot hold them")
