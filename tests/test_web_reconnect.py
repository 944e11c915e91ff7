"""papo's web client coming back by itself after its connection ends (API
Gateway's idle timeout, a `DELETE` through the Management API), kept open by
its heartbeat, and sending one person's messages in the order they were
written; in Chromium, against papo under an emulator that closes connections
idle for 3 seconds."""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Page, WebSocket, expect
from websockets.sync.client import ClientConnection, connect

from papo.adapters.store.sqlite import SqliteStore
from papo.local.server import Emulator
from papo.local.web import WEB_DIST
from tests.bot_room import bot_room
from tests.fake_openai import FakeOpenAi
from tests.test_web import (  # the page's fixtures and helpers
    AXE,
    PHONE,
    Frames,
    OpenPage,
    join,
    needs,
    open_page,  # noqa: F401
    send,
    serious_violations,
)

IDLE_S = 3.0
HEARTBEAT_OFF = "?heartbeat=0"
# Each wait before reconnecting is then 0.9 of its longest: some 900 ms away at first.
STEADY_JITTER = "Math.random = () => 0.9;"
# While `window.papoHeld`, each try of the page fails at the handshake (a stage the
# API does not serve), as with the network gone; an `online` event lets it in at once.
HOLD = """
window.papoHeld = false;
const Open = window.WebSocket;
window.WebSocket = class extends Open {
  constructor(url, protocols) {
    const where = new URL(url);
    if (window.papoHeld) where.pathname = "/held";
    super(where.href, protocols);
  }
};
"""
RELEASE = "window.papoHeld = false; window.dispatchEvent(new Event('online'));"


def tried_held(frames: Frames) -> bool:
    """Whether the page has tried to come back while held, and failed."""
    return any(url.split("?")[0].endswith("/held") for url in frames.urls)


@pytest.fixture
def papo(tmp_path: Path, fake: FakeOpenAi) -> Iterator[Emulator]:
    with bot_room(tmp_path, fake, web_dir=WEB_DIST, idle_timeout_s=IDLE_S) as api:
        yield api


class Listener:
    """Someone in the room on a plain WebSocket client (as the course's clients
    join: no resume), who pings to stay past the idle timeout and keeps every
    frame heard."""

    def __init__(self, api: Emulator, name: str) -> None:
        self.name = name
        self.frames: list[dict[str, Any]] = []
        self._heard = threading.Condition()
        self._stop = threading.Event()
        self._exit = contextlib.ExitStack()
        self.ws: ClientConnection = self._exit.enter_context(connect(api.websocket_url))
        self._threads = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._ping, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self.send("setName", name=name)
        self.wait(lambda f: f.get("event") == "joined" and f.get("name") == name)

    @property
    def port(self) -> int:
        return int(self.ws.local_address[1])

    def _read(self) -> None:
        for message in self.ws:
            with self._heard:
                self.frames.append(json.loads(message))
                self._heard.notify_all()

    def _ping(self) -> None:
        while not self._stop.wait(0.5):
            self.send("ping")

    def send(self, action: str, **fields: Any) -> None:
        self.ws.send(json.dumps({"action": action, **fields}))

    def wait(self, done: Callable[[dict[str, Any]], bool], seconds: float = 10) -> None:
        with self._heard:
            if not self._heard.wait_for(lambda: any(map(done, self.frames)), seconds):
                raise AssertionError(f"{self.name} never heard it: {self.frames}")

    def say(self, text: str) -> None:
        """Says `text` to everyone, and waits to hear it back."""
        self.send("sendPublic", message=text)
        self.wait(lambda f: f.get("from") == self.name and f.get("text") == text)

    def events(self, name: str) -> list[str]:
        return [f["event"] for f in self.frames if "event" in f and f.get("name") == name]

    def close(self) -> None:
        self._stop.set()
        self._exit.close()


