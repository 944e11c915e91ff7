"""The order `make test` starts the suite's modules in (`LONGEST_FIRST`)."""

from __future__ import annotations

import re

from tests.conftest import LONGEST_FIRST, ROOT


def test_the_longest_modules_named_first_are_this_suites() -> None:
    """A module renamed or removed would leave its place to a short one, silently."""
    here = {path.name for path in (ROOT / "tests").glob("test_*.py")}
    assert [name for name in LONGEST_FIRST if name not in here] == []
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)


def test_make_test_keeps_that_order() -> None:
    """xdist starts the modules with the most tests first unless told not to."""
    (command,) = re.findall(r"^\t\$\(BIN\)/pytest .*$", (ROOT / "Makefile").read_text(), re.M)
    assert "--dist loadfile" in command
    assert "--no-loadscope-reorder" in command
