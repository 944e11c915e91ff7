"""papo's web client in Debian's Chromium, driven by Playwright, against papo's
handler under the emulator and the bot on the fake OpenAI server.

With `PAPO_SCREENSHOT_DIR=docs`, the tests also draw the docs' pictures."""

from __future__ import annotations

import gzip
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    ViewportSize,
    WebSocket,
    expect,
)

from papo.local.server import Emulator
from papo.local.web import WEB_DIST
from tests.bot_room import bot_room
from tests.browser import needs
from tests.fake_openai import FakeOpenAi, Reply

__all__ = ["needs"]  # for the other tests of the page

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}

MARKDOWN_PIECES = [
    "Here is **papo** in short, with `inline code` and [its page](https://example.com/papo):\n\n",
    "- a room for people who talk\n- a bot that answers in *Markdown*\n\n",
    "| route | what it does |\n|---|---|\n| `setName` | joins the room |\n",
    "| `sendBot` | asks the bot |\n\nAnd some code:\n\n```python\ndef hello(name):\n",
    '    return f"Hello, {name}!"\n```\n\nThat is all: ask away, and enjoy the room!',
]
CODE = 'def hello(name):\n    return f"Hello, {name}!"'
AXE = Path(__file__).resolve().parents[1] / "web" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def papo(tmp_path: Path, fake: FakeOpenAi) -> Iterator[Emulator]:
    with bot_room(tmp_path, fake, web_dir=WEB_DIST, PAPO_BOT_FLUSH_MS="100") as api:
        yield api


OpenPage = Callable[..., Page]


class Frames:
    """What a page says to papo and hears from it over its WebSocket."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.sent: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []

    def listen(self, page: Page) -> None:
        def opened(ws: WebSocket) -> None:
            self.urls.append(ws.url)
            ws.on("framesent", lambda payload: self.sent.append(json.loads(payload)))
            ws.on("framereceived", lambda payload: self.received.append(json.loads(payload)))

        page.on("websocket", opened)

    def wait(self, page: Page, heard: Callable[[], bool], seconds: float = 10) -> bool:
        """Whether `heard` came true within `seconds`."""
        deadline = time.monotonic() + seconds
        while not heard():
            if time.monotonic() > deadline:
                return False
            page.wait_for_timeout(50)
        return True


class Pages:
    """Pages of `browser`, each in a browser context of its own (`viewport`,
    `locale`, `color_scheme`, … as Playwright takes them), running `script`
    before the page's own, its frames into `frames`, its requests into
    `requests`; `close` closes them all."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []

    def open(
        self,
        url: str,
        *,
        frames: Frames | None = None,
        script: str = "",
        requests: list[Request] | None = None,
        blocked: re.Pattern[str] | None = None,
        clock: bool = False,
        **options: Any,
    ) -> Page:
        """Opens `url`; the context aborts every request whose URL `blocked` matches;
        `clock`: the page's timers run on Playwright's clock (`page.clock.run_for`
        then fires at once what would come later)."""
        context = self.browser.new_context(**{"viewport": DESKTOP, **options})
        self.contexts.append(context)
        if blocked is not None:
            context.route(blocked, lambda route: route.abort())
        page = context.new_page()
        if frames is not None:
            frames.listen(page)
        if requests is not None:
            page.on("request", lambda request: requests.append(request))
        if script:
            page.add_init_script(script)
        if clock:
            page.clock.install()
        page.goto(url)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def open_page(browser: Browser, papo: Emulator) -> Iterator[OpenPage]:
    """Opens papo's page (see `Pages.open`), its address ending in `query`
    (`?heartbeat=1000`)."""
    pages = Pages(browser)

    def opened(*, query: str = "", **options: Any) -> Page:
        assert papo.web_url is not None
        return pages.open(papo.web_url + query, **options)

    yield opened
    pages.close()


def join(browser: Browser | OpenPage, papo: Emulator, name: str, **options: Any) -> Page:
    """A page that joined as `name`: from `open_page` with its options, or a
    plain page of `browser`."""
    if isinstance(browser, Browser):
        assert papo.web_url is not None
        page = browser.new_page()
        page.goto(papo.web_url)
    else:
        page = browser(**options)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("status")).to_have_text(f"you are {name}")
    return page


def send(page: Page, to: str, message: str) -> None:
    page.get_by_label("To").select_option(label=to)
    page.get_by_role("textbox", name="Message").fill(message)
    page.get_by_role("button", name="Send").click()