@pytest.fixture
def listen(papo: Emulator) -> Iterator[Callable[[str], Listener]]:
    listeners: list[Listener] = []

    def listening(name: str) -> Listener:
        listeners.append(Listener(papo, name))
        return listeners[-1]

    yield listening
    for listener in listeners:
        listener.close()


class Events(Frames):
    """Frames sent and heard, also in one list, in the order they went and came."""

    def __init__(self) -> None:
        super().__init__()
        self.both: list[tuple[str, dict[str, Any]]] = []

    def listen(self, page: Page) -> None:
        super().listen(page)

        def opened(ws: WebSocket) -> None:
            ws.on("framesent", lambda payload: self.both.append(("sent", json.loads(payload))))
            ws.on("framereceived", lambda payload: self.both.append(("heard", json.loads(payload))))

        page.on("websocket", opened)


def delete_pages(api: Emulator, but: Listener) -> None:
    """Closes every connection but the listener's, through the Management API's `DELETE`."""
    management = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=api.management_url,
        region_name="us-east-1",
        aws_access_key_id="papo",
        aws_secret_access_key="papo",
    )
    pages = [
        c.connection_id
        for c in api.registry
        if c.websocket.client is None or c.websocket.client.port != but.port
    ]
    assert len(pages) == 1
    management.delete_connection(ConnectionId=pages[0])


def wait_away(tmp_path: Path, name: str) -> None:
    """Waits until papo has `name` away: its connection's $disconnect has run.

    Someone who speaks before that may reach the dead connection with a post
    begun earlier, which papo then takes for a departure."""
    store = SqliteStore(tmp_path / "papo.sqlite3")
    deadline = time.monotonic() + 5
    while not ((member := store.find(name)) and member.away):
        assert time.monotonic() < deadline, f"{name} is not away: {member}"
        time.sleep(0.02)


def lines(page: Page) -> list[str]:
    return page.get_by_role("log").locator("li.line .body").all_inner_texts()


def status_history(page: Page) -> None:
    """Keeps every text the page's status shows, in `window.statuses`."""
    page.evaluate(
        """() => {
            const status = document.querySelector("[role=status]");
            window.statuses = [status.textContent];
            new MutationObserver(() => window.statuses.push(status.textContent))
                .observe(status, {subtree: true, childList: true, characterData: true});
        }"""
    )


def test_after_the_idle_timeout_the_page_comes_back_and_shows_what_was_said_meanwhile(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,
    listen: Callable[[str], Listener],
    tmp_path: Path,
) -> None:
    frames = Frames()
    ana = join(
        open_page, papo, "Ana", frames=frames, query=HEARTBEAT_OFF, script=STEADY_JITTER + HOLD
    )
    status_history(ana)
    bruno = listen("Bruno")
    bruno.say("before")
    log = ana.get_by_role("log")
    expect(log).to_contain_text("Bruno: before")

    # Quiet for IDLE_S: the emulator closes the page's connection, as API Gateway would;
    # the page's tries fail until Bruno has spoken.
    ana.evaluate("window.papoHeld = true")
    lost = "Connection lost: reconnecting…"
    assert frames.wait(
        ana, lambda: any(lost in text for text in ana.evaluate("window.statuses")), IDLE_S + 10
    )
    wait_away(tmp_path, "Ana")
    assert frames.wait(ana, functools.partial(tried_held, frames)), frames.urls
    for text in ("one", "two", "three"):
        bruno.say(text)  # while the page is away
    status = ana.get_by_role("status")
    ana.evaluate(RELEASE)

    expect(log.locator("li.line .body")).to_have_text(
        [
            "Ana joined the chat",
            "Bruno joined the chat",
            "Bruno: before",
            "Bruno: one",
            "Bruno: two",
            "Bruno: three",
        ],
        timeout=30_000,  # a try under way when let in fails, and the next waits its backoff
    )
    expect(status).to_have_text("you are Ana")
    assert len(frames.urls) >= 2
    resumes = [f for f in frames.sent if isinstance(f.get("resume"), dict)]
    assert resumes, frames.sent
    missed = [item for f in frames.received for item in f.get("missed", [])]
    assert [m["text"] for m in missed if m.get("type") == "public"][:3] == ["one", "two", "three"]

    send(ana, "Everyone", "I am back")
    bruno.wait(lambda f: f.get("text") == "I am back")
    # Nobody saw Ana leave or join again.
    assert bruno.events("Ana") == []
    events = [(f["event"], f["name"]) for f in frames.received if "event" in f]
    assert events.count(("joined", "Ana")) == 1
    assert ("left", "Ana") not in events
    assert lines(ana).count("Bruno: one") == 1


