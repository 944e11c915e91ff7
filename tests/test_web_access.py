"""papo's web client asked who it is, in Chromium: papo's handler under the
emulator behind papo's own `REQUEST` authorizer, as on AWS. An invite link lets
its holder in under the name it names; a bad or missing one says so; a
sign-in with OpenID Connect goes through a real provider on loopback
(`oidc-provider-mock`) and back, by the authorization code flow with PKCE.
Also: what `papo serve` tells the page (`config.json`) and lets it reach (its
Content-Security-Policy) when it signs in."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import http.server
import importlib
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import httpx
import oidc_provider_mock
import pytest
import werkzeug.serving
from playwright.sync_api import Browser, Request, expect

from papo.aws.handler import ROUTE_KEYS
from papo.core.invites import make_invite
from papo.local.config import PAPO_HANDLER, ApiConfig, Authorizer
from papo.local.server import Emulator
from papo.local.web import WEB_DIST, PageOidc
from tests.conftest import PapoServe, free_port, listens
from tests.served import UNPACED
from tests.test_web import (  # the page's fixtures and helpers
    AXE,
    Frames,
    OpenPage,
    Pages,
    needs,
    send,
    serious_violations,
)

SECRET = "papo-test-invite-secret"
CLIENT_ID = "papo-web"
# Each wait before reconnecting is then 0.9 of its longest: some 900 ms away at first.
STEADY_JITTER = "Math.random = () => 0.9;"
ONLY_LOOPBACK = re.compile(r"^(?!(?:https?|wss?)://(?:127\.0\.0\.1|localhost)[:/])")


@contextlib.contextmanager
def behind_papos_authorizer(tmp_path: Path, **environment: str) -> Iterator[Emulator]:
    """papo with its authorizer on `$connect`, the web client served beside it."""
    oidc = None
    if environment.get("PAPO_AUTH") == "oidc":
        oidc = PageOidc(environment["PAPO_OIDC_ISSUER"], environment["PAPO_OIDC_AUDIENCE"])
    config = ApiConfig.for_handler(
        PAPO_HANDLER,
        ROUTE_KEYS,
        authorizer=Authorizer.papos(),
    )
    environment = {
        "PAPO_STORE": "sqlite",
        "PAPO_SQLITE_PATH": str(tmp_path / "papo.sqlite3"),
        "PAPO_MANAGEMENT_ENDPOINT": "",
        **UNPACED,
        **environment,
    }
    served = Emulator(
        config,
        port=0,
        tls_port=0,
        environment=environment,
        web_port=0,
        web_dir=WEB_DIST,
        web_oidc=oidc,
    )
    with served.running() as api:
        yield api


@pytest.fixture
def papo(tmp_path: Path) -> Iterator[Emulator]:
    with behind_papos_authorizer(tmp_path, PAPO_AUTH="invite", PAPO_INVITE_SECRET=SECRET) as api:
        yield api


def invite(name: str | None = None, seconds: int = 600) -> str:
    return make_invite(SECRET.encode(), expires_at=int(time.time()) + seconds, name=name)


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    """Opens `url` (see `Pages.open`) in a context that reaches loopback only."""
    pages = Pages(browser)
    yield functools.partial(pages.open, blocked=ONLY_LOOPBACK)
    pages.close()


def web_url(api: Emulator) -> str:
    assert api.web_url is not None
    return api.web_url


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_an_invite_for_ana_joins_as_ana_and_talks(open_page: OpenPage, papo: Emulator) -> None:
    token = invite("Ana")
    frames = Frames()
    ana = open_page(f"{web_url(papo)}?invite={token}&heartbeat=0", frames=frames)
    name = ana.get_by_label("Your name")
    expect(name).to_have_value("Ana")
    expect(name).not_to_be_editable()
    expect(name).to_have_accessible_description("Set by your invite or account.")
    # Out of sight, kept for a reload; the page's other settings stay.
    expect(ana).to_have_url(f"{web_url(papo)}?heartbeat=0")
    assert ana.evaluate("sessionStorage.getItem('papo.invite')") == token
    ana.get_by_role("button", name="Join").click()
    expect(ana.get_by_role("status")).to_have_text("you are Ana")
    (url,) = frames.urls
    assert query(url) == {"token": [token], "lang": ["en"]}

    bruno = open_page(f"{web_url(papo)}?invite={invite()}")
    expect(bruno.get_by_label("Your name")).to_be_editable()  # an invite for anyone
    bruno.get_by_label("Your name").fill("Bruno")
    bruno.get_by_role("button", name="Join").click()
    expect(bruno.get_by_role("status")).to_have_text("you are Bruno")
    send(ana, "Everyone", "Hello, Bruno!")
    expect(bruno.get_by_role("log")).to_contain_text("Ana: Hello, Bruno!")

    ana.reload()  # the invite kept: the same name, the place in the room taken back
    expect(name).to_have_value("Ana")
    expect(name).not_to_be_editable()
    ana.get_by_role("button", name="Join").click()
    expect(ana.get_by_role("status")).to_have_text("you are Ana")
    assert frames.wait(ana, lambda: len(frames.urls) == 2)
    assert query(frames.urls[1])["token"] == [token]
    send(ana, "Everyone", "Back again.")
    expect(bruno.get_by_role("log")).to_contain_text("Ana: Back again.")
    assert [line for line in bruno.get_by_role("log").all_inner_texts() if "left" in line] == []


@pytest.mark.parametrize("bad", ["expired", "altered"])
def test_a_bad_invite_says_so_and_tries_no_more(
    open_page: OpenPage, papo: Emulator, bad: str
) -> None:
    token = invite("Ana", seconds=-60) if bad == "expired" else invite("Ana")[:-4] + "AAAA"
    frames = Frames()
    ana = open_page(
        f"{web_url(papo)}?invite={token}", frames=frames, script=STEADY_JITTER, clock=True
    )
    expect(ana.get_by_role("alert")).to_have_text("This invite link is invalid or has expired.")
    expect(ana.get_by_role("status")).to_have_text("not connected")
    expect(ana.get_by_role("button", name="Join")).to_be_disabled()
    ana.clock.run_for(10_000)  # a try again would have come after some 900 ms
    expect(ana.get_by_role("status")).to_have_text("not connected")
    assert len(frames.urls) == 1
    assert query(frames.urls[0])["token"] == [token]


def test_without_an_invite_the_page_cannot_join(open_page: OpenPage, papo: Emulator) -> None:
    frames, requests = Frames(), list[Request]()
    page = open_page(web_url(papo), frames=frames, script=STEADY_JITTER, requests=requests)
    expect(page.get_by_role("alert")).to_have_text(
        "Cannot connect: this room may need an invite link."
    )
    assert [r.url for r in requests if "/assets/oidc-" in r.url] == []  # no issuer named
    expect(page.get_by_role("button", name="Join")).to_be_disabled()
    # papo may just be down: the page keeps trying, without a token.
    assert frames.wait(page, lambda: len(frames.urls) >= 2, seconds=5)
    assert all("token" not in query(url) for url in frames.urls)


def test_axe_finds_nothing_serious_on_the_join_form_with_an_invite(
    open_page: OpenPage, papo: Emulator
) -> None:
    if not AXE.is_file():
        needs("axe-core (make web installs it)")
    page = open_page(f"{web_url(papo)}?invite={invite('Ana')}", bypass_csp=True)
    expect(page.get_by_role("status")).to_have_text("connected")
    assert serious_violations(page) == [], "a name given by the invite"
    page = open_page(f"{web_url(papo)}?invite={invite('Ana', -60)}", bypass_csp=True)
    expect(page.get_by_role("alert")).to_be_visible()
    assert serious_violations(page) == [], "an invite refused"


# OpenID Connect


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """oidc-provider-mock on loopback, set up as an issuer is for a single-page
    app: the page is a public client (PKCE, no secret), and pages of any origin
    may read its discovery document and token endpoint (CORS)."""
    grant = importlib.import_module("oidc_provider_mock._app").AuthorizationCodeGrant
    methods = [*grant.TOKEN_ENDPOINT_AUTH_METHODS, "none"]
    monkeypatch.setattr(grant, "TOKEN_ENDPOINT_AUTH_METHODS", methods)
    app = oidc_provider_mock.app()

    def cors(response: Any) -> Any:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        return response

    app.after_request(cors)

    server = werkzeug.serving.make_server("localhost", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@pytest.fixture
def oidc_papo(tmp_path: Path, provider: str) -> Iterator[Emulator]:
    with behind_papos_authorizer(
        tmp_path, PAPO_AUTH="oidc", PAPO_OIDC_ISSUER=provider, PAPO_OIDC_AUDIENCE=CLIENT_ID
    ) as api:
        yield api


def b64url_sha256(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


def claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def test_sign_in_with_openid_connect_joins_as_ana_and_talks(
    open_page: OpenPage, oidc_papo: Emulator, provider: str
) -> None:
    httpx.put(f"{provider}/users/ana-sub", json={"name": "Ana"}).raise_for_status()
    frames, requests = Frames(), list[Request]()
    page = open_page(f"{web_url(oidc_papo)}?heartbeat=0", frames=frames, requests=requests)
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    expect(page.get_by_label("Your name")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("not connected")
    assert frames.urls == []  # nothing to knock with yet
    assert [r for r in requests if "/assets/oidc-" in r.url]  # the sign-in's chunk

    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{provider}/oauth2/authorize?**")
    page.get_by_placeholder("sub").fill("ana-sub")
    page.get_by_role("button", name="Authorize").click()

    name = page.get_by_label("Your name")
    expect(name).to_have_value("Ana")
    expect(name).not_to_be_editable()
    # Back at the page, its address as it was before signing in.
    expect(page).to_have_url(f"{web_url(oidc_papo)}?heartbeat=0")
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("status")).to_have_text("you are Ana")
    send(page, "Everyone", "Signed in and talking.")
    expect(page.get_by_role("log")).to_contain_text("Ana: Signed in and talking.")

    # The authorization code flow with PKCE, as a public client.
    (authorize,) = [
        r
        for r in requests
        if r.method == "GET" and r.url.startswith(f"{provider}/oauth2/authorize?")
    ]
    asked = query(authorize.url)
    assert asked["client_id"] == [CLIENT_ID]
    assert asked["response_type"] == ["code"]
    assert asked["redirect_uri"] == [web_url(oidc_papo)]
    assert asked["code_challenge_method"] == ["S256"]
    (exchange,) = [r for r in requests if r.url == f"{provider}/oauth2/token"]
    sent = parse_qs(exchange.post_data or "")
    assert b64url_sha256(sent["code_verifier"][0]) == asked["code_challenge"][0]
    assert "client_secret" not in sent
    # The ID token on the WebSocket address.
    (url,) = frames.urls
    token = query(url)["token"][0]
    assert claims(token)["name"] == "Ana"
    assert claims(token)["aud"] in (CLIENT_ID, [CLIENT_ID])
    assert claims(token)["iss"] == provider

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("not connected")
    assert page.evaluate("sessionStorage.getItem('papo.idToken')") is None
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert len(frames.urls) == 1


def test_a_sign_in_the_issuer_denies_says_so(
    open_page: OpenPage, oidc_papo: Emulator, provider: str
) -> None:
    page = open_page(web_url(oidc_papo))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{provider}/oauth2/authorize?**")
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Signing in did not work: The resource owner or authorization server denied the request"
    )
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page).to_have_url(web_url(oidc_papo))


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_the_join_form_with_sign_in(
    open_page: OpenPage, oidc_papo: Emulator, color_scheme: str
) -> None:
    if not AXE.is_file():
        needs("axe-core (make web installs it)")
    page = open_page(web_url(oidc_papo), bypass_csp=True, color_scheme=color_scheme)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert serious_violations(page) == []


# What papo serve tells the page


class _Discovery(http.server.BaseHTTPRequestHandler):
    """An issuer whose token endpoint is on another host, as Amazon Cognito's is."""

    def do_GET(self) -> None:
        host = self.headers["Host"]
        body = json.dumps(
            {
                "issuer": f"http://{host}",
                "authorization_endpoint": "https://papo-test.auth.example/oauth2/authorize",
                "token_endpoint": "https://papo-test.auth.example/oauth2/token",
            }
        ).encode()
        self.send_response(200 if self.path == "/.well-known/openid-configuration" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def issuer() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@pytest.mark.parametrize("given_by", ["environment", "options"])
def test_papo_serve_names_the_issuer_and_lets_the_page_reach_it(
    papo_serve: PapoServe,
    issuer: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    given_by: str,
) -> None:
    if not (WEB_DIST / "index.html").is_file():
        needs("the built web client (make web)")
    web_port = free_port()
    if given_by == "environment":
        monkeypatch.setenv("PAPO_AUTH", "oidc")
        monkeypatch.setenv("PAPO_OIDC_ISSUER", issuer)
        monkeypatch.setenv("PAPO_OIDC_AUDIENCE", "papo-audience")
        monkeypatch.setenv("PAPO_WEB_OIDC_CLIENT_ID", CLIENT_ID)
        process, url = papo_serve("--web-port", str(web_port))
    else:
        monkeypatch.delenv("PAPO_AUTH", raising=False)
        options = ["--oidc-issuer", issuer, "--oidc-client-id", CLIENT_ID]
        process, url = papo_serve("--web-port", str(web_port), *options)
    assert listens(process, web_port)  # the page's server may start after the API's
    with urlopen(f"http://127.0.0.1:{web_port}/config.json") as response:
        assert json.load(response) == {
            "websocketUrl": url,
            "oidc": {"issuer": issuer, "clientId": CLIENT_ID},
        }
        policy = dict(
            directive.strip().split(" ", 1)
            for directive in response.headers["Content-Security-Policy"].split(";")
        )
    api = urlsplit(url).netloc
    assert policy["connect-src"].split() == [
        "'self'",
        f"ws://{api}",
        f"wss://{api}",
        issuer,
        "https://papo-test.auth.example",
    ]
    assert policy["form-action"] == "'none'"  # the sign-in navigates; no form posts
    banner = (tmp_path / "papo-serve.log").read_text()
    assert f"sign-in         {issuer} (client id {CLIENT_ID})" in banner


def test_papo_serve_without_a_sign_in_names_no_issuer(
    papo_serve: PapoServe, issuer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An issuer in the environment while PAPO_AUTH asks for invites is not the page's."""
    if not (WEB_DIST / "index.html").is_file():
        needs("the built web client (make web)")
    monkeypatch.setenv("PAPO_AUTH", "invite")
    monkeypatch.setenv("PAPO_INVITE_SECRET", SECRET)
    monkeypatch.setenv("PAPO_OIDC_ISSUER", issuer)
    monkeypatch.setenv("PAPO_OIDC_AUDIENCE", CLIENT_ID)
    web_port = free_port()
    process, url = papo_serve("--web-port", str(web_port))
    assert listens(process, web_port)  # the page's server may start after the API's
    with urlopen(f"http://127.0.0.1:{web_port}/config.json") as response:
        assert json.load(response) == {"websocketUrl": url}
        assert issuer not in response.headers["Content-Security-Policy"]


def test_a_page_whose_name_another_device_took_says_so_and_stays_away(
    open_page: OpenPage, papo: Emulator
) -> None:
    """Two pages with one invite: the second takes the name, the first is told
    why and does not come back to take it again (they would take turns)."""
    token = invite("Ana")
    frames = Frames()
    first = open_page(f"{web_url(papo)}?invite={token}&heartbeat=0", frames=frames)
    first.get_by_role("button", name="Join").click()
    expect(first.get_by_role("status")).to_have_text("you are Ana")
    second = open_page(f"{web_url(papo)}?invite={token}&heartbeat=0")
    second.get_by_role("button", name="Join").click()
    expect(second.get_by_role("status")).to_have_text("you are Ana")
    expect(first.get_by_role("status")).to_have_text(
        "You joined on another device, so this one left the chat. Reload to use this one."
    )
    send(second, "Everyone", "Still me.")
    expect(second.get_by_role("log")).to_contain_text("Ana: Still me.")
    expect(second.get_by_role("status")).to_have_text("you are Ana")
    assert len(frames.urls) == 1