def no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth,"
        " document.querySelector('.messages')?.scrollWidth ?? 0,"
        " document.querySelector('.messages')?.clientWidth ?? 0]"
    )
    page_width, viewport, log_width, log_client = widths
    assert page_width <= viewport, f"the page scrolls sideways: {widths}"
    assert log_width <= log_client, f"the conversation scrolls sideways: {widths}"


def screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("PAPO_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name))


def test_a_conversation_with_the_bot_streaming_in(
    browser: Browser, papo: Emulator, fake: FakeOpenAi
) -> None:
    fake.default = Reply(pieces=["Papo ", "is ", "a ", "chat ", "with ", "a ", "bot."], held=True)
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
    fake.release()
    streaming = bruno.locator(".bot.streaming")
    expect(streaming.locator(".answer")).to_have_text("Papo")
    fake.release(6)
    for page in (ana, bruno):
        expect(page.locator(".bot.complete")).to_have_text("Bot: Papo is a chat with a bot.")
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


@pytest.mark.parametrize(
    ("viewport", "color_scheme", "picture"),
    [(PHONE, "dark", "web-phone.png"), (DESKTOP, "light", "web-desktop.png")],
    ids=["phone", "desktop"],
)
def test_people_talk_and_the_bot_answers_in_markdown(
    open_page: OpenPage,
    papo: Emulator,
    fake: FakeOpenAi,
    viewport: ViewportSize,
    color_scheme: str,
    picture: str,
) -> None:
    fake.default = Reply(pieces=MARKDOWN_PIECES, held=True)
    ana = join(
        open_page,
        papo,
        "Ana",
        viewport=viewport,
        color_scheme=color_scheme,
        permissions=["clipboard-read", "clipboard-write"],
    )
    bruno = join(open_page, papo, "Bruno")
    people = ana.get_by_label("People")
    if viewport is PHONE:
        toggle = ana.get_by_role("button", name="People (2)")
        expect(people).to_be_hidden()
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(people).to_have_text("AnaBruno")
        ana.keyboard.press("Escape")
        expect(people).to_be_hidden()
        toggle.click()
        expect(people).to_be_visible()
        ana.get_by_role("log").click(position={"x": 10, "y": 200})  # a tap beside it
        expect(people).to_be_hidden()
        expect(toggle).to_have_attribute("aria-expanded", "false")
    else:
        expect(ana.get_by_role("button", name="People (2)")).to_be_hidden()
        expect(people).to_have_text("AnaBruno")

    box = ana.get_by_role("textbox", name="Message")
    for control in (ana.get_by_label("To"), box, ana.get_by_role("button", name="Send")):
        expect(control).to_be_in_viewport()
    # A long word wraps, and scrolls nothing sideways.
    digest = "sha256:" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" * 2
    send(ana, "Everyone", f"The build's digest: {digest}")
    expect(bruno.get_by_role("log")).to_contain_text(digest)
    send(ana, "Everyone", "Hello, room! See https://example.com/docs.")
    expect(bruno.get_by_role("log")).to_contain_text(
        "Ana: Hello, room! See https://example.com/docs."
    )
    link = bruno.get_by_role("link", name="https://example.com/docs")
    expect(link).to_have_attribute("href", "https://example.com/docs")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    send(bruno, "Ana (private)", "just for you")
    expect(ana.locator(".private")).to_have_text("Bruno to Ana, privately: just for you")

    send(ana, "Ask the bot", "What is papo?")
    fake.release(len(MARKDOWN_PIECES) - 1)  # the last, which closes the code, held back
    for page in (ana, bruno):
        streaming = page.locator(".bot.streaming")
        # Half a table shows as a table, and an unclosed code block as code.
        expect(streaming.locator("table")).to_be_visible()
        expect(streaming.locator("pre code")).to_contain_text("def hello(name):")
        expect(streaming.locator(".answer")).not_to_contain_text("```")
        expect(page.locator("li[aria-busy=true] .bot.streaming")).to_have_count(1)
    fake.release()

    for page in (ana, bruno):
        answer = page.locator(".bot.complete .answer")
        expect(answer.locator("strong")).to_have_text("papo")
        expect(answer.locator("p code").first).to_have_text("inline code")
        expect(answer.locator("ul > li")).to_have_text(
            ["a room for people who talk", "a bot that answers in Markdown"]
        )
        expect(answer.locator("table tr")).to_have_count(3)
        expect(answer.locator("table th")).to_have_text(["route", "what it does"])
        expect(answer.locator("pre code.language-python")).to_have_text(CODE)
        expect(answer.locator(".code-language")).to_have_text("python")
        page_link = answer.get_by_role("link", name="its page")
        expect(page_link).to_have_attribute("href", "https://example.com/papo")
        expect(page_link).to_have_attribute("target", "_blank")
        expect(page_link).to_have_attribute("rel", "noopener noreferrer")
        expect(answer).not_to_contain_text("|---")
        expect(page.locator("li[aria-busy]")).to_have_count(0)

    for control in (ana.get_by_label("To"), box, ana.get_by_role("button", name="Send")):
        expect(control).to_be_in_viewport()
    no_sideways_scroll(ana)
    no_sideways_scroll(bruno)
    screenshot(ana, picture)

    answer = ana.locator(".bot.complete .answer")
    answer.get_by_role("button", name="Copy").click()
    expect(answer.get_by_role("button", name="Copied")).to_be_visible()
    assert ana.evaluate("navigator.clipboard.readText()") == CODE


def test_html_in_a_message_or_an_answer_shows_as_text_and_runs_nothing(
    open_page: OpenPage, papo: Emulator, fake: FakeOpenAi
) -> None:
    fake.default = Reply(
        pieces=[
            "Try <img src=x onerror=window.pwned=3> or <script>window.pwned=4</script>",
            " and [this](javascript:window.pwned=5).",
        ]
    )
    assert papo.web_url is not None
    response = open_page().request.get(papo.web_url)
    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    api = papo.websocket_url.removeprefix("ws://").split("/")[0]
    assert directives["connect-src"] == f"'self' ws://{api} wss://{api}"
    assert "unsafe" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"

    ana = join(open_page, papo, "Ana")
    bruno = join(open_page, papo, "Bruno")
    for page in (ana, bruno):
        page.evaluate(
            "window.violations = [];"
            "document.addEventListener('securitypolicyviolation',"
            " (e) => window.violations.push(e.violatedDirective))"
        )
    image = "<img src=x onerror=window.pwned=1>"
    script = "<script>window.pwned=2</script>"
    send(ana, "Everyone", image)
    send(ana, "Bruno (private)", script)
    send(ana, "Ask the bot", "And HTML?")
    log = bruno.get_by_role("log")
    expect(log).to_contain_text(f"Ana: {image}")
    expect(log).to_contain_text(f"Ana to Bruno, privately: {script}")
    answer = bruno.locator(".bot.complete .answer")
    expect(answer).to_have_text(
        "Try <img src=x onerror=window.pwned=3> or <script>window.pwned=4</script> and this."
    )
    expect(answer.get_by_role("link")).to_have_count(0)
    for page in (ana, bruno):
        expect(page.locator(".messages img, .messages script")).to_have_count(0)
        assert page.evaluate("window.pwned") is None
        assert page.evaluate("window.violations") == []


def test_lines_show_their_time_and_the_history_sits_above_a_divider(
    open_page: OpenPage, papo: Emulator
) -> None:
    ana = join(open_page, papo, "Ana")
    send(ana, "Everyone", "Anyone here?")
    expect(ana.get_by_role("log")).to_contain_text("Ana: Anyone here?")

    carla = join(open_page, papo, "Carla", locale="en-GB", timezone_id="America/Sao_Paulo")
    log = carla.get_by_role("log")
    expect(log).to_contain_text("Carla joined the chat")
    items = log.locator("ol > li")
    expect(items).to_have_count(4)
    assert [item.get_attribute("class") for item in items.all()] == [
        "day",
        "line from-history",
        "earlier",
        "line",
    ]
    expect(items.nth(0)).to_have_text("Today")
    expect(items.nth(2)).to_have_text("Earlier messages")
    expect(items.nth(3)).to_contain_text("Carla joined the chat")
    times = log.locator("li.line time")
    expect(times).to_have_count(2)
    for said in times.all():
        assert re.fullmatch(r"\d\d:\d\d", said.inner_text()), said.inner_text()
        moment = said.get_attribute("datetime") or ""
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", moment)


def test_the_title_counts_unread_messages_and_lines_for_you_stand_out(
    open_page: OpenPage, papo: Emulator
) -> None:
    ana = join(open_page, papo, "Ana")
    bruno = join(open_page, papo, "Bruno")
    expect(ana).to_have_title("papo")

    def visibility(page: Page, state: str) -> None:
        page.evaluate(
            "(state) => { Object.defineProperty(document, 'visibilityState',"
            " {value: state, configurable: true});"
            " document.dispatchEvent(new Event('visibilitychange')); }",
            state,
        )

    visibility(ana, "hidden")
    send(bruno, "Everyone", "Is anyone around?")
    expect(ana).to_have_title("(1) papo")
    send(bruno, "Everyone", "ana, are you there?")
    send(bruno, "Ana (private)", "psst")
    send(bruno, "Everyone", "Banana bread is ready")
    expect(ana).to_have_title("(4) papo")
    expect(bruno).to_have_title("papo")
    visibility(ana, "visible")
    expect(ana).to_have_title("papo")

    log = ana.get_by_role("log")
    expect(log.locator("li.attention")).to_have_text(
        [re.compile(r"Bruno: ana, are you there\?"), re.compile(r"Bruno to Ana, privately: psst")]
    )
    expect(log.locator("li.attention").first).to_contain_text("mentions you")
    expect(bruno.get_by_role("log").locator("li.attention")).to_have_count(1)  # the private one


def test_the_message_box_grows_sends_on_enter_and_counts_near_the_limit(
    open_page: OpenPage, papo: Emulator
) -> None:
    ana = join(open_page, papo, "Ana", viewport=PHONE)
    box = ana.get_by_role("textbox", name="Message")
    send_button = ana.get_by_role("button", name="Send")
    height = box.bounding_box()["height"]  # type: ignore[index]
    box.press_sequentially("first line")
    for line in ("second", "third", "fourth"):
        box.press("Shift+Enter")
        box.press_sequentially(line)
    assert box.bounding_box()["height"] > height * 2  # type: ignore[index]
    box.press("Enter")
    expect(ana.get_by_role("log")).to_contain_text("Ana: first line\nsecond\nthird\nfourth")
    expect(box).to_have_value("")
    expect(box).to_be_focused()

    count = ana.locator("#composer-count")
    box.fill("a" * 3000)
    expect(count).to_be_hidden()
    box.fill("a" * 3990)
    expect(count).to_have_text("10 characters left")
    expect(send_button).to_be_enabled()
    box.fill("é" * 4001)
    expect(count).to_have_text("1 character too many")
    expect(send_button).to_be_disabled()
    ana.get_by_label("To").select_option(label="Ask the bot")
    box.fill("?" * 999)
    expect(count).to_have_text("1 character left")
    expect(box).to_be_in_viewport()
    expect(send_button).to_be_in_viewport()
    no_sideways_scroll(ana)


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), 9))