def test_the_heartbeat_keeps_the_page_connected_past_the_idle_timeout(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,
) -> None:
    frames = Frames()
    ana = join(open_page, papo, "Ana", frames=frames, query="?heartbeat=1000")
    status_history(ana)
    # A ping a second, each answered: the fifth pong comes 4 s after the first
    # ping, past the idle timeout (IDLE_S) of a connection that said nothing.
    pong = {"type": "pong"}
    assert frames.wait(ana, lambda: frames.received.count(pong) >= 5, IDLE_S * 5), frames.received
    assert len(frames.urls) == 1  # never reconnected
    assert ana.evaluate("window.statuses") == ["you are Ana"]
    pings = [f for f in frames.sent if f == {"action": "ping"}]
    assert len(pings) >= 5
    expect(ana.get_by_role("status")).to_have_text("you are Ana")


def test_a_connection_deleted_by_the_server_comes_back(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,
    listen: Callable[[str], Listener],
    tmp_path: Path,
) -> None:
    frames = Frames()
    ana = join(open_page, papo, "Ana", frames=frames, query="?heartbeat=1000", script=STEADY_JITTER)
    bruno = listen("Bruno")
    expect(ana.get_by_label("People")).to_have_text("AnaBruno")
    status_history(ana)

    delete_pages(papo, but=bruno)
    wait_away(tmp_path, "Ana")
    bruno.say("Did you drop?")

    log = ana.get_by_role("log")
    expect(log.locator(".body").filter(has_text="Did you drop?")).to_have_count(1)
    expect(ana.get_by_role("status")).to_have_text("you are Ana")
    assert len(frames.urls) == 2
    statuses = ana.evaluate("window.statuses")
    assert "Connection lost: reconnecting…" in statuses, statuses
    send(ana, "Everyone", "Still here")
    bruno.wait(lambda f: f.get("text") == "Still here")
    assert bruno.events("Ana") == []
    expect(log.locator(".body").filter(has_text=re.compile("Ana (left|joined)"))).to_have_count(1)


def test_messages_written_in_a_burst_go_out_one_after_another(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,
    listen: Callable[[str], Listener],
) -> None:
    events = Events()
    ana = join(open_page, papo, "Ana", frames=events, query="?heartbeat=1000")
    bruno = listen("Bruno")

    words = [f"message {n}" for n in range(1, 6)]
    # Written within one task of the page: no answer can come in between.
    ana.evaluate(
        """async (words) => {
            const box = document.querySelector("textarea");
            const proto = HTMLTextAreaElement.prototype;
            const setValue = Object.getOwnPropertyDescriptor(proto, "value").set;
            const settle = async () => { for (let i = 0; i < 10; i++) await Promise.resolve(); };
            for (const word of words) {
                setValue.call(box, word);
                box.dispatchEvent(new Event("input", {bubbles: true}));
                await settle();
                box.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true}));
                await settle();
            }
        }""",
        words,
    )
    expect(ana.get_by_role("log").locator(".body.public")).to_have_text(
        [f"Ana: {word}" for word in words]
    )

    # Bruno's posts may cross on the way (each is its own invocation): he waits
    # for all five, and the room's offsets give the order everybody agrees on.
    def heard_all(frame: dict[str, Any]) -> bool:
        heard = {f.get("text") for f in bruno.frames if f.get("from") == "Ana"}
        return heard >= set(words)

    bruno.wait(heard_all)
    said = sorted(
        (f for f in bruno.frames if f.get("from") == "Ana" and "publicMessage" in f),
        key=lambda f: int(f["offset"]),
    )
    assert [f["text"] for f in said] == words
    # Each went out only once the one before had come back.
    both = events.both
    sends = [
        i for i, (kind, f) in enumerate(both) if kind == "sent" and f["action"] == "sendPublic"
    ]
    assert len(sends) == len(words)
    for previous, start, end in zip(words, sends, sends[1:], strict=False):
        assert any(
            kind == "heard" and f.get("from") == "Ana" and f.get("text") == previous
            for kind, f in both[start:end]
        ), f"sent before {previous!r} came back"


