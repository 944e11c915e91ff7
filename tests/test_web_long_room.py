"""papo's web client in a room with more lines than it keeps: only the lines
near the view are in the page, and those it let go of come back, in order,
as the reader scrolls up and down again; in Chromium, against papo under the
emulator."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from websockets.sync.client import ClientConnection, connect

from papo.local.server import Emulator
from tests.fake_openai import FakeOpenAi, Reply
from tests.test_web import (  # the page's fixtures and helpers
    AXE,
    Frames,
    OpenPage,
    join,
    needs,
    open_page,  # noqa: F401
    papo,  # noqa: F401
    send,
    serious_violations,
)

KEEP = 100
"""Lines the page keeps (`?keep=`): the fewest it may."""
SAID = 300
"""Lines Bruno says, three times what the page keeps."""
NUMBERED = re.compile(r"^Bruno: line (\d+)$")


@pytest.fixture
def bruno(papo: Emulator) -> Iterator[ClientConnection]:  # noqa: F811
    """Bruno, on a plain WebSocket client."""
    with connect(papo.websocket_url) as ws:
        ws.send(json.dumps({"action": "setName", "name": "Bruno"}))
        yield ws


def say(ws: ClientConnection, text: str) -> None:
    """Says `text`, and waits for it to come back: one line at a time, in order."""
    ws.send(json.dumps({"action": "sendPublic", "message": text}))
    while json.loads(ws.recv(timeout=10)).get("text") != text:
        pass


def shown(page: Page) -> list[int]:
    """The numbers of Bruno's lines in the page, as it lays them out."""
    texts = page.locator(".lines > li.line .body").all_inner_texts()
    return [int(match[1]) for text in texts if (match := NUMBERED.match(text))]


def said_aloud(page: Page) -> list[str]:
    """What the page's announcer has said, oldest first (it keeps the last 20)."""
    return page.locator(".chat > [aria-live=polite] > p").all_inner_texts()


AT_THE_END = "by < 0 ? log.scrollTop < 2 : log.scrollHeight - log.clientHeight - log.scrollTop < 2"
"""Whether the conversation is scrolled to the end (`log`'s) that `by` points to
(up: below 0), in JavaScript."""


def scroll(page: Page, by: int) -> None:
    """Turns the wheel over the conversation by `by` pixels, as the reader does;
    waits for the scroll to end (Chromium scrolls smoothly, for a while), unless
    the view is at that end already, then for the page to have the lines it
    went for (no "Loading" where it fetches more)."""
    log = page.get_by_role("log")
    log.evaluate(
        "log => { log.scrolled = false;"
        " log.addEventListener('scrollend', () => { log.scrolled = true; }, { once: true }); }"
    )
    page.mouse.wheel(0, by)
    element = log.element_handle()
    page.wait_for_function(
        f"([log, by]) => log.scrolled || ({AT_THE_END})", arg=[element, by], polling="raf"
    )
    page.wait_for_function(
        "log => !log.querySelector('.more:not(:has(button))')", arg=element, polling="raf"
    )


def at_the_end(page: Page, by: int) -> bool:
    """Whether the conversation is scrolled to the end that `by` points to and
    the page holds every line there is that way (no way to more lines there)."""
    beyond = ".more ~ .lines" if by < 0 else ".lines ~ .more"
    return bool(
        page.get_by_role("log").evaluate(
            f"(log, by) => ({AT_THE_END}) && !log.querySelector('{beyond}')", by
        )
    )


def in_a_row(numbers: list[int]) -> bool:
    return numbers == list(range(numbers[0], numbers[0] + len(numbers))) if numbers else True