def test_the_page_javascript_is_small() -> None:
    """At most 139 KB gzipped (`gzip -9`, as docs/web-client.md says): the script the page
    loads and what it imports; the sign-in's chunk (oidc-client-ts), which the page
    imports only where config.json names an issuer, on its own. (120 KB until the
    conversation was windowed: @tanstack/react-virtual is 10.4 KB of it; 134 KB
    until presence, typing, read markers and notifications, lines that change and
    the bot's controls, 4.1 KB together.)"""
    page = WEB_DIST / "index.html"
    if not page.is_file():
        needs("the built web client (make web)")
    (entry,) = re.findall(
        r'<script type="module"[^>]* src="\./(assets/[^"]+\.js)"', page.read_text()
    )
    loaded, new = set(), [WEB_DIST / entry]
    while new:  # the entry's static imports, theirs, and so on
        script = new.pop()
        loaded.add(script)
        imported = re.findall(r'(?:from|import)\s*"\./([^"]+\.js)"', script.read_text())
        new += [
            WEB_DIST / "assets" / name
            for name in imported
            if WEB_DIST / "assets" / name not in loaded
        ]
    size = sum(map(gzipped, loaded))
    assert size <= 139_000, f"{size:,} bytes gzipped"
    lazy = sorted(set((WEB_DIST / "assets").glob("*.js")) - loaded)
    assert [path.name.split("-")[0] for path in lazy] == ["oidc"]
    assert gzipped(lazy[0]) <= 15_000, f"the sign-in: {gzipped(lazy[0]):,} bytes gzipped"


