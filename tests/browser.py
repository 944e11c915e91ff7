"""Debian's Chromium under Playwright, for the tests of papo's web client: one
browser for the tests of the page that run one after another, a context per page.

Playwright's synchronous API keeps its event loop running in the thread that
started it, where `asyncio.run` then refuses to run: the browser is closed
before a test that does not use it (`Browsers.close`), and launched again for
the next test that does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from papo.local.web import WEB_DIST

# The page's expectations wait for what they expect up to 15 s, not Playwright's
# 5: the suite runs in more processes than the machine has cores.
expect.set_options(timeout=15_000)

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("PAPO_CHROMIUM") or shutil.which("chromium")


def needs(*missing: str) -> None:
    """Skips the test for what it misses; fails it instead where CI requires the browser."""
    if missing:
        message = f"needs {' and '.join(missing)}"
        if os.environ.get("PAPO_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)


class Browsers:
    """The browser the tests of the page share while they run one after another."""

    def __init__(self) -> None:
        self._running: tuple[Browser, contextlib.ExitStack] | None = None
        self.launched = 0

    def get(self) -> Browser:
        if self._running is None:
            stack = contextlib.ExitStack()
            self._running = (stack.enter_context(chromium()), stack)
            self.launched += 1
        return self._running[0]

    def close(self) -> None:
        if self._running is not None:
            self._running[1].close()
            self._running = None


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Chromium, once the page's tests have what they need: the browser and the
    built web client."""
    executable = chromium_path()
    missing = []
    if executable is None:
        missing.append("Chromium (Debian's chromium package)")
    if not (WEB_DIST / "index.html").is_file():
        missing.append("the built web client (make web)")
    needs(*missing)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()