def test_a_reloaded_page_takes_its_place_back_under_its_name(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,
    listen: Callable[[str], Listener],
    tmp_path: Path,
) -> None:
    ana = join(open_page, papo, "Ana", query="?heartbeat=1000")
    bruno = listen("Bruno")
    bruno.say("before the reload")
    log = ana.get_by_role("log")
    expect(log).to_contain_text("Bruno: before the reload")

    ana.reload()
    expect(ana.get_by_label("Your name")).to_have_value("Ana")
    wait_away(tmp_path, "Ana")
    bruno.say("during the reload")
    ana.get_by_role("button", name="Join").click()
    expect(ana.get_by_role("status")).to_have_text("you are Ana")
    expect(log.locator("li.line .body")).to_have_text(
        [
            "Ana joined the chat",
            "Bruno joined the chat",
            "Bruno: before the reload",
            "Bruno: during the reload",
        ]
    )
    assert bruno.events("Ana") == []  # no "taken" name, and nobody saw Ana leave or come


def kept_session(name: str) -> str:
    """A script leaving the page a session kept across a reload, one the server does not know."""
    saved = {"token": "gone.secret", "name": name, "offset": 0, "privateOffset": 0}
    return f"sessionStorage.setItem('papo.session', {json.dumps(json.dumps(saved))});"


def test_a_session_that_cannot_be_resumed_says_so(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,
    listen: Callable[[str], Listener],
) -> None:
    ana = open_page(script=kept_session("Ana"))
    expect(ana.get_by_label("Your name")).to_have_value("Ana")
    ana.get_by_role("button", name="Join").click()
    expect(ana.get_by_role("status")).to_have_text("you are Ana")
    expect(ana.get_by_role("log").locator("li.line .body").last).to_have_text(
        "Your session could not be resumed, so you joined again:"
        " private messages sent to you meanwhile may be missing."
    )

    listen("Bruno")
    other = open_page(script=kept_session("Bruno"))
    other.get_by_role("button", name="Join").click()
    expect(other.get_by_role("alert")).to_have_text(
        "Your session could not be resumed. The name Bruno is already taken. Please choose another."
    )
    expect(other.get_by_label("Your name")).to_be_enabled()


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_while_reconnecting(
    open_page: OpenPage,  # noqa: F811
    papo: Emulator,
    listen: Callable[[str], Listener],
    color_scheme: str,
) -> None:
    if not AXE.is_file():
        needs("axe-core (make web installs it)")
    options = {"color_scheme": color_scheme, "bypass_csp": True, "viewport": PHONE}
    ana = join(open_page, papo, "Ana", **options)
    bruno = listen("Bruno")
    bruno.say("Hi Ana")
    # The next connections open, and nothing ever answers them: the page stays reconnecting.
    ana.route_web_socket(re.compile(".*"), lambda ws: None)
    delete_pages(papo, but=bruno)
    status = ana.get_by_role("status")
    expect(status).to_have_text("Connection lost: reconnecting…")
    expect(status).to_be_in_viewport()
    ana.get_by_role("textbox", name="Message").fill("Are you there?")
    expect(ana.get_by_role("button", name="Send")).to_be_disabled()
    assert serious_violations(ana) == [], "the room, reconnecting"