def test_the_page_speaks_the_browser_language_and_tells_the_server(
    open_page: OpenPage, papo: Emulator
) -> None:
    frames = Frames()
    ana = open_page(locale="pt-BR", frames=frames)
    expect(ana.locator("html")).to_have_attribute("lang", "pt-BR")
    ana.get_by_label("Seu nome").fill("Ana")
    ana.get_by_role("button", name="Entrar").click()
    expect(ana.get_by_role("status")).to_have_text("você é Ana")
    (url,) = frames.urls
    assert parse_qs(urlsplit(url).query) == {"lang": ["pt-BR"]}

    def named() -> list[dict[str, Any]]:
        return [frame for frame in frames.sent if frame["action"] == "setName"]

    assert named() == [{"action": "setName", "name": "Ana", "language": "pt-BR", "resume": True}]
    expect(ana.get_by_label("Para")).to_have_value("")
    expect(ana.get_by_label("Para").locator("option")).to_have_text(["Todos", "Perguntar ao bot"])
    ana.get_by_role("textbox", name="Mensagem").fill("Olá!")
    ana.get_by_role("button", name="Enviar").click()
    log = ana.get_by_role("log")
    expect(log).to_have_accessible_name("Mensagens")
    expect(log).to_contain_text("Ana: Olá!")
    expect(log.locator("li.day")).to_have_text("Hoje")

    assert frames.wait(
        ana, lambda: any(f.get("publicMessage") == "Ana: Olá!" for f in frames.received)
    )
    heard = len(frames.received)
    ana.get_by_label("Idioma").select_option("en")
    expect(ana.get_by_role("status")).to_have_text("you are Ana")
    expect(ana.locator("html")).to_have_attribute("lang", "en")
    expect(ana.get_by_label("To").locator("option")).to_have_text(["Everyone", "Ask the bot"])
    expect(log.locator("li.day")).to_have_text("Today")
    assert frames.wait(ana, lambda: len(named()) == 2)
    assert named()[1] == {"action": "setName", "name": "Ana", "language": "en"}
    # Harmless: the server answers with the members, and refuses nothing.
    assert frames.wait(ana, lambda: any("members" in f for f in frames.received[heard:]))
    assert not [frame for frame in frames.received if "error" in frame or "code" in frame]
    assert len(frames.urls) == 1  # the same connection: no leave and join again
    expect(log.get_by_role("alert")).to_have_count(0)

    ana.reload()  # the choice is remembered
    expect(ana.get_by_label("Your name")).to_be_visible()
    expect(ana.get_by_role("status")).to_have_text("connected")
    assert frames.wait(ana, lambda: len(frames.urls) == 2)
    assert parse_qs(urlsplit(frames.urls[-1]).query) == {"lang": ["en"]}


