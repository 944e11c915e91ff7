"""Who may call the emulator's own AWS APIs (`@connections`, Lambda's `Invoke`).

A request a web browser sent is refused, whatever its address
(`papo.local.browsers`); then, where signatures are required, one without a
valid SigV4 signature for the API's service (`papo.local.signatures`).
"""

from __future__ import annotations

from starlette.requests import Request

from papo.local import browsers
from papo.local.signatures import Answer, Verifier


def refusal(
    request: Request, body: bytes, verifier: Verifier | None, service: str
) -> Answer | None:
    """The answer refusing the call, or None: it may go on."""
    mark = browsers.browser_mark(request.headers)
    if mark is not None:
        return browsers.refusal(mark)
    return None if verifier is None else verifier.check(request, body, service)
