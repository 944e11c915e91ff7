"""papo's web client in rooms: the room named in the page's address
(`?room=team`, else `main`) and in its WebSocket's, shown in the header and the
title, checked before connecting, and changed from the header; in Chromium,
against papo under the emulator."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

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


def room_of(url: str) -> str | None:
    """The `room=` of an address, if it has one."""
    rooms = parse_qs(urlsplit(url).query).get("room")
    return rooms[0] if rooms else None


def joins(frames: Frames) -> list[Any]:
    """What each `setName` asked to resume with: a token's dict, or True."""
    return [frame.get("resume") for frame in frames.sent if frame.get("action") == "setName"]


def test_a_room_hears_its_own_messages_and_no_other(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
) -> None:
    ana_frames, carla_frames = Frames(), Frames()
    ana = join(open_page, papo, "Ana", query="?room=team", frames=ana_frames)
    # Upper case is lower case: the address then says so.
    bruno = join(open_page, papo, "Bruno", query="?room=Team&heartbeat=0")
    carla = join(open_page, papo, "Carla", frames=carla_frames)

    # Where each page is: in its header, its title and its address.
    for page in (ana, bruno):
        expect(page.get_by_role("button", name="Room team")).to_be_visible()
        expect(page).to_have_title("team · papo")
    expect(bruno).to_have_url(re.compile(r"/\?heartbeat=0&room=team$"))
    expect(carla.get_by_role("button", name="Room main")).to_be_visible()
    expect(carla).to_have_title("papo")
    assert room_of(carla.url) is None
    # The WebSocket joins the page's room; main's without naming it.
    assert [room_of(url) for url in ana_frames.urls] == ["team"]
    assert [room_of(url) for url in carla_frames.urls] == [None]

    expect(ana.get_by_label("People")).to_have_text("AnaBruno")
    expect(carla.get_by_label("People")).to_have_text("Carla")
    send(ana, "Everyone", "Hello, team!")
    expect(bruno.get_by_role("log")).to_contain_text("Ana: Hello, team!")
    send(carla, "Everyone", "Hello, main!")
    expect(carla.get_by_role("log")).to_contain_text("Carla: Hello, main!")
    send(bruno, "Everyone", "Still just us?")
    expect(ana.get_by_role("log")).to_contain_text("Bruno: Still just us?")
    # Each room's messages came back to its own pages after the other's went out.
    expect(carla.get_by_role("log")).not_to_contain_text("team")
    expect(carla.get_by_role("log")).not_to_contain_text("just us")
    for page in (ana, bruno):
        expect(page.get_by_role("log")).not_to_contain_text("Hello, main!")
    # A name is taken in its room alone.
    ana_in_main = join(open_page, papo, "Ana")
    expect(ana_in_main.get_by_label("People")).to_have_text("CarlaAna")
    expect(ana.get_by_label("People")).to_have_text("AnaBruno")


