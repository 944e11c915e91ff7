"""Lines that change, on papo's page in Chromium: an edit and a delete show at
once in another tab, and reactions with their counts and who reacted; in
both languages, on a phone too, and with nothing serious for axe-core."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from papo.local.server import Emulator
from tests.test_web import (  # the page's fixtures and helpers
    AXE,
    PHONE,
    OpenPage,
    join,
    needs,
    no_sideways_scroll,
    open_page,  # noqa: F401
    papo,  # noqa: F401
    send,
    serious_violations,
)


def line_saying(page: Page, text: str) -> Locator:
    return page.get_by_role("log").locator("li[data-kind=public]").filter(has_text=text)


def menu_of(line: Locator) -> None:
    line.hover()
    line.get_by_role("button", name="Message actions").click()


def test_an_edit_and_a_delete_show_at_once_in_another_tab(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
) -> None:
    ana = join(open_page, papo, "Ana")
    bruno = join(open_page, papo, "Bruno")
    send(ana, "Everyone", "See you at noon")
    expect(bruno.get_by_role("log")).to_contain_text("Ana: See you at noon")

    mine = line_saying(ana, "See you at noon")
    menu_of(mine)
    mine.get_by_role("button", name="Edit").click()
    field = ana.get_by_role("textbox", name="Edit your message")
    expect(field).to_be_focused()
    field.fill("See you at one")
    field.press("Enter")
    seen = line_saying(bruno, "See you at one")
    expect(seen).to_contain_text("(edited)")
    expect(bruno.get_by_role("log")).not_to_contain_text("noon")
    # Someone else's line offers reactions, not editing.
    menu_of(seen)
    expect(seen.get_by_role("button", name="React with 👍")).to_be_visible()
    expect(seen.get_by_role("button", name="Edit")).to_have_count(0)

    menu_of(line_saying(ana, "See you at one"))
    mine = line_saying(ana, "See you at one")
    mine.get_by_role("button", name="Delete").click()
    mine.get_by_role("button", name="Delete this message?").click()
    for page in (ana, bruno):
        gone = page.get_by_role("log").locator("li[data-kind=public]").filter(has_text="Ana")
        expect(gone.locator(".body")).to_have_text("Ana: Message deleted")
    expect(bruno.get_by_role("log")).not_to_contain_text("See you at one")

    # A page that comes afresh gets the room as it is now.
    carla = join(open_page, papo, "Carla")
    expect(line_saying(carla, "Message deleted")).to_have_count(1)
    expect(carla.get_by_role("log")).not_to_contain_text("See you")


def test_a_reactions_count_and_who_reacted(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
) -> None:
    ana = join(open_page, papo, "Ana")
    bruno = join(open_page, papo, "Bruno")
    send(ana, "Everyone", "Lunch?")
    for page in (ana, bruno):
        line = line_saying(page, "Lunch?")
        expect(line).to_be_visible()
        menu_of(line)
        line.get_by_role("button", name="React with 👍").click()
        # Each waits for its own to show: the second reaction then counts two.
        expect(line.locator("button.reaction")).to_have_attribute("aria-pressed", "true")
    for page in (ana, bruno):
        chip = line_saying(page, "Lunch?").locator("button.reaction")
        expect(chip).to_have_text("👍 2")
        expect(chip).to_have_attribute("title", "Ana, Bruno")
    chip = line_saying(bruno, "Lunch?").locator("button.reaction")
    expect(chip).to_have_attribute("aria-pressed", "true")
    chip.click()  # Bruno takes his back
    expect(line_saying(ana, "Lunch?").locator("button.reaction")).to_have_text("👍 1")
    expect(line_saying(ana, "Lunch?").locator("button.reaction")).to_have_attribute("title", "Ana")

    # A reload keeps them: the page resumes its place, the lines as they are now.
    ana.reload()
    expect(ana.get_by_label("Your name")).to_have_value("Ana")
    ana.get_by_role("button", name="Join").click()
    expect(line_saying(ana, "Lunch?").locator("button.reaction")).to_have_text("👍 1")


def test_axe_finds_nothing_serious_in_lines_that_changed(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
) -> None:
    if not AXE.is_file():
        needs("axe-core (make web installs it)")
    options = {"bypass_csp": True, "reduced_motion": "reduce"}
    ana = join(open_page, papo, "Ana", **options)
    send(ana, "Everyone", "first")
    send(ana, "Everyone", "second")
    first = line_saying(ana, "first")
    menu_of(first)
    first.get_by_role("button", name="React with 🎉").click()
    menu_of(first)
    first.get_by_role("button", name="Edit").click()
    ana.get_by_role("textbox", name="Edit your message").fill("first, edited")
    ana.get_by_role("button", name="Save").click()
    expect(line_saying(ana, "first, edited")).to_contain_text("(edited)")
    second = line_saying(ana, "second")
    menu_of(second)
    second.get_by_role("button", name="Delete").click()
    expect(second.get_by_role("button", name="Delete this message?")).to_be_focused()
    for color_scheme in ("light", "dark"):
        ana.emulate_media(color_scheme=color_scheme)
        assert serious_violations(ana) == [], f"lines that changed ({color_scheme})"
    second.get_by_role("button", name="Delete this message?").click()
    expect(ana.get_by_role("log")).to_contain_text("Ana: Message deleted")
    ana.set_viewport_size(PHONE)
    no_sideways_scroll(ana)
    menu_of(line_saying(ana, "first, edited"))
    assert serious_violations(ana) == [], "lines that changed, on a phone"
    no_sideways_scroll(ana)


def test_the_keyboard_reaches_a_lines_menu_from_the_conversation(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
) -> None:
    ana = join(open_page, papo, "Ana")
    send(ana, "Everyone", "one")
    send(ana, "Everyone", "two")
    expect(line_saying(ana, "two")).to_be_visible()
    ana.get_by_role("log").focus()
    ana.keyboard.press("Enter")
    menu = line_saying(ana, "two").get_by_role("button", name="Message actions")
    expect(menu).to_be_focused()
    ana.keyboard.press("ArrowUp")
    expect(line_saying(ana, "one").get_by_role("button", name="Message actions")).to_be_focused()
    ana.keyboard.press("ArrowDown")
    expect(menu).to_be_focused()
    ana.keyboard.press("Enter")
    ana.keyboard.press("Tab")
    expect(line_saying(ana, "two").get_by_role("button", name="React with 👍")).to_be_focused()
    ana.keyboard.press("Enter")
    expect(line_saying(ana, "two").locator("button.reaction")).to_have_text("👍 1")
    ana.keyboard.press("Escape")
    expect(ana.get_by_role("log")).to_be_focused()
