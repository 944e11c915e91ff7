"""papo as `pip install` gives it: the wheel carries the built web client; without the
`local` extra `papo serve` says in one line what to install; with it, it serves the page."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from deploy.lambda_zip import uv
from tests.conftest import ROOT, free_port

WEB_DIST = ROOT / "web" / "dist"
CONSTRAINTS = ["--constraint", str(ROOT / "requirements" / "dev.txt")]


def test_papo_serve_without_the_local_extra_says_what_to_install() -> None:
    """As after `pip install papo`: uvicorn cannot be imported."""
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['uvicorn'] = None\nfrom papo.cli import main; main(['serve'])",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert shown.returncode != 0
    assert shown.stderr.splitlines() == [
        "papo serve needs papo's local extra (uvicorn is missing): pip install 'papo[local]'"
    ]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m build`: the sdist, then the wheel from it, as PyPI would get them."""
    if not (WEB_DIST / "index.html").is_file():
        pytest.skip("the web client is not built: make web (make test builds it first)")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("papo-*.whl")
    return found


def test_the_wheel_carries_the_built_web_client(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as opened:
        names = set(opened.namelist())
    built = {f"papo/web/{p.relative_to(WEB_DIST).as_posix()}" for p in WEB_DIST.rglob("*")}
    built = {name for name in built if not (WEB_DIST / name.removeprefix("papo/web/")).is_dir()}
    assert "papo/web/index.html" in built
    assert any(name.startswith("papo/web/assets/") for name in built)
    assert built <= names
    assert {"papo/local/server.py", "papo/aws/handler.py", "papo/cli.py"} <= names


def test_an_installed_wheel_asks_for_its_extra_then_serves_the_page(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = [uv(), "pip", "install", "--quiet", "--python", python, *CONSTRAINTS]
    subprocess.run([*install, str(wheel)], check=True)

    papo = str(venv / "bin" / "papo")
    shown = subprocess.run(
        [papo, "serve"], capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False
    )
    assert shown.returncode != 0
    assert shown.stderr.strip().endswith("pip install 'papo[local]'")
    assert len(shown.stderr.strip().splitlines()) == 1
    checked = subprocess.run(
        [papo, "conformance", "ws://127.0.0.1:9/dev"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert checked.returncode != 0
    assert checked.stderr.strip().endswith("pip install 'papo[local]'")
    assert len(checked.stderr.strip().splitlines()) == 1

    subprocess.run([*install, f"papo[local] @ {wheel.as_uri()}"], check=True)
    port, web_port = free_port(), free_port()
    command = [papo, "serve", "--port", str(port), "--tls-port", "0", "--web-port", str(web_port)]
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=log)
    try:
        page = _get(f"http://127.0.0.1:{web_port}/", process, tmp_path / "serve.log")
        assert page == (WEB_DIST / "index.html").read_bytes()
        config = json.loads(_get(f"http://127.0.0.1:{web_port}/config.json", process, None))
        assert config == {"websocketUrl": f"ws://127.0.0.1:{port}/dev"}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _get(url: str, process: subprocess.Popen[bytes], log: Path | None) -> bytes:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log.read_text() if log else "papo serve ended"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body: bytes = response.read()
                return body
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_wheel_carries_what_runs_nodejs_functions(wheel: Path) -> None:
    """The Node side of a container, and the SDK's exact versions with their lock file."""
    with zipfile.ZipFile(wheel) as opened:
        names = set(opened.namelist())
    node = ROOT / "src" / "papo" / "local" / "node"
    shipped = {f"papo/local/node/{path.name}" for path in node.iterdir() if path.is_file()}
    assert {"papo/local/node/bootstrap.mjs", "papo/local/node/package-lock.json"} <= shipped
    assert shipped <= names
