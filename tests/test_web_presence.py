"""papo's web client shows who is here and who is away, who is typing, where
its person stopped reading ("New messages"), the unread counts of their other
rooms, and notifies them of a mention or a private message while its tab is
hidden; in Chromium, against papo under the emulator."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from papo.local.server import Emulator
from tests.test_web import (  # the page's fixtures and helpers
    AXE,
    PHONE,
    Frames,
    OpenPage,
    join,
    needs,
    no_sideways_scroll,
    open_page,  # noqa: F401
    papo,  # noqa: F401
    send,
    serious_violations,
)

READ_EVERY_MS = 5000  # web/src/presence.ts
TYPING_SHOWN_MS = 6000

NOTIFICATIONS_KEPT = """
window.notes = [];
window.asked = 0;
const Shown = window.Notification;
window.Notification = class extends Shown {
  constructor(title, options) {
    window.notes.push([title, options && options.body]);
    super(title, options);
  }
};
window.Notification.requestPermission = (...args) => {
  window.asked += 1;
  return Shown.requestPermission(...args);
};
"""
"""Keeps what the page notifies (`window.notes`) and how often it asked for
permission (`window.asked`)."""


def visibility(page: Page, state: str) -> None:
    """The tab hidden or shown, as a browser says it."""
    page.evaluate(
        "(state) => { Object.defineProperty(document, 'visibilityState',"
        " {value: state, configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }",
        state,
    )


def people(page: Page) -> list[str]:
    return page.get_by_label("People", exact=True).locator("li").all_inner_texts()


def test_typing_shows_and_goes_and_an_away_tab_shows_away(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
) -> None:
    ana = join(open_page, papo, "Ana", clock=True)
    bruno = join(open_page, papo, "Bruno")
    typing = ana.locator(".typing")
    bruno.get_by_role("textbox", name="Message").fill("Hello, Ana")
    expect(typing).to_have_text("Bruno is typing…")
    bruno.get_by_role("button", name="Send").click()
    expect(ana.get_by_role("log")).to_contain_text("Bruno: Hello, Ana")
    expect(typing).to_have_text("")  # the message came: done typing
    expect(bruno.locator(".typing")).to_have_text("")  # nobody sees their own
    carla = join(open_page, papo, "Carla")
    carla.get_by_role("textbox", name="Message").fill("Hmm")
    expect(typing).to_have_text("Carla is typing…")
    ana.clock.run_for(TYPING_SHOWN_MS + 1000)  # and nothing more of it
    expect(typing).to_have_text("")

    expect(ana.get_by_label("People", exact=True)).to_have_text("AnaBrunoCarla")
    visibility(bruno, "hidden")
    expect(ana.get_by_label("People", exact=True).locator("li.away")).to_have_text("Bruno (away)")
    ana.set_viewport_size(PHONE)
    ana.get_by_role("button", name="People (3)").click()
    assert people(ana) == ["Ana", "Bruno (away)", "Carla"]
    no_sideways_scroll(ana)
    visibility(bruno, "visible")
    expect(ana.get_by_label("People", exact=True).locator("li.away")).to_have_count(0)


def test_typing_shows_in_portuguese(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
) -> None:
    ana = open_page(locale="pt-BR")
    ana.get_by_label("Seu nome").fill("Ana")
    ana.get_by_role("button", name="Entrar").click()
    expect(ana.get_by_role("status")).to_have_text("você é Ana")
    bruno = join(open_page, papo, "Bruno")
    bruno.get_by_role("textbox", name="Message").fill("Oi")
    expect(ana.locator(".typing")).to_have_text("Bruno está digitando…")
    visibility(bruno, "hidden")
    expect(ana.get_by_label("Pessoas", exact=True).locator("li.away")).to_have_text(
        "Bruno (ausente)"
    )


def test_the_new_messages_divider_is_where_the_person_stopped_reading(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
) -> None:
    if not AXE.is_file():
        needs("axe-core (make web installs it)")
    frames = Frames()
    ana = join(open_page, papo, "Ana", clock=True, frames=frames, bypass_csp=True)
    bruno = join(open_page, papo, "Bruno")
    send(bruno, "Everyone", "read this")
    log = ana.get_by_role("log")
    expect(log).to_contain_text("Bruno: read this")
    ana.clock.run_for(READ_EVERY_MS)
    read_up_to = max(f["offset"] for f in frames.received if f.get("text") == "read this")
    assert frames.wait(
        ana,
        lambda: any(f.get("action") == "read" and f["offset"] >= read_up_to for f in frames.sent),
    )
    visibility(ana, "hidden")  # Ana looks away: what comes now is unread
    send(bruno, "Everyone", "while you were away")
    send(bruno, "Everyone", "and this too")
    expect(log).to_contain_text("Bruno: and this too")
    expect(log.locator("li.unread")).to_have_count(0)  # this page saw where she stopped
    ana.reload()  # the tab comes back, as after a reload or on another device
    ana.get_by_role("button", name="Join").click()
    expect(log.locator("li.unread")).to_have_text("New messages")
    shown = log.locator("ol.lines > li").all_inner_texts()
    divider = shown.index("New messages")
    said = [i for i, text in enumerate(shown) if "while you were away" in text]
    before = [i for i, text in enumerate(shown) if "read this" in text]
    assert before[0] < divider < said[0]
    assert serious_violations(ana) == [], "the room with the divider"


@pytest.mark.full_chromium  # the headless shell grants no notification permission
def test_a_mention_or_a_private_message_while_hidden_is_notified(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
) -> None:
    ana = join(open_page, papo, "Ana", script=NOTIFICATIONS_KEPT, permissions=["notifications"])
    bruno = join(open_page, papo, "Bruno", script=NOTIFICATIONS_KEPT)
    assert ana.evaluate("window.asked") == 0  # never asked on load
    toggle = ana.get_by_role("button", name="Notifications")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert ana.evaluate("localStorage.getItem('papo.notify')") == "on"

    send(bruno, "Everyone", "@Ana while you look")
    expect(ana.get_by_role("log")).to_contain_text("Bruno: @Ana while you look")
    visibility(ana, "hidden")
    send(bruno, "Everyone", "Banana bread is ready")
    send(bruno, "Everyone", "@Ana are you there?")
    send(bruno, "Ana (private)", "psst")
    ana.wait_for_function("() => window.notes.length >= 2")
    assert ana.evaluate("window.notes") == [
        ["Bruno mentioned you", "@Ana are you there?"],
        ["Bruno, privately", "psst"],
    ]
    expect(ana).to_have_title(re.compile(r"^\(3\) papo$"))  # the title counts them too

    # Bruno's page asks once he clicks, and never before.
    assert bruno.evaluate("window.asked") == 0
    bruno.get_by_role("button", name="Notifications").click()
    bruno.wait_for_function("() => window.asked === 1")
