"""The bot as a participant in papo's web client, in Chromium through Playwright:
Stop and Ask again on one's own answers, `@` mention completion, the room's
own bot shown, and a summary offered after a reload with enough unread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from papo.adapters.store.sqlite import SqliteStore
from papo.core.room_bot import RoomBot, set_room_bot
from papo.local.server import Emulator
from papo.local.web import WEB_DIST
from tests.bot_room import bot_room
from tests.fake_openai import FakeOpenAi, Reply
from tests.test_web import OpenPage, join, needs, open_page, send

__all__ = ["needs", "open_page"]  # fixtures, for this module's tests


@pytest.fixture
def papo(tmp_path: Path, fake: FakeOpenAi) -> Iterator[Emulator]:
    with bot_room(
        tmp_path, fake, web_dir=WEB_DIST, PAPO_BOT_FLUSH_MS="100", PAPO_BOT_STOP_CHECK_MS="100"
    ) as api:
        yield api


def test_the_asker_stops_an_answer_and_asks_again(
    browser: Browser, papo: Emulator, fake: FakeOpenAi
) -> None:
    fake.script(
        Reply(pieces=["Once", " upon", " a time."], held=True), Reply(pieces=["Another one."])
    )
    ana = join(browser, papo, "Ana")
    bruno = join(browser, papo, "Bruno")
    send(ana, "Everyone", "@bot tell me a story")
    fake.release()
    for page in (ana, bruno):
        expect(page.locator(".bot.streaming .answer")).to_have_text("Once")
    expect(bruno.get_by_role("button", name="Stop")).to_have_count(0)
    ana.get_by_role("button", name="Stop").click()
    for page in (ana, bruno):
        expect(page.locator(".bot.stopped")).to_contain_text("[stopped by Ana]")
    expect(bruno.get_by_role("button", name="Ask again")).to_have_count(0)
    ana.get_by_role("button", name="Ask again").click()
    for page in (ana, bruno):
        expect(page.locator(".bot.complete")).to_have_text("Bot: Another one.")
    fake.release(2)  # the stopped answer's server, let go


def test_mentions_complete_as_they_are_typed(browser: Browser, papo: Emulator) -> None:
    ana = join(browser, papo, "Ana")
    join(browser, papo, "Bruno")
    box = ana.get_by_role("textbox", name="Message")
    box.fill("hello @b")
    suggestions = ana.get_by_role("listbox", name="Mention")
    expect(suggestions.get_by_role("option")).to_have_text(["@bot", "@Bruno"])
    box.press("ArrowDown")
    box.press("Tab")
    expect(box).to_have_value("hello @Bruno ")
    expect(suggestions).to_have_count(0)
    box.press_sequentially("and @")
    ana.get_by_role("option", name="@bot").click()
    expect(box).to_have_value("hello @Bruno and @bot ")


def test_the_rooms_own_bot_is_shown_in_both_languages(
    open_page: OpenPage, papo: Emulator, tmp_path: Path
) -> None:
    room = SqliteStore(str(tmp_path / "papo.sqlite3")).in_room("main")
    set_room_bot(room, RoomBot(persona="You are a pirate.", model="llama3.2"))
    ana = join(open_page, papo, "Ana")
    expect(ana.locator(".persona")).to_have_text("The bot here: You are a pirate. (llama3.2)")
    ana.get_by_label("Language").select_option("pt-BR")
    expect(ana.locator(".persona")).to_have_text("O bot aqui: You are a pirate. (llama3.2)")


def test_a_reloaded_page_offers_to_catch_up(
    open_page: OpenPage, papo: Emulator, fake: FakeOpenAi
) -> None:
    fake.default = Reply(pieces=["Bruno counted to six."])
    ana = join(open_page, papo, "Ana")
    bruno = join(open_page, papo, "Bruno")
    send(bruno, "Everyone", "before")
    expect(ana.get_by_role("log")).to_contain_text("Bruno: before")
    ana.reload()
    expect(ana.get_by_label("Your name")).to_have_value("Ana")
    for number in range(1, 7):
        send(bruno, "Everyone", f"count {number}")
        expect(bruno.get_by_role("log")).to_contain_text(f"Bruno: count {number}")
    ana.get_by_role("button", name="Join").click()
    offer = ana.get_by_role("region", name="Catch me up")
    expect(offer).to_contain_text("6 new messages came while you were away.")
    offer.get_by_role("button", name="Catch me up").click()
    expect(offer).to_have_count(0)
    expect(ana.locator(".bot.complete")).to_have_text("Bot: Bruno counted to six.")
    expect(bruno.locator(".bot")).to_have_count(0)
    (request,) = fake.requests
    assert "Bruno: count 1\n" in request.body["messages"][1]["content"]
    assert "before" not in request.body["messages"][1]["content"]


def test_after_a_reload_the_asker_may_still_ask_again(
    open_page: OpenPage, papo: Emulator, fake: FakeOpenAi
) -> None:
    fake.script(Reply(pieces=["First."]), Reply(pieces=["Second."]))
    ana = join(open_page, papo, "Ana")
    send(ana, "Everyone", "@bot say something")
    expect(ana.locator(".bot.complete")).to_have_text("Bot: First.")
    ana.reload()
    expect(ana.get_by_label("Your name")).to_have_value("Ana")
    ana.get_by_role("button", name="Join").click()
    expect(ana.locator(".bot.complete")).to_have_text("Bot: First.")
    ana.get_by_role("button", name="Ask again").click()
    expect(ana.locator(".bot.complete").last).to_have_text("Bot: Second.")
