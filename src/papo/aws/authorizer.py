"""papo's authorizer: a Lambda `REQUEST` authorizer for `$connect`, which lets
in whom `PAPO_AUTH` (the access mode) says may connect.

API Gateway calls it with the handshake's query string before `$connect`
runs; the token is `?token=…`: an invite (`PAPO_AUTH=invite`, signed with
`PAPO_INVITE_SECRET` or the SSM SecureString `PAPO_INVITE_SECRET_PARAMETER`)
or an OpenID Connect ID token (`PAPO_AUTH=oidc`). An invite lets its holder
into the one room it names, which must be the room the handshake asks for
(`?room=…`, `main` without one); an ID token, into any. A good token gets an
Allow policy with the identity as `principalId` and the name it may take in
the context, which every later event of the connection carries
(`requestContext.authorizer`); anything else raises `Unauthorized`, which
API Gateway answers with 401. An invite on the list of revoked ones
(`papo invite revoke`, read from papo's store) is refused as a bad one is.

When the OpenID Connect issuer cannot be reached, it cannot tell a good token
from a bad one, and an authorizer can only answer 401, 403 or 500: it lets
the handshake on with `unavailable` in the context and no identity, and
papo's handler answers that `$connect` with 503 (`papo.aws.identity_check`).
The same function, `papo.aws.authorizer.handler`, runs under `papo serve`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from papo.aws.identity_check import ACCESS, UNAVAILABLE
from papo.core.invites import InvalidInvite, Invite, read_invite
from papo.core.ports import Identity
from papo.core.rooms import room_name
from papo.core.rules import name_key
from papo.settings import AccessSettings, Settings

logger = logging.getLogger(__name__)


class Unauthorized(Exception):
    """Raised with exactly this message, API Gateway answers 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


class _Unavailable(Exception):
    """The authorizer cannot tell now whether the token is good."""


def handler(event: dict[str, Any], _context: object) -> dict[str, Any]:
    settings = Settings.from_env()
    access = settings.access
    query = event.get("queryStringParameters") or {}
    try:
        admitted = _identify(settings, query.get("token") or "", query.get("room"))
    except _Unavailable as unavailable:
        logger.warning(
            "token not checked: issuer unavailable",
            extra={"mode": access.mode, "reason": str(unavailable)},
        )
        return _allow(event, "unavailable", {ACCESS: access.mode, UNAVAILABLE: "true"})
    if admitted is None:
        logger.info("token refused", extra={"mode": access.mode})
        raise Unauthorized
    identity, invite = admitted
    context = {
        "name": identity.name or "",
        ACCESS: access.mode,
        **({} if invite is None else {"invite": invite.invite_id}),
        **_role(identity, invite),
        **({} if _is_person(access, identity) else {"anonymous": "true"}),
    }
    return _allow(event, identity.principal, context)


def _role(identity: Identity, invite: Invite | None) -> dict[str, str]:
    """The role the context passes on: an owner of the room, by their invite
    or their identity's owner claim."""
    role = identity.role or (invite.role if invite is not None else None)
    return {} if role is None else {"role": role}


def _room_of(asked: str | None) -> str | None:
    """The room a handshake asks for (none: `main`), or None when it names no room."""
    try:
        return room_name(asked)
    except ValueError:
        return None


def _allow(event: dict[str, Any], principal: str, context: dict[str, str]) -> dict[str, Any]:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
            ],
        },
        "context": context,
    }


def _is_person(access: AccessSettings, identity: Identity) -> bool:
    """Whether the principal is one person's, who may own names: a signed-in
    identity, or an invite for one name. With `PAPO_AUTH=off`, or an invite for
    no name that a whole group may share, it is anyone's."""
    return access.mode == "oidc" or identity.name is not None


def _identify(
    settings: Settings, token: str, room: str | None
) -> tuple[Identity, Invite | None] | None:
    """Who the token says the holder is, and the invite it is, if one; None
    when it lets nobody in."""
    access = settings.access
    if access.mode == "off":
        return Identity("anonymous"), None
    if not token:
        return None
    if access.mode == "invite":
        try:
            invite = read_invite(invite_secret(access), token, int(time.time()))
        except InvalidInvite:
            return None
        if not _asks_for(room, invite.room) or _revoked(settings, invite):
            return None
        if invite.name is not None:
            return Identity(invite_principal(invite.name), invite.name), invite
        return Identity(f"invite:{invite.invite_id}"), invite
    from papo.adapters.identity.oidc import InvalidToken, IssuerUnavailable, OidcSettings, verify

    if not access.oidc_issuer or not access.oidc_audience:
        raise RuntimeError("PAPO_AUTH=oidc needs PAPO_OIDC_ISSUER and PAPO_OIDC_AUDIENCE")
    oidc = OidcSettings(
        access.oidc_issuer, access.oidc_audience, access.oidc_name_claim, access.oidc_owner_claim
    )
    try:
        return verify(oidc, token, _room_of(room)), None
    except InvalidToken:
        return None
    except IssuerUnavailable as unavailable:
        raise _Unavailable(str(unavailable)) from unavailable


def _revoked(settings: Settings, invite: Invite) -> bool:
    from papo.adapters.store.revoked_invites import revoked_invites

    revoked = revoked_invites(settings.store, settings.sqlite_path, settings.table, settings.region)
    return revoked.is_revoked(invite.invite_id)


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


def invite_secret(access: AccessSettings) -> bytes:
    """The secret invites are signed with: `PAPO_INVITE_SECRET` when set (as
    under `papo serve`, even with a template that names an SSM parameter),
    else the SSM parameter (on AWS)."""
    if access.invite_secret:
        return access.invite_secret.encode()
    if access.invite_secret_parameter:
        from aws_lambda_powertools.utilities import parameters

        value = parameters.get_parameter(
            access.invite_secret_parameter, decrypt=True, max_age=24 * 60 * 60
        )
        return str(value).encode()
    raise RuntimeError("PAPO_AUTH=invite needs PAPO_INVITE_SECRET or PAPO_INVITE_SECRET_PARAMETER")
