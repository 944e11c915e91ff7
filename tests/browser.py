"""Debian's Chromium under Playwright, for the tests of papo's web client: one
browser for the tests of the page that run one after another, a context per page.

The page's tests run on Debian's `chromium-headless-shell`, Chromium without
its windows, the build Playwright itself runs headless tests on: the same
Blink and V8 as `chromium`, at half its CPU a page. A test marked
`full_chromium` runs on `chromium` instead, for what the shell lacks: a
notification permission it can grant. Where only `chromium` is installed,
every test runs on it.

Playwright's synchronous API keeps its event loop running in the thread that
started it, where `asyncio.run` then refuses to run: the browsers are closed
before a test that does not use one (`Browsers.close`), and launched again for
the next test that does.
"""

from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import Browser, Playwright, expect, sync_playwright

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


def chromium_path(*, full: bool = False) -> str | None:
    """`PAPO_CHROMIUM` if set, else Debian's headless shell (unless `full`), else
    Debian's Chromium."""
    if os.environ.get("PAPO_CHROMIUM"):
        return os.environ["PAPO_CHROMIUM"]
    shell = None if full else shutil.which("chromium-headless-shell")
    return shell or shutil.which("chromium")


def needs(*missing: str) -> None:
    """Skips the test for what it misses; fails it instead where CI requires the browser."""
    if missing:
        message = f"needs {' and '.join(missing)}"
        if os.environ.get("PAPO_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)


class Browsers:
    """The browsers the tests of the page share while they run one after another:
    the headless shell, and `chromium` for the tests marked `full_chromium`."""

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._running: dict[bool, Browser] = {}

    def get(self, *, full: bool = False) -> Browser:
        if full not in self._running:
            executable = chromium_path(full=full)
            _needed(executable)
            assert executable is not None
            self._running[full] = self._started().chromium.launch(
                executable_path=executable, args=CHROMIUM_FLAGS
            )
        return self._running[full]

    def _started(self) -> Playwright:
        if self._playwright is None:
            self._playwright = sync_playwright().start()
        return self._playwright

    def close(self) -> None:
        for browser in self._running.values():
            browser.close()
        self._running.clear()
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None


def _needed(executable: str | None) -> None:
    """Skips (or fails, see `needs`) a page's test without the browser or the
    built web client."""
    missing = []
    if executable is None:
        missing.append("Chromium (Debian's chromium package)")
    if not (WEB_DIST / "index.html").is_file():
        missing.append("the built web client (make web)")
    needs(*missing)
