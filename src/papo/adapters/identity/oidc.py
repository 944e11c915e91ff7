"""OpenID Connect ID tokens, checked as a careful relying party checks them.

The issuer's keys come from its published JWKS (found through its discovery
document, `{issuer}/.well-known/openid-configuration`) and are cached; a
token no cached key verifies makes papo fetch the keys again, so a key the
issuer rotated is picked up at once. The signature,
issuer, audience and expiry are checked, with half a minute of leeway for
clocks. Issuers that name no key id (`kid`) are served too: each published key
is tried.
"""

from __future__ import annotations

import functools
import json
import time
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from papo.core.ports import Identity

if TYPE_CHECKING:
    import jwt

_TIMEOUT_S = 5.0
_LEEWAY_S = 30
"""Clocks differ a little; an expired token is refused this long after its `exp`."""
REFRESH_EVERY_S = 30.0
"""At most one fetch of an issuer's keys this often when none of those held
signed a token: a key rotated under the same `kid` is still picked up, and a
stream of forged tokens is no stream of requests to the issuer."""
_refreshed: dict[str, float] = {}
"""When each issuer's keys were last fetched again (`time.monotonic()`)."""


class InvalidToken(Exception):
    """The token is not one this issuer signed for this audience, or it expired."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    audience: str
    name_claim: str = "name"
    """The claim that gives the person's name in the room (`name`,
    `preferred_username`, `email`…)."""
    algorithms: tuple[str, ...] = ("RS256", "ES256")


@functools.lru_cache(maxsize=8)
def _jwks(issuer: str) -> jwt.PyJWKClient:
    import jwt

    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as answer:  # noqa: S310 - the issuer's https URL
        discovery: dict[str, Any] = json.load(answer)
    return jwt.PyJWKClient(discovery["jwks_uri"], cache_keys=True, timeout=int(_TIMEOUT_S))


def verify(settings: OidcSettings, token: str) -> Identity:
    """The identity a valid ID token names, or InvalidToken."""
    import jwt

    try:
        kid = jwt.get_unverified_header(token).get("kid")
        claims = _decode(settings, token, kid)
    except (jwt.PyJWTError, KeyError, ValueError) as error:
        raise InvalidToken(type(error).__name__) from error
    name = claims.get(settings.name_claim)
    return Identity(f"{settings.issuer}#{claims['sub']}", name if isinstance(name, str) else None)


def _decode(settings: OidcSettings, token: str, kid: str | None) -> dict[str, Any]:
    """The token's claims, checked against the issuer's keys: those held, then,
    if none of them signed it, those the issuer publishes now (a rotated key),
    fetched at most once every `REFRESH_EVERY_S`."""
    import jwt

    jwks = _jwks(settings.issuer)
    for refresh in (False, True):
        if refresh:
            if time.monotonic() - _refreshed.get(settings.issuer, -REFRESH_EVERY_S) < (
                REFRESH_EVERY_S
            ):
                break
            _refreshed[settings.issuer] = time.monotonic()
        keys = [k for k in jwks.get_signing_keys(refresh=refresh) if kid in (None, k.key_id)]
        for key in keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key.key,
                    algorithms=list(settings.algorithms),
                    audience=settings.audience,
                    issuer=settings.issuer,
                    leeway=_LEEWAY_S,
                    options={"require": ["exp", "iss", "aud", "sub"]},
                )
            except jwt.InvalidSignatureError:
                continue
            return claims
    raise jwt.InvalidSignatureError("no key of the issuer signed it")