def test_after_switching_to_portuguese_the_server_speaks_portuguese(
    open_page: OpenPage, papo: Emulator
) -> None:
    frames = Frames()
    ana = open_page(frames=frames)
    ana.get_by_label("Your name").fill("Ana")
    ana.get_by_role("button", name="Join").click()
    expect(ana.get_by_role("status")).to_have_text("you are Ana")
    ana.get_by_label("Language").select_option("pt-BR")
    expect(ana.get_by_role("status")).to_have_text("você é Ana")

    # The page also tells how far Ana has read, and who is here: the last setName says the language.
    def told() -> bool:
        names = [f for f in frames.sent if f.get("action") == "setName"]
        return bool(names) and names[-1].get("language") == "pt-BR"

    assert frames.wait(ana, told)

    join(open_page, papo, "Bruno")
    joined = ana.get_by_role("log").locator("li[data-kind=system]").filter(has_text="Bruno")
    expect(joined).to_have_count(1)
    expect(joined.locator(".body")).to_have_text("Bruno acabou de entrar.", timeout=2000)


def serious_violations(page: Page) -> list[str]:
    """What axe-core finds on the page that is serious or critical."""
    if not page.evaluate("'axe' in window"):
        page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target)}`)"""
    )
    return list(violations)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_axe_finds_nothing_serious(
    open_page: OpenPage, papo: Emulator, fake: FakeOpenAi, color_scheme: str
) -> None:
    if not AXE.is_file():
        needs("axe-core (make web installs it)")
    fake.default = Reply(pieces=MARKDOWN_PIECES)
    # axe's script is injected inline, which the page's policy rightly refuses.
    options = {"color_scheme": color_scheme, "bypass_csp": True, "reduced_motion": "reduce"}
    ana = open_page(**options)
    expect(ana.get_by_label("Your name")).to_be_focused()
    assert serious_violations(ana) == [], "the join form"
    ana.get_by_label("Your name").fill("Bot")
    ana.get_by_role("button", name="Join").click()
    expect(ana.get_by_role("alert")).to_be_visible()
    assert serious_violations(ana) == [], "the join form with a refusal"

    ana.get_by_label("Your name").fill("Ana")
    ana.get_by_role("button", name="Join").click()
    bruno = join(open_page, papo, "Bruno")
    send(bruno, "Everyone", "Hi Ana, see https://example.com")
    send(bruno, "Ana (private)", "psst")
    send(ana, "Everyone", "Hello!")
    expect(ana.get_by_role("log")).to_contain_text("Ana: Hello!")
    assert serious_violations(ana) == [], "the room"

    send(ana, "Ask the bot", "What is papo?")
    expect(ana.locator(".bot.complete pre")).to_be_visible()
    assert serious_violations(ana) == [], "the room with an answer"

    ana.set_viewport_size(PHONE)
    ana.get_by_role("button", name="People (2)").click()
    expect(ana.get_by_label("People")).to_be_visible()
    assert serious_violations(ana) == [], "the room on a phone, people shown"


def focused(page: Page) -> str:
    """The focused element, as `tag name`, if its focus shows."""
    return str(
        page.evaluate(
            """() => {
                const e = document.activeElement;
                const style = getComputedStyle(e);
                const shows = e.matches(":focus-visible") && style.outlineStyle !== "none"
                    && parseFloat(style.outlineWidth) >= 2;
                const name = e.getAttribute("aria-label") || e.textContent.trim();
                return `${e.tagName.toLowerCase()} ${name}${shows ? "" : " (focus not shown)"}`;
            }"""
        )
    )


def tab_stops(page: Page, count: int, key: str) -> list[str]:
    stops = []
    for _ in range(count):
        page.keyboard.press(key)
        stops.append(focused(page))
    return stops


def test_keyboard_alone_joins_talks_and_asks(
    open_page: OpenPage, papo: Emulator, fake: FakeOpenAi
) -> None:
    fake.default = Reply(pieces=["Papo is ", "a chat."])
    ana = open_page(viewport=PHONE)
    expect(ana.get_by_role("status")).to_have_text("connected")
    expect(ana.get_by_label("Your name")).to_be_focused()
    ana.keyboard.type("Ana")
    ana.keyboard.press("Enter")
    expect(ana.get_by_role("status")).to_have_text("you are Ana")
    box = ana.get_by_role("textbox", name="Message")
    expect(box).to_be_focused()
    ana.keyboard.type("Hello from the keyboard")
    ana.keyboard.press("Enter")
    log = ana.get_by_role("log")
    expect(log).to_contain_text("Ana: Hello from the keyboard")

    ana.keyboard.press("Shift+Tab")
    assert focused(ana) == "select To"
    ana.keyboard.press("ArrowDown")
    expect(ana.get_by_label("To")).to_have_value("Bot")
    ana.keyboard.press("Tab")
    ana.keyboard.type("What is papo?")
    ana.keyboard.press("Enter")
    expect(log.locator(".bot.complete")).to_have_text("Bot: Papo is a chat.")

    # From the message box back to the top, one Shift+Tab at a time: the answer
    # to her own question offers to ask again.
    assert tab_stops(ana, 6, "Shift+Tab") == [
        "select To",
        "button Ask again",
        "div Messages",
        "select Language",
        "button Notifications",
        "button People (1)",
    ]
    ana.keyboard.press("Enter")
    expect(ana.get_by_label("People")).to_have_text("Ana")
    ana.keyboard.press("Escape")
    expect(ana.get_by_label("People")).to_be_hidden()
    assert focused(ana) == "button People (1)"

    ana.set_viewport_size(DESKTOP)
    box.fill("x")  # Send takes the focus once there is something to send
    assert tab_stops(ana, 1, "Tab") == ["button Send"]
    assert tab_stops(ana, 5, "Shift+Tab") == [
        "textarea Message",
        "select To",
        "button Ask again",
        "div Messages",
        "select Language",  # the people list shows beside: no button for it
    ]
