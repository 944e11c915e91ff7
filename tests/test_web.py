"""papo's web client in Debian's Chromium, driven by Playwright, against papo's
handler under the emulator and the bot on the fake OpenAI server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from papo.local.server import Emulator
from papo.local.web import WEB_DIST
from tests.bot_room import bot_room
from tests.fake_openai import FakeOpenAi, Reply

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    missing = []
    if executable is None:
        missing.append("Chromium (Debian's chromium package)")
    if not (WEB_DIST / "index.html").is_file():
        missing.append("the built web client (make web)")
    if missing:
        message = f"needs {' and '.join(missing)}"
        if os.environ.get("PAPO_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def papo(tmp_path: Path, fake: FakeOpenAi) -> Iterator[Emulator]:
    with bot_room(tmp_path, fake, web_dir=WEB_DIST, PAPO_BOT_FLUSH_MS="100") as api:
        yield api


def join(browser: Browser, papo: Emulator, name: str) -> Page:
    assert papo.web_url is not None
    page = browser.new_page()
    page.goto(papo.web_url)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("status")).to_have_text(f"you are {name}")
    return page


def send(page: Page, to: str, message: str) -> None:
    page.get_by_label("To").select_option(label=to)
    page.get_by_role("textbox", name="Message").fill(message)
    page.get_by_role("button", name="Send").click()


def test_a_conversation_with_the_bot_streaming_in(
    browser: Browser, papo: Emulator, fake: FakeOpenAi
) -> None:
    fake.default = Reply(
        pieces=["Papo ", "is ", "a ", "chat ", "with ", "a ", "bot."], delay_s=0.25
    )
    ana = join(browser, papo, "Ana")
    bruno = join(browser, papo, "Bruno")
    expect(ana.get_by_label("People")).to_have_text("AnaBruno")

    send(ana, "Everyone", "Hello, room!")
    expect(bruno.get_by_role("log")).to_contain_text("Ana: Hello, room!")
    send(bruno, "Ana (private)", "just for you")
    expect(ana.locator(".private")).to_have_text("Bruno to Ana, privately: just for you")

    send(ana, "Ask the bot", "What is papo?")
    for page in (ana, bruno):
        expect(page.get_by_role("log")).to_contain_text("Ana to Bot: What is papo?")
    streaming = bruno.locator(".bot.streaming")
    expect(streaming).to_be_visible()
    expect(streaming.locator(".answer")).not_to_have_text("Papo is a chat with a bot.")
    for page in (ana, bruno):
        expect(page.locator(".bot.complete")).to_have_text("Bot: Papo is a chat with a bot.")
    screenshot = os.environ.get("PAPO_SCREENSHOT")
    if screenshot:
        ana.set_viewport_size({"width": 900, "height": 520})
        ana.screenshot(path=screenshot)
    assert not [line for line in bruno.get_by_role("alert").all_inner_texts() if line]


def test_a_taken_name_is_refused_and_a_newcomer_reads_the_history(
    browser: Browser, papo: Emulator
) -> None:
    ana = join(browser, papo, "Ana")
    send(ana, "Everyone", "Anyone here?")
    expect(ana.get_by_role("log")).to_contain_text("Ana: Anyone here?")

    other = browser.new_page()
    assert papo.web_url is not None
    other.goto(papo.web_url)
    other.get_by_label("Your name").fill("ana")
    other.get_by_role("button", name="Join").click()
    expect(other.get_by_role("alert")).to_have_text(
        "The name ana is already taken. Please choose another."
    )
    other.get_by_label("Your name").fill("Carla")
    other.get_by_role("button", name="Join").click()
    expect(other.get_by_role("log")).to_contain_text("Ana: Anyone here?")
    expect(other.get_by_role("log")).to_contain_text("Carla joined the chat")


def test_the_bot_without_a_key_says_how_to_configure_it(
    browser: Browser, papo: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    ana = join(browser, papo, "Ana")
    send(ana, "Ask the bot", "Hello?")
    expect(ana.get_by_role("log").get_by_role("alert")).to_contain_text("OPENAI_API_KEY")
