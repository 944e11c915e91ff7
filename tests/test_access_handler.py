"""papo's handler with `PAPO_AUTH` on: only what papo's authorizer let in is served.

A WebSocket API whose `$connect` has no authorizer (a template edited, papo's
handler served without `--authorizer`) would let anyone in unseen; the handler
refuses such events itself. Fed API Gateway events directly, and through
`papo serve` over real WebSockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import Credentials
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from papo.adapters.identity import issuer as issuers
from papo.aws.handler import ROUTE_KEYS, handler
from papo.aws.identity_check import FORMER_ACCESS
from papo.local.config import PAPO_HANDLER, ApiConfig, Authorizer
from papo.local.server import Emulator
from tests import events
from tests.management_api import ManagementApi
from tests.served import UNPACED


@pytest.fixture
def api(aws_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagementApi]:
    monkeypatch.setenv("PAPO_STORE", "sqlite")
    monkeypatch.setenv("PAPO_SQLITE_PATH", str(tmp_path / "papo.sqlite3"))
    monkeypatch.setenv("PAPO_AUTH", "invite")
    monkeypatch.setenv("PAPO_INVITE_SECRET", "papo-test-invite-secret")
    with ManagementApi(Credentials("AKIDPAPOTEST", "papo-test-secret", "papo-test-token")) as api:
        monkeypatch.setenv("PAPO_MANAGEMENT_ENDPOINT", api.url)
        yield api


def let_in(event: dict[str, Any], authorizer: dict[str, Any] | None) -> dict[str, Any]:
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    return event


ANA = {"principalId": "invite:name:ana", "name": "Ana", "access": "invite"}


@pytest.mark.parametrize("mode", ["invite", "oidc"])
@pytest.mark.parametrize(
    "authorizer",
    [None, {}, {"principalId": ""}, {"principalId": "anonymous", "access": "off"}],
    ids=["none", "empty", "no-principal", "access-off"],
)
def test_a_connect_the_authorizer_did_not_let_in_is_refused(
    api: ManagementApi,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    authorizer: dict[str, Any] | None,
) -> None:
    monkeypatch.setenv("PAPO_AUTH", mode)
    answer = handler(let_in(events.connect(events.connection_id()), authorizer), None)
    assert answer["statusCode"] == 401
    assert "papo.aws.authorizer.handler" in answer["body"]


def test_a_connect_the_authorizer_let_in_runs(api: ManagementApi) -> None:
    assert handler(let_in(events.connect(events.connection_id()), ANA), None) == {"statusCode": 200}


def test_a_connect_the_authorizer_could_not_check_is_refused_with_503(api: ManagementApi) -> None:
    said = {"principalId": "unavailable", "access": "oidc", "unavailable": "true"}
    answer = handler(let_in(events.connect(events.connection_id()), said), None)
    assert answer["statusCode"] == 503


def test_with_papo_auth_off_no_authorizer_is_needed(
    api: ManagementApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPO_AUTH", "off")
    assert handler(events.connect(events.connection_id()), None) == {"statusCode": 200}


def test_a_message_the_authorizer_did_not_let_in_closes_its_connection(
    api: ManagementApi,
) -> None:
    """A connection opened without papo's authorizer (before `PAPO_AUTH` was
    turned on, say) is closed at its first frame, which is not served."""
    cid = events.connection_id()
    api.connect(cid)
    body = json.dumps({"action": "setName", "name": "Mallory"})
    assert handler(events.message(cid, "setName", body), None)["statusCode"] == 401
    assert cid not in api.open
    assert api.frames(cid) == []
    assert handler(events.disconnect(cid), None) == {"statusCode": 200}


def serve(tmp_path: Path, environment: dict[str, str], *, authorizer: bool) -> Emulator:
    config = ApiConfig.for_handler(
        PAPO_HANDLER,
        ROUTE_KEYS,
        authorizer=Authorizer.papos() if authorizer else None,
    )
    base = {
        "PAPO_STORE": "sqlite",
        "PAPO_SQLITE_PATH": str(tmp_path / "papo.sqlite3"),
        "PAPO_MANAGEMENT_ENDPOINT": "",
        **UNPACED,
    }
    return Emulator(config, port=0, tls_port=0, environment={**base, **environment})


async def status(url: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url):
            pass
    return refused.value.response.status_code


def test_served_without_its_authorizer_the_handler_refuses_every_handshake(tmp_path: Path) -> None:
    invites = {"PAPO_AUTH": "invite", "PAPO_INVITE_SECRET": "papo-test-invite-secret"}
    with serve(tmp_path, invites, authorizer=False).running() as api:
        assert asyncio.run(status(api.websocket_url)) == 401
        assert asyncio.run(status(f"{api.websocket_url}?token=anything")) == 401


def test_served_with_an_issuer_that_cannot_be_reached_a_handshake_gets_503(
    tmp_path: Path,
) -> None:
    issuers.forget_issuers()
    sign_in = {
        "PAPO_AUTH": "oidc",
        "PAPO_OIDC_ISSUER": "http://127.0.0.1:9",  # nothing answers there
        "PAPO_OIDC_AUDIENCE": "papo",
    }
    with serve(tmp_path, sign_in, authorizer=True).running() as api:
        token = "eyJhbGciOiJFUzI1NiJ9.e30.AA"
        assert asyncio.run(status(f"{api.websocket_url}?token={token}")) == 503


def test_the_deployed_handler_knows_who_may_connect() -> None:
    from papo.local.template import load
    from tests.conftest import ROOT

    resources = load(ROOT / "deploy" / "template.yaml")["Resources"]
    for function in ("ChatFunction", "AuthorizerFunction"):
        variables = resources[function]["Properties"]["Environment"]["Variables"]
        assert variables["PAPO_AUTH"] == {"Ref": "Door"}


@pytest.mark.parametrize(
    ("mode", "language", "said"),
    [
        ("invite", "en", "Your invitation is for the name Ana: join under that name."),
        ("oidc", "en", "You signed in as Ana: join under that name."),
        ("invite", "pt-BR", "Seu convite é para o nome Ana: entre com esse nome."),
        ("oidc", "pt-BR", "Você entrou como Ana: entre com esse nome."),
    ],
)
def test_a_bound_name_says_whether_an_invite_or_a_sign_in_bound_it(
    api: ManagementApi, monkeypatch: pytest.MonkeyPatch, mode: str, language: str, said: str
) -> None:
    """Asking for another name than the one the authorizer let in: an invitation's
    holder is told of the invitation, someone who signed in of their sign-in."""
    assert refusal_to_rename({"access": mode}, api, monkeypatch, mode, language) == said


def test_a_connection_opened_before_the_access_key_had_its_name_keeps_its_sign_in(
    api: ManagementApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The authorizer's context named the access mode otherwise before; a
    connection opened then carries that name until it ends (two hours at most
    on AWS), and is still known as signed in."""
    said = refusal_to_rename({FORMER_ACCESS: "oidc"}, api, monkeypatch, "oidc", "en")
    assert said == "You signed in as Ana: join under that name."


def refusal_to_rename(
    access: dict[str, str],
    api: ManagementApi,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    language: str,
) -> str:
    """What Ana, let in for that name with the authorizer's context holding
    `access`, is told when she asks to be Bruno."""
    monkeypatch.setenv("PAPO_AUTH", mode)
    monkeypatch.setenv("PAPO_LANGUAGE", language)
    monkeypatch.setenv("PAPO_OIDC_ISSUER", "http://127.0.0.1:9")
    monkeypatch.setenv("PAPO_OIDC_AUDIENCE", "papo")
    ana = {"principalId": f"{mode}#ana", "name": "Ana", **access}
    cid = events.connection_id()
    api.connect(cid)
    assert handler(let_in(events.connect(cid), ana), None) == {"statusCode": 200}
    body = json.dumps({"action": "setName", "name": "Bruno"})
    handler(let_in(events.message(cid, "setName", body), ana), None)
    (refusal,) = [f for f in api.frames(cid) if "code" in f]
    assert refusal["code"] == "name_bound"
    assert refusal["error"] == refusal["systemMessage"]
    return str(refusal["error"])
