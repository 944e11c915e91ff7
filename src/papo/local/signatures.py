"""Signature Version 4 on the emulator's own AWS APIs, once it listens beyond loopback.

On loopback, `@connections` and Lambda's `Invoke` answer anyone, as only this
machine can reach them. Listening on another address (`--host 0.0.0.0`, a LAN
address), anyone on the network could post to any connection, close it, or run
the API's functions; so there, as on AWS, each call must be signed with
SigV4 by credentials the emulator knows: those it gives its handlers. Those
are whatever handlers' environment holds, else the developer's own, as
botocore finds them (environment, profile, SSO), refreshed as botocore
refreshes them, else ones `papo.local.runtime` makes at each start (never
its loopback placeholder, which anyone can read). A call without a valid
signature gets 403 in AWS's error shape (`x-amzn-ErrorType`), which boto3
turns into a `ClientError` with that code. The check recomputes the signature
with botocore's own `SigV4Auth`, over the request as it arrived.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import ipaddress
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence

from botocore.credentials import ReadOnlyCredentials
from starlette.requests import Request

Answer = tuple[int, dict[str, str], bytes]
"""(status, headers, body)"""

MAX_SKEW_S = 5 * 60
"""How far a signature's time may be from the emulator's, as AWS allows."""

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<day>\d{8})/(?P<region>[^/,\s]+)/"
    r"(?P<service>[^/,\s]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


def beyond_loopback(host: str) -> bool:
    """Whether listening on `host` reaches past this machine: anything but
    `localhost`, 127.0.0.0/8 and ::1 (a name other than localhost may resolve anywhere)."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return not address.ipv4_mapped.is_loopback
    return not address.is_loopback


def handlers_keys(
    environments: Sequence[Mapping[str, str]],
) -> Callable[[], list[ReadOnlyCredentials]]:
    """The credentials handlers sign with: those each function's environment
    sets, and the developer's own as botocore finds them (read anew each time,
    so refreshed) for any function that sets none."""
    fixed: list[ReadOnlyCredentials] = []
    for environment in environments:
        access_key = environment.get("AWS_ACCESS_KEY_ID")
        secret_key = environment.get("AWS_SECRET_ACCESS_KEY")
        if access_key and secret_key:
            key = ReadOnlyCredentials(access_key, secret_key, environment.get("AWS_SESSION_TOKEN"))
            if key not in fixed:
                fixed.append(key)
    if all(e.get("AWS_ACCESS_KEY_ID") and e.get("AWS_SECRET_ACCESS_KEY") for e in environments):
        return lambda: fixed
    import botocore.session

    found = botocore.session.get_session().get_credentials()

    def current() -> list[ReadOnlyCredentials]:
        if found is None:
            return fixed
        return [*fixed, found.get_frozen_credentials()]

    return current


def _refusal(error_type: str, message: str) -> Answer:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error_type}
    return 403, headers, json.dumps({"message": message}).encode()


MISSING = _refusal("MissingAuthenticationTokenException", "Missing Authentication Token")
UNRECOGNIZED = _refusal(
    "UnrecognizedClientException", "The security token included in the request is invalid."
)
MISMATCH = _refusal(
    "InvalidSignatureException",
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details.",
)


def _invalid(message: str) -> Answer:
    return _refusal("InvalidSignatureException", message)


class Verifier:
    """Checks the signatures of calls to the emulator's `@connections` and Lambda APIs."""

    def __init__(
        self,
        keys: Callable[[], list[ReadOnlyCredentials]],
        region: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys
        self.region = region
        self._clock = clock

    def check(self, request: Request, body: bytes, service: str) -> Answer | None:
        """None when `request` is signed for `service` by a known key, else the refusal."""
        authorization = request.headers.get("authorization")
        if authorization is None:
            return MISSING
        found = _AUTHORIZATION.fullmatch(authorization.strip())
        if found is None:
            return _refusal(
                "IncompleteSignatureException",
                "Authorization header requires 'Credential', 'Signature' and "
                "'SignedHeaders' parameters, in AWS4-HMAC-SHA256 form.",
            )
        key = next((k for k in self.keys() if k.access_key == found["key"]), None)
        if key is None or (key.token and request.headers.get("x-amz-security-token") != key.token):
            return UNRECOGNIZED
        if found["service"] != service or found["region"] != self.region:
            return _invalid(
                f"Credential should be scoped to region '{self.region}' and service '{service}'."
            )
        signed = found["signed"].split(";")
        if "host" not in signed or "x-amz-date" not in signed:
            return _invalid("Signed headers must include host and x-amz-date.")
        stale = self._stale(request.headers.get("x-amz-date", ""), found["day"])
        if stale is not None:
            return stale
        claimed = request.headers.get("x-amz-content-sha256")
        if claimed is not None and claimed != hashlib.sha256(body).hexdigest():
            return _invalid("The provided 'x-amz-content-sha256' does not match the body.")
        expected = _signature(request, body, signed, key, found["service"], found["region"])
        return None if hmac.compare_digest(expected, found["signature"]) else MISMATCH

    def _stale(self, amz_date: str, day: str) -> Answer | None:
        try:
            signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            return _invalid("X-Amz-Date must be a date like 20260101T000000Z.")
        if amz_date[:8] != day:
            return _invalid("Date in Credential scope does not match the X-Amz-Date.")
        if abs(self._clock() - signed_at) > MAX_SKEW_S:
            return _invalid(f"Signature expired: {amz_date} is more than 5 minutes away.")
        return None


def _signature(
    request: Request,
    body: bytes,
    signed: list[str],
    key: ReadOnlyCredentials,
    service: str,
    region: str,
) -> str:
    """The signature botocore computes for the request as it arrived."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    url = f"{request.url.scheme}://{request.headers.get('host', '')}{raw_path.decode('latin-1')}"
    if query:
        url += "?" + query.decode("latin-1")
    headers = {name: ",".join(request.headers.getlist(name)) for name in signed}
    rebuilt = AWSRequest(method=request.method, url=url, data=body, headers=headers)
    rebuilt.context["timestamp"] = request.headers.get("x-amz-date", "")
    signer = SigV4Auth(key, service, region)
    canonical = signer.canonical_request(rebuilt)
    return str(signer.signature(signer.string_to_sign(rebuilt, canonical), rebuilt))
