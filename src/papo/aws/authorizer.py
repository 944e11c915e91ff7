"""papo's door: a Lambda `REQUEST` authorizer for `$connect`.

API Gateway calls it with the handshake's query string before `$connect`
runs; the token is `?token=…`: an invite (`PAPO_AUTH=invite`, signed with
`PAPO_INVITE_SECRET` or the SSM SecureString `PAPO_INVITE_SECRET_PARAMETER`)
or an OpenID Connect ID token (`PAPO_AUTH=oidc`). An invite lets its holder
into the one room it names, which must be the room the handshake asks for
(`?room=…`, `main` without one); an ID token, into any. A good token gets an
Allow policy with the identity as `principalId` and the name it may take in
the context, which every later event of the connection carries
(`requestContext.authorizer`); anything else raises `Unauthorized`, which
API Gateway answers with 401. The same function, `papo.aws.authorizer.handler`,
runs under `papo serve --authorizer`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from papo.core.invites import InvalidInvite, read_invite
from papo.core.ports import Identity
from papo.core.rooms import room_name
from papo.core.rules import name_key
from papo.settings import DoorSettings, Settings

logger = logging.getLogger(__name__)


class Unauthorized(Exception):
    """Raised with exactly this message, API Gateway answers 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def handler(event: dict[str, Any], _context: object) -> dict[str, Any]:
    door = Settings.from_env().door
    query = event.get("queryStringParameters") or {}
    identity = _identify(door, query.get("token") or "", query.get("room"))
    if identity is None:
        logger.info("door refused", extra={"mode": door.mode})
        raise Unauthorized
    return {
        "principalId": identity.principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
            ],
        },
        "context": {
            "name": identity.name or "",
            "door": door.mode,
            **({} if _is_person(door, identity) else {"anonymous": "true"}),
        },
    }


def _is_person(door: DoorSettings, identity: Identity) -> bool:
    """Whether the principal is one person's, who may own names: a signed-in
    identity, or an invite for one name. With the door open, or an invite for
    no name that a whole group may share, it is anyone's."""
    return door.mode == "oidc" or identity.name is not None


def _identify(door: DoorSettings, token: str, room: str | None) -> Identity | None:
    if door.mode == "off":
        return Identity("anonymous")
    if not token:
        return None
    if door.mode == "invite":
        try:
            invite = read_invite(invite_secret(door), token, int(time.time()))
        except InvalidInvite:
            return None
        if not _asks_for(room, invite.room):
            return None
        if invite.name is not None:
            return Identity(invite_principal(invite.name), invite.name)
        return Identity(f"invite:{invite.invite_id}")
    from papo.adapters.identity.oidc import InvalidToken, OidcSettings, verify

    if not door.oidc_issuer or not door.oidc_audience:
        raise RuntimeError("PAPO_AUTH=oidc needs PAPO_OIDC_ISSUER and PAPO_OIDC_AUDIENCE")
    settings = OidcSettings(door.oidc_issuer, door.oidc_audience, door.oidc_name_claim)
    try:
        return verify(settings, token)
    except InvalidToken:
        return None


def invite_principal(name: str) -> str:
    """Who holds an invite for `name`: every invite for one name is that
    person's, so on any device it is them."""
    return f"invite:name:{name_key(name)}"


def _asks_for(asked: str | None, room: str) -> bool:
    """Whether the room the handshake asks for is `room`; not when it names none
    that may be."""
    try:
        return room_name(asked) == room
    except ValueError:
        return False


def invite_secret(door: DoorSettings) -> bytes:
    """The secret invites are signed with: `PAPO_INVITE_SECRET` when set (as
    under `papo serve`, even with a template that names an SSM parameter),
    else the SSM parameter (on AWS)."""
    if door.invite_secret:
        return door.invite_secret.encode()
    if door.invite_secret_parameter:
        from aws_lambda_powertools.utilities import parameters

        value = parameters.get_parameter(
            door.invite_secret_parameter, decrypt=True, max_age=24 * 60 * 60
        )
        return str(value).encode()
    raise RuntimeError("PAPO_AUTH=invite needs PAPO_INVITE_SECRET or PAPO_INVITE_SECRET_PARAMETER")