def test_the_header_opens_another_room_and_back_takes_the_place_there_back(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
) -> None:
    frames = Frames()
    ana = join(
        open_page, papo, "Ana", query="?room=team&heartbeat=0", frames=frames, viewport=PHONE
    )
    assert joins(frames) == [True]
    toggle = ana.get_by_role("button", name="Room team")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    field = ana.get_by_label("Go to room")
    expect(field).to_be_focused()
    # Escape folds it back, the focus back on its button.
    ana.keyboard.press("Escape")
    expect(field).to_be_hidden()
    expect(toggle).to_be_focused()
    ana.keyboard.press("Enter")
    expect(field).to_be_focused()
    # The room it is in: nowhere to go.
    field.fill("TEAM")
    field.press("Enter")
    expect(field).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(ana).to_have_url(re.compile(r"/\?room=team&heartbeat=0$"))
    toggle.click()

    # A name that is no room's is said so, and goes nowhere.
    field.fill("Ops Room")
    field.press("Enter")
    expect(ana.get_by_role("alert")).to_have_text("“Ops Room” is not a room name.")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(ana).to_have_url(re.compile(r"/\?room=team&heartbeat=0$"))
    no_sideways_scroll(ana)

    field.fill("Ops-2")
    ana.get_by_role("button", name="Go").click()
    expect(ana).to_have_url(re.compile(r"/\?heartbeat=0&room=ops-2$"))
    expect(ana.get_by_role("button", name="Room ops-2")).to_be_visible()
    expect(ana).to_have_title("ops-2 · papo")
    # In a room of its own, the tab joins afresh: team's token stays in team.
    ana.get_by_label("Your name").fill("Ana")
    ana.get_by_role("button", name="Join").click()
    expect(ana.get_by_role("status")).to_have_text("you are Ana")
    assert [room_of(url) for url in frames.urls] == ["team", "ops-2"]
    assert joins(frames) == [True, True]

    # Back in team, the tab takes its place back, with team's token.
    ana.go_back()
    expect(ana).to_have_url(re.compile(r"/\?room=team&heartbeat=0$"))
    expect(ana.get_by_label("Your name")).to_have_value("Ana")
    ana.get_by_role("button", name="Join").click()
    expect(ana.get_by_role("status")).to_have_text("you are Ana")
    assert [room_of(url) for url in frames.urls] == ["team", "ops-2", "team"]
    first, _, again = joins(frames)
    assert isinstance(again, dict)
    assert again["token"]
    assert first is True

    # main is the page's plain address.
    ana.get_by_role("button", name="Room team").click()
    ana.get_by_label("Go to room").fill("MAIN")
    ana.keyboard.press("Enter")
    expect(ana).to_have_url(re.compile(r"/\?heartbeat=0$"))
    expect(ana.get_by_role("button", name="Room main")).to_be_visible()
    expect(ana.get_by_role("status")).to_have_text("connected")
    assert [room_of(url) for url in frames.urls] == ["team", "ops-2", "team", None]


def test_an_address_naming_no_room_says_so_and_does_not_connect(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
) -> None:
    frames = Frames()
    page = open_page(query="?room=-team&heartbeat=0", frames=frames, viewport=PHONE, clock=True)
    expect(page.get_by_role("alert")).to_have_text("“-team” is not a room name.")
    expect(page.get_by_role("status")).to_have_text("not connected")
    expect(page.get_by_label("Your name")).to_have_count(0)
    expect(page).to_have_title("papo")
    field = page.get_by_label("Go to room")
    expect(field).to_have_value("-team")
    page.clock.run_for(10_000)  # whatever the page would try later, it tries now
    expect(page.get_by_role("status")).to_have_text("not connected")
    assert frames.urls == []
    field.fill("team")
    field.press("Enter")
    expect(page).to_have_url(re.compile(r"/\?heartbeat=0&room=team$"))
    expect(page.get_by_role("status")).to_have_text("connected")
    assert [room_of(url) for url in frames.urls] == ["team"]


def test_rooms_in_portuguese_and_for_axe(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,  # noqa: F811
) -> None:
    if not AXE.is_file():
        needs("axe-core (make web installs it)")
    # axe's script is injected inline, which the page's policy rightly refuses.
    options = {"bypass_csp": True, "reduced_motion": "reduce", "locale": "pt-BR"}
    page = open_page(query="?room=equipe", viewport=PHONE, **options)
    page.get_by_label("Seu nome").fill("Ana")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("status")).to_have_text("você é Ana")
    page.get_by_role("button", name="Sala equipe").click()
    page.get_by_label("Ir para a sala").fill("a_b")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("“a_b” não é um nome de sala.")
    assert serious_violations(page) == [], "the room form with a refusal"

    wrong = open_page(query="?room=" + "x" * 33, **options)
    expect(wrong.get_by_role("alert")).to_contain_text("não é um nome de sala")
    assert serious_violations(wrong) == [], "an address that names no room"
