"""The handler's side of the door: with `PAPO_AUTH` on, only what papo's
authorizer let in is served.

API Gateway runs the `$connect` authorizer only where it is attached; a
WebSocket API without it (a template edited, `papo serve` run another way)
would let anyone in unseen. So each event must carry the authorizer's
identity (`requestContext.authorizer.principalId`, from a door that was on);
one that does not is refused: `$connect` with 401, any later event by
closing its connection. When the authorizer could not reach the OpenID
Connect issuer it says so (`unavailable`), and `$connect` is refused with 503.
`$disconnect` is never refused: it only tidies up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from papo.aws.event import RequestContext

UNAVAILABLE = "unavailable"
"""The authorizer's context key saying it could not check the token."""


class Shut(Exception):
    """The door refuses the event: `status` for `$connect`, and why."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.why = why


def check(mode: str, request: RequestContext) -> None:
    """Raises `Shut` when the door (`PAPO_AUTH`) is on and the event was not let in."""
    if mode == "off" or request.route_key == "$disconnect":
        return
    said = request.authorizer or {}
    if said.get(UNAVAILABLE) == "true":
        raise Shut(503, "the identity provider cannot be reached to check the token")
    if not said.get("principalId") or said.get("door") == "off":
        raise Shut(
            401,
            f"PAPO_AUTH={mode}, and the event carries no identity from papo's authorizer "
            "(attach papo.aws.authorizer.handler to $connect)",
        )
