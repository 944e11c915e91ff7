"""The handler's check of who may connect: with `PAPO_AUTH` on, only what
papo's authorizer let in is served.

API Gateway runs the `$connect` authorizer only where it is attached; a
WebSocket API without it (a template edited, `papo serve` run another way)
would let anyone in unseen. So each event must carry the authorizer's
identity (`requestContext.authorizer.principalId`, from an authorizer whose
`PAPO_AUTH` was on); one that does not is refused: `$connect` with 401, any
later event by closing its connection. When the authorizer could not reach
the OpenID Connect issuer it says so (`unavailable`), and `$connect` is
refused with 503. `$disconnect` is never refused: it only tidies up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from papo.aws.event import RequestContext

UNAVAILABLE = "unavailable"
"""The authorizer's context key saying it could not check the token."""

ACCESS = "access"
"""The authorizer's context key holding its access mode (`PAPO_AUTH`): how the
connection came in, `invite` or `oidc`."""

FORMER_ACCESS = "door"
"""What `ACCESS` was called before: a connection opened then still carries it
(up to two hours on AWS), so it is read too."""


class Refused(Exception):
    """The event was not let in by papo's authorizer: `status` for `$connect`, and why."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.why = why


def access_mode(said: Mapping[str, object]) -> str | None:
    """The access mode the authorizer's context `said` the connection came in by."""
    mode = said.get(ACCESS) or said.get(FORMER_ACCESS)
    return str(mode) if mode else None


def check(mode: str, request: RequestContext) -> None:
    """Raises `Refused` when `PAPO_AUTH` (`mode`) is on and the event was not let in."""
    if mode == "off" or request.route_key == "$disconnect":
        return
    said = request.authorizer or {}
    if said.get(UNAVAILABLE) == "true":
        raise Refused(503, "the identity provider cannot be reached to check the token")
    if not said.get("principalId") or access_mode(said) == "off":
        raise Refused(
            401,
            f"PAPO_AUTH={mode}, and the event carries no identity from papo's authorizer "
            "(attach papo.aws.authorizer.handler to $connect)",
        )
