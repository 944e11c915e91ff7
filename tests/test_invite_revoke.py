"""One invite revoked without changing the secret (`papo invite revoke`), on
both stores and through `papo serve` with papo's authorizer; and `papo invite`
refusing what papo's authorizer would refuse."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from papo.adapters.store.revoked_invites import revoked_invites
from papo.aws.authorizer import handler as authorizer
from papo.aws.handler import ROUTE_KEYS
from papo.cli import main
from papo.core.invites import make_invite, read_invite
from papo.local.config import PAPO_HANDLER, ApiConfig, Authorizer
from papo.local.server import Emulator
from tests.served import UNPACED, handshake
from tests.test_access import connect_event

SECRET = "papo-test-invite-secret"


@pytest.fixture
def invite_environment(
    store_kind: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> dict[str, str]:
    """PAPO_AUTH=invite's environment over either store, set for this process too."""
    environment = {"PAPO_AUTH": "invite", "PAPO_INVITE_SECRET": SECRET, "PAPO_STORE": store_kind}
    if store_kind == "sqlite":
        environment["PAPO_SQLITE_PATH"] = str(tmp_path / "papo.sqlite3")
    else:
        environment["PAPO_TABLE"] = request.getfixturevalue("dynamodb_table")
        environment["AWS_ENDPOINT_URL_DYNAMODB"] = request.getfixturevalue("moto_url")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    revoked_invites.cache_clear()
    return environment


def invite(name: str | None = None, hours: float = 1) -> str:
    expires_at = int(time.time() + hours * 3600)
    return make_invite(SECRET.encode(), expires_at=expires_at, name=name)


def invite_id(token: str) -> str:
    return read_invite(SECRET.encode(), token, int(time.time())).invite_id


def admitted(token: str) -> bool:
    """Whether the authorizer lets `token` in; any failure but its 401 is raised."""
    try:
        authorizer(connect_event(token), None)
    except Exception as refusal:
        if str(refusal) == "Unauthorized":
            return False
        raise
    return True


def test_a_revoked_invite_is_refused_and_the_others_still_let_in(
    invite_environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    ana, bruno, group = invite("Ana"), invite("Bruno"), invite()
    assert admitted(ana)
    assert admitted(bruno)
    assert admitted(group)
    main(["invite", "revoke", invite_id(ana)])
    assert f"invite {invite_id(ana)} revoked" in capsys.readouterr().out
    assert not admitted(ana)
    assert admitted(bruno)
    assert admitted(group)
    main(["invite", "revoke", invite_id(group)])
    assert not admitted(group)
    assert admitted(invite("Ana"))  # a new invite for Ana: the revoked one only is refused


def test_an_invite_is_revoked_by_its_link_too(
    invite_environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["invite", "--name", "Ana", "--page", "https://chat.example/"])
    page, _wscat = capsys.readouterr().out.splitlines()
    token = parse_qs(urlsplit(page).query)["invite"][0]
    assert admitted(token)
    main(["invite", "revoke", page])
    assert not admitted(token)


def test_an_id_is_never_read_as_an_option(invite_environment: dict[str, str]) -> None:
    """Ids are hex, so none begins with "-"; one that does (earlier versions
    made some) is revoked after "--", as command lines take such arguments."""
    ids = {invite_id(invite()) for _ in range(300)}
    assert all(set(i) <= set("0123456789abcdef") for i in ids)
    main(["invite", "revoke", "--", "-older1"])
    store = revoked_invites(
        invite_environment["PAPO_STORE"],
        invite_environment.get("PAPO_SQLITE_PATH", ""),
        invite_environment.get("PAPO_TABLE", ""),
    )
    assert store.is_revoked("-older1")


def test_papo_invite_says_the_id_to_revoke_it_by(
    invite_environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["invite"])
    printed = capsys.readouterr()
    token = parse_qs(urlsplit(printed.out.splitlines()[0]).query)["invite"][0]
    assert f"papo invite revoke {invite_id(token)}" in printed.err


@pytest.mark.parametrize("store_kind", ["sqlite"])
def test_revoking_what_is_no_invite_says_so_in_one_line(
    invite_environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    forged = f"{invite().partition('.')[0]}.AAAA"
    expired = make_invite(SECRET.encode(), expires_at=int(time.time()) - 1)
    for given, said in [
        (forged, "no invite signed with this secret"),
        (expired, "has expired"),
        ("x" * 65, "is no invite's id"),
        (" ", "is no invite's id"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            main(["invite", "revoke", given])
        assert said in str(exit_.value.code)
        assert "\n" not in str(exit_.value.code)


def test_an_entry_is_kept_until_the_invite_expires(invite_environment: dict[str, str]) -> None:
    store = revoked_invites(
        invite_environment["PAPO_STORE"],
        invite_environment.get("PAPO_SQLITE_PATH", ""),
        invite_environment.get("PAPO_TABLE", ""),
    )
    store.revoke("for-good", None)
    store.revoke("until-later", int(time.time()) + 60)
    store.revoke("past", int(time.time()) - 1)
    assert store.is_revoked("for-good")
    assert store.is_revoked("until-later")
    assert not store.is_revoked("past")
    assert not store.is_revoked("never")


@pytest.fixture(params=[0, 2], ids=["in-threads", "in-2-workers"])
def served(
    invite_environment: dict[str, str], request: pytest.FixtureRequest
) -> Iterator[Emulator]:
    config = ApiConfig.for_handler(
        PAPO_HANDLER,
        ROUTE_KEYS,
        workers=request.param,
        authorizer=Authorizer.papos(),
    )
    environment = {**invite_environment, "PAPO_MANAGEMENT_ENDPOINT": "", **UNPACED}
    with Emulator(config, port=0, tls_port=0, environment=environment).running() as api:
        yield api


def test_under_papo_serve_a_revoked_invite_is_refused_at_the_handshake(
    served: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    ana, bruno = invite("Ana"), invite("Bruno")
    assert asyncio.run(handshake(f"{served.websocket_url}?token={ana}")) == 101
    main(["invite", "revoke", invite_id(ana)])
    assert asyncio.run(handshake(f"{served.websocket_url}?token={ana}")) == 401
    assert asyncio.run(handshake(f"{served.websocket_url}?token={bruno}")) == 101


# papo invite refuses what the authorizer would refuse


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--hours", "nan"], "--hours must be a number above 0, not nan"),
        (["--hours", "inf"], "--hours must be a number above 0, not inf"),
        (["--hours", "-5"], "--hours must be a number above 0, not -5.0"),
        (["--hours", "0"], "--hours must be a number above 0"),
        (["--hours", "1e-9"], "--hours must be a number above 0"),
        (["--name", "Bot: x"], "A name cannot contain a colon"),
        (["--name", "Bot"], "The name Bot is reserved"),
        (["--name", "   "], "A name cannot be empty"),
        (["--name", "x" * 200], "A name can have at most"),
    ],
)
def test_papo_invite_refuses_what_the_authorizer_would_refuse_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    said: str,
) -> None:
    monkeypatch.setenv("PAPO_INVITE_SECRET", SECRET)
    with pytest.raises(SystemExit) as exit_:
        main(["invite", *argv])
    message = str(exit_.value.code)
    assert message.startswith("papo invite: ")
    assert said in message
    assert "\n" not in message
    assert capsys.readouterr().out == ""