def test_scrolling_up_past_what_the_page_keeps_brings_the_earlier_lines_back_in_order(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
    bruno: ClientConnection,
) -> None:
    if not AXE.is_file():
        needs("axe-core (make web installs it)")
    frames = Frames()
    # axe's script is injected inline, which the page's policy rightly refuses.
    ana = join(open_page, papo, "Ana", query=f"?keep={KEEP}", frames=frames, bypass_csp=True)
    for number in range(1, SAID + 1):
        say(bruno, f"line {number:03d}")
    log = ana.get_by_role("log")
    expect(log).to_contain_text(f"Bruno: line {SAID:03d}")
    # Each new line is said once, by a live region of its own: the log, whose
    # lines come and go as the reader scrolls, says nothing.
    expect(log).to_have_attribute("aria-live", "off")
    aloud = [f"Bruno: line {number:03d}" for number in range(SAID - 19, SAID + 1)]
    expect(ana.locator(".chat > [aria-live=polite] > p")).to_have_text(aloud)
    # Only the lines near the view are in the page.
    assert 0 < ana.locator(".lines > li").count() < 60
    assert max(shown(ana)) == SAID

    seen: set[int] = set()
    log.hover()
    for _ in range(200):
        numbers = shown(ana)
        assert in_a_row(numbers), numbers  # in order, none twice, none missing
        seen.update(numbers)
        # Line 1 comes into the page a little above the view: on to the start.
        if 1 in seen and at_the_end(ana, -600):
            break
        scroll(ana, -600)
    assert seen == set(range(1, SAID + 1))
    assert said_aloud(ana) == aloud  # the lines fetched again are not news
    expect(log.get_by_text("Ana joined the chat")).to_be_visible()
    expect(ana.get_by_role("button", name="Show earlier messages")).to_have_count(0)
    asked = [f for f in frames.sent if f.get("action") == "lines"]
    # Once it held the last 100 of the 302 lines (two joins, then Bruno's), half as many at a time.
    assert {"action": "lines", "before": 2 + SAID - KEEP + 1, "limit": KEEP // 2} in asked
    assert all("before" in f for f in asked)
    # The newest are let go of: back down, they come again.
    expect(ana.get_by_role("button", name="Go to the newest messages")).to_be_attached()
    assert serious_violations(ana) == [], "far back in a long room"

    seen.clear()
    for _ in range(200):
        numbers = shown(ana)
        assert in_a_row(numbers), numbers
        seen.update(numbers)
        if SAID in seen and at_the_end(ana, 600):
            break
        scroll(ana, 600)
    assert seen == set(range(1, SAID + 1))
    assert any("after" in f for f in frames.sent if f.get("action") == "lines")
    expect(ana.get_by_role("button", name="Go to the newest messages")).to_have_count(0)

    # Following the room again: a new line shows, and so does Ana's own.
    assert said_aloud(ana) == aloud
    say(bruno, "line 301")
    expect(log.locator(".lines > li.line").last).to_have_text(re.compile("Bruno: line 301"))
    expect(ana.locator(".chat > [aria-live=polite] > p").last).to_have_text("Bruno: line 301")
    assert said_aloud(ana).count("Bruno: line 301") == 1
    send(ana, "Everyone", "back at the bottom")
    expect(log.locator(".lines > li.line").last).to_have_text(re.compile("Ana: back at the bottom"))


def test_writing_while_far_back_goes_to_the_newest_lines(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
    bruno: ClientConnection,
) -> None:
    ana = join(open_page, papo, "Ana", query=f"?keep={KEEP}")
    for number in range(1, SAID + 1):
        say(bruno, f"line {number:03d}")
    log = ana.get_by_role("log")
    expect(log).to_contain_text(f"Bruno: line {SAID:03d}")
    log.hover()
    newest = ana.get_by_role("button", name="Go to the newest messages")
    for _ in range(100):
        if newest.count():
            break
        scroll(ana, -2000)
    expect(newest).to_be_attached()
    say(bruno, "said meanwhile")  # among the lines the page let go of
    expect(log).not_to_contain_text("said meanwhile")

    send(ana, "Everyone", "I am back")
    expect(log.locator(".lines > li.line").last).to_have_text(re.compile("Ana: I am back"))
    expect(log).to_contain_text("Bruno: said meanwhile")
    expect(newest).to_have_count(0)
    numbers = shown(ana)
    assert in_a_row(numbers), numbers
    assert numbers[-1] == SAID


@pytest.mark.parametrize("moved", [False, True], ids=["as-laid-out", "moved-by-the-page"])
def test_the_way_to_the_newest_lines_takes_the_reader_there_and_it_follows_again(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
    bruno: ClientConnection,
    moved: bool,
) -> None:
    """`moved`: the page moves the view as the lines it fetched are laid out and
    measured, right after the click. The click is a pointer on the log, as a
    reader's taking of the view is, but those moves are the page's, not the
    reader's: the view goes on following the newest lines."""
    ana = join(open_page, papo, "Ana", query=f"?keep={KEEP}")
    for number in range(1, SAID + 1):
        say(bruno, f"line {number:03d}")
    log = ana.get_by_role("log")
    expect(log).to_contain_text(f"Bruno: line {SAID:03d}")
    log.hover()
    newest = ana.get_by_role("button", name="Go to the newest messages")
    for _ in range(100):
        if newest.count():
            break
        scroll(ana, -2000)
    newest.click()
    expect(log.locator(".lines > li.line").last).to_have_text(re.compile(f"line {SAID:03d}"))
    if moved:
        log.evaluate("log => { log.scrollTop = (log.scrollHeight - log.clientHeight) / 2; }")
    expect(newest).to_have_count(0)
    say(bruno, "and on")
    expect(log.locator(".lines > li.line").last).to_have_text(re.compile("Bruno: and on"))
    assert in_a_row(shown(ana))


def test_an_answer_is_said_once_whole_and_a_line_for_the_reader_says_so(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
    fake: FakeOpenAi,
    bruno: ClientConnection,
) -> None:
    fake.default = Reply(pieces=["Papo ", "is ", "a ", "chat."], held=True)
    ana = join(open_page, papo, "Ana")
    say(bruno, "ana, are you there?")
    send(ana, "Ask the bot", "What is papo?")
    fake.release()
    expect(ana.locator(".bot.streaming .answer")).to_have_text("Papo")
    aloud = ana.locator(".chat > [aria-live=polite] > p")
    fake.release(3)
    expect(ana.locator(".bot.complete")).to_have_text("Bot: Papo is a chat.")
    expect(aloud).to_have_text(
        [
            "Ana joined the chat",
            "Bruno: ana, are you there? (mentions you)",
            "Ana to Bot: What is papo?",
            "Bot: Papo is a chat.",
        ]
    )
