"""The layers' contracts (`[tool.importlinter]` in pyproject.toml) hold, and
break when a layer is crossed: each crossing below is made in a copy of papo."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_hold_without_exceptions() -> None:
    """No import is let through a contract: the emulator hands its Management API
    to the handlers it runs, and papo's client never asks who is running it."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    excepted = {
        c["name"]: c["ignore_imports"] for c in contracts["contracts"] if "ignore_imports" in c
    }
    assert excepted == {}


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("core/chat.py", "import papo.adapters.store.sqlite", "The chat core does no I/O"),
        ("core/rules.py", "import sqlite3", "The chat core does no I/O"),
        ("local/gateway.py", "import papo.core.chat", "The emulator is its own room"),
        ("core/answering.py", "import papo.core.chat", "The core's modules import one way"),
        ("adapters/store/sqlite.py", "import papo.aws.handler", "Entry points over"),
    ],
)
def test_a_crossing_breaks_a_contract(tmp_path: Path, module: str, line: str, broken: str) -> None:
    tree = tmp_path / "papo"
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    target = tree / "src" / "papo" / module
    target.write_text(f"{target.read_text()}\n{line}  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert f"{broken}" in result.stdout
    assert "BROKEN" in result.stdout
