"""`papo serve` with PAPO_AUTH on: papo's authorizer goes before papo's
`$connect` by itself, the banner says so, and what cannot work (invites
without their secret, sign-in without its issuer, a template whose papo has
PAPO_AUTH on and no authorizer) stops it at start, saying why."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from papo.cli import main
from papo.core.invites import make_invite
from tests.conftest import PapoServe
from tests.served import handshake

SECRET = "papo-test-invite-secret"


async def joined(url: str, name: str) -> str:
    async with connect(url) as ws:
        await ws.send(json.dumps({"action": "setName", "name": name}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
            if "code" in frame or frame.get("event") == "joined":
                return str(frame.get("code") or frame["event"])


def test_papo_serve_puts_papos_authorizer_before_connect_when_papo_auth_is_on(
    papo_serve: PapoServe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPO_AUTH", "invite")
    monkeypatch.setenv("PAPO_INVITE_SECRET", SECRET)
    monkeypatch.setenv("PAPO_SQLITE_PATH", str(tmp_path / "papo.sqlite3"))
    _, url = papo_serve()
    banner = (tmp_path / "papo-serve.log").read_text()
    assert "access          PAPO_AUTH=invite: a handshake needs ?token=" in banner
    assert (
        "authorizer      papo-aws-authorizer (papo.aws.authorizer:handler) before $connect"
        in banner
    )
    assert asyncio.run(handshake(url)) == 401
    assert asyncio.run(handshake(f"{url}?token=forged.token")) == 401
    token = make_invite(SECRET.encode(), expires_at=int(time.time()) + 600, name="Ana")
    assert asyncio.run(joined(f"{url}?token={token}", "Ana")) == "joined"


def test_papo_serve_says_the_room_is_open_when_papo_auth_is_off(
    papo_serve: PapoServe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAPO_AUTH", raising=False)
    monkeypatch.setenv("PAPO_SQLITE_PATH", str(tmp_path / "papo.sqlite3"))
    papo_serve()
    banner = (tmp_path / "papo-serve.log").read_text()
    assert "access          open: anyone may connect (PAPO_AUTH=off)" in banner
    assert "authorizer " not in banner


@pytest.mark.parametrize(
    ("environment", "said"),
    [
        ({"PAPO_AUTH": "invite"}, "PAPO_AUTH=invite needs PAPO_INVITE_SECRET"),
        ({"PAPO_AUTH": "oidc"}, "PAPO_AUTH=oidc needs PAPO_OIDC_ISSUER and PAPO_OIDC_AUDIENCE"),
        ({"PAPO_AUTH": "oidc", "PAPO_OIDC_ISSUER": "http://127.0.0.1:9"}, "PAPO_OIDC_AUDIENCE"),
        ({"PAPO_AUTH": "open"}, "PAPO_AUTH must be one of off, invite, oidc"),
    ],
)
def test_papo_serve_will_not_start_with_a_papo_auth_that_cannot_work(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, environment: dict[str, str], said: str
) -> None:
    for name in ("PAPO_AUTH", "PAPO_INVITE_SECRET", "PAPO_OIDC_ISSUER", "PAPO_OIDC_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--port", "0", "--tls-port", "0", "--web-port", "0"])
    assert said in str(exit_.value.code)


TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: papo
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Connect:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $connect
      Target: !Sub integrations/${Integration}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Chat.Arn}/invocations
  Chat:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: papo.aws.handler.handler
      Environment:
        Variables:
          PAPO_AUTH: invite
"""  # noqa: E501 - a template's line


def test_papo_serve_will_not_serve_a_template_whose_papo_auth_has_no_authorizer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAPO_AUTH", raising=False)
    monkeypatch.chdir(tmp_path)
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE)
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--template", str(template), "--port", "0", "--tls-port", "0"])
    said = str(exit_.value.code)
    assert "Chat has PAPO_AUTH=invite, but $connect has no authorizer" in said
    assert "--authorizer papo.aws.authorizer:handler" in said
