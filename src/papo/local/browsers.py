"""Requests a web browser sent, refused on the emulator's own AWS APIs.

`@connections` and Lambda's `Invoke` take unsigned calls on loopback, for
handlers' sake; but any page the developer opens, from any origin, can make
the browser POST to `127.0.0.1` without a CORS preflight when it sends a
"simple" request (`Content-Type: text/plain`, a form's types), and the
emulator would post to a connection, close it, or run a function with a
forged event. Browsers' private network rules are not to be relied on. No
AWS SDK sends what a browser does, so a request that carries a browser's
marks is refused whatever address it came from: an `Origin` header, a
`Sec-Fetch-*` header, or one of the content types a page may send without a
preflight.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

Answer = tuple[int, dict[str, str], bytes]
"""(status, headers, body)"""

SIMPLE_CONTENT_TYPES = frozenset(
    ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
)
"""What a page may send cross-origin without a preflight (the Fetch standard's
CORS-safelisted request header `Content-Type`)."""
_FETCH_METADATA = ("sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "sec-fetch-user")


def browser_mark(headers: Mapping[str, str]) -> str | None:
    """What shows a browser sent the request (`headers` with lower-case names
    or a case-insensitive mapping), or None."""
    if "origin" in headers:
        return "an Origin header"
    for name in _FETCH_METADATA:
        if name in headers:
            return f"a {name.title()} header"
    content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type in SIMPLE_CONTENT_TYPES:
        return f"Content-Type {content_type}"
    return None


def refusal(mark: str) -> Answer:
    """403, in AWS's error shape, saying why."""
    message = (
        f"papo serve refuses requests a web browser sent to its AWS APIs (this one has {mark}): "
        "a web page could forge events with them. Call them from a handler or an AWS SDK "
        "(with curl: -H 'Content-Type: application/json')."
    )
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException"}
    return 403, headers, json.dumps({"message": message}).encode()
