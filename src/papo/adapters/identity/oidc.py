"""OpenID Connect ID tokens, checked as OpenID Connect Core 1.0 (section 3.1.3.7)
asks of a client.

A token is accepted when it is signed by one of the issuer's published keys
(`papo.adapters.identity.issuer`), under that key's own algorithm, a
public-key one; its `iss` is the issuer exactly; its `aud` holds papo's client
id, and when it holds other audiences too, `azp` is papo's client id (as it
must be whenever present); it has `sub`, `exp` and `iat`, is not expired, and
was not issued (`iat`) nor made valid (`nbf`) in the future, give or take
`LEEWAY_S` for clocks. The `nonce` is the signing-in client's to check: the
authorizer is not the party that sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from papo.adapters.identity.issuer import IssuerUnavailable, issuer
from papo.core.ports import Identity
from papo.core.rooms import OWNER

__all__ = ["LEEWAY_S", "InvalidToken", "IssuerUnavailable", "OidcSettings", "verify"]

LEEWAY_S = 10
"""How far the issuer's clock may be from papo's."""
_REQUIRED = ["iss", "sub", "aud", "exp", "iat"]


class InvalidToken(Exception):
    """The token is not one this issuer signed for this audience, or it expired."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    audience: str
    """papo's client id at the issuer."""
    name_claim: str = "name"
    """The claim that gives the person's name in the room (`name`,
    `preferred_username`, `email`…)."""
    owner_claim: str = ""
    """The claim that lists the rooms the person owns (a list, or names
    separated by spaces, as `groups` or `roles` claims are); empty: none."""


def verify(settings: OidcSettings, token: str, room: str | None = None) -> Identity:
    """The identity a valid ID token names, an owner of `room` if its owner
    claim lists it; InvalidToken, or IssuerUnavailable when the issuer's keys
    cannot be had to tell."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidToken(type(error).__name__) from error
    kid, alg = header.get("kid"), header.get("alg")
    if not isinstance(alg, str) or not (kid is None or isinstance(kid, str)):
        raise InvalidToken("bad header")
    keys = issuer(settings.issuer)
    claims = _decoded(settings, token, alg, keys.signing_keys(kid))
    if claims is None and kid is None:  # an issuer without key ids may have rotated its key
        fetched = keys.refetch_keys()
        claims = _decoded(settings, token, alg, fetched or [])
    if claims is None:
        raise InvalidToken("no key of the issuer signed it")
    sub = claims["sub"]
    if not isinstance(sub, str) or not sub:
        raise InvalidToken("bad sub")
    name = claims.get(settings.name_claim)
    owns = _rooms(claims.get(settings.owner_claim)) if settings.owner_claim else ()
    return Identity(
        f"{settings.issuer}#{sub}",
        name if isinstance(name, str) else None,
        role=OWNER if room is not None and room in owns else None,
    )


def _rooms(claim: object) -> tuple[str, ...]:
    """The rooms an owner claim lists: a list of names, or names separated by spaces."""
    if isinstance(claim, str):
        return tuple(claim.split())
    if isinstance(claim, list):
        return tuple(item for item in claim if isinstance(item, str))
    return ()


def _decoded(
    settings: OidcSettings, token: str, alg: str, keys: list[Any]
) -> dict[str, Any] | None:
    """The token's claims, checked, when one of `keys` signed it under `alg`;
    None when none did; InvalidToken when one did but the claims are wrong."""
    import jwt

    for key in keys:
        if key.algorithm_name != alg:
            continue
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=LEEWAY_S,
                options={"require": _REQUIRED},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as error:
            raise InvalidToken(type(error).__name__) from error
        _check_authorized_party(settings, claims)
        return claims
    return None


def _check_authorized_party(settings: OidcSettings, claims: dict[str, Any]) -> None:
    """Section 3.1.3.7, points 4 and 5: a token for several audiences must name
    papo as the party it was issued to (`azp`), and any `azp` must be papo."""
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if any(a != settings.audience for a in audiences) and azp is None:
        raise InvalidToken("several audiences and no azp")
    if azp is not None and azp != settings.audience:
        raise InvalidToken("azp is another client")
