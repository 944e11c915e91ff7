"""An OpenID Connect issuer's published documents, kept as long as it says.

The discovery document (`{issuer}/.well-known/openid-configuration`) names the
key set (`jwks_uri`); each is kept for the `max-age` of its response's
`Cache-Control` (bounded: see the constants), so a key the issuer removes stops
being accepted when the issuer said the set could change. A token naming a key
id (`kid`) the set lacks fetches the set again, at most once every
`REFETCH_EVERY_S`: a freshly published key is accepted within seconds, and a
stream of tokens with made-up key ids is no stream of requests to the issuer.

While the issuer cannot be reached (or answers what is no discovery document
or key set), `IssuerUnavailable` is raised without asking it again for
`REFETCH_EVERY_S`; a handshake gets 503 meanwhile. Keys past their age are not
used while it is down: whether they were withdrawn cannot be known.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jwt

logger = logging.getLogger(__name__)

TIMEOUT_S = 3.0
"""How long one fetch may take: well inside API Gateway's authorizer timeout."""
MAX_BYTES = 1 << 20
REFETCH_EVERY_S = 5.0
"""At most one fetch this often for a key id the set lacks, or after a failed fetch."""
KEYS_AGE_S = (5.0, 60.0, 24 * 3600.0)
"""The key set's age: at least, when its response says none, at most."""
DISCOVERY_AGE_S = (60.0, 3600.0, 24 * 3600.0)
"""The discovery document's age: at least, when its response says none, at most."""

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\s*(?:,|$)", re.IGNORECASE)


class IssuerUnavailable(Exception):
    """The issuer's discovery document or key set cannot be had now."""


Fetch = Callable[[str], tuple[Any, str | None]]
"""A URL's JSON, and its response's `Cache-Control`."""


def fetch_json(url: str) -> tuple[Any, str | None]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - the issuer's URL
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310
        body = answer.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise ValueError(f"{url} answered more than {MAX_BYTES} bytes")
        return json.loads(body), answer.headers.get("Cache-Control")


def max_age(cache_control: str | None, bounds: tuple[float, float, float]) -> float:
    """How long a response may be kept, by its `Cache-Control`, within `bounds`
    (least, default, most)."""
    least, default, most = bounds
    if cache_control is None:
        return default
    if _NO_CACHE.search(cache_control):
        return least
    found = _MAX_AGE.search(cache_control)
    if found is None:
        return default
    return min(max(float(found.group(1)), least), most)


@dataclass(frozen=True)
class _Kept:
    value: Any
    until: float


class Issuer:
    """One issuer's discovery document and signing keys, fetched when needed."""

    def __init__(
        self, issuer: str, *, fetch: Fetch = fetch_json, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.issuer = issuer
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._discovery: _Kept | None = None
        self._keys: _Kept | None = None
        self._keys_fetched_at = -REFETCH_EVERY_S
        self._failed_at: float | None = None

    def signing_keys(self, kid: str | None) -> list[jwt.PyJWK]:
        """The keys that may have signed a token naming `kid` (every key for
        none): from the set held while it is fresh, else fetched anew; fetched
        anew too for a `kid` it lacks, at most once every `REFETCH_EVERY_S`."""
        with self._lock:
            keys = self._key_set(refetch=False)
            found = _named(keys, kid)
            if kid is not None and not found and self._may_refetch():
                found = _named(self._key_set(refetch=True), kid)
            return found

    def refetch_keys(self) -> list[jwt.PyJWK] | None:
        """The key set fetched anew, when one may be fetched now (a token no key
        held verified, from an issuer that names no key ids); else None."""
        with self._lock:
            return self._key_set(refetch=True) if self._may_refetch() else None

    def _may_refetch(self) -> bool:
        return self._clock() - self._keys_fetched_at >= REFETCH_EVERY_S

    def _key_set(self, *, refetch: bool) -> list[jwt.PyJWK]:
        import jwt

        now = self._clock()
        if self._keys is not None and now < self._keys.until and not refetch:
            return list(self._keys.value)
        jwks_uri = self._document()["jwks_uri"]
        data, cache_control = self._get(jwks_uri)
        try:
            keys = jwt.PyJWKSet.from_dict(data).keys
        except (
            jwt.PyJWTError,
            TypeError,
            ValueError,
            AttributeError,
            NotImplementedError,
        ) as error:
            self._failed_at = now
            logger.warning("%s published no usable key set: %s", self.issuer, error)
            raise IssuerUnavailable(f"{jwks_uri}: {error}") from error
        usable = [k for k in keys if _signs(k)]
        self._keys = _Kept(usable, now + max_age(cache_control, KEYS_AGE_S))
        self._keys_fetched_at = now
        return list(usable)

    def _document(self) -> dict[str, Any]:
        now = self._clock()
        if self._discovery is not None and now < self._discovery.until:
            return dict(self._discovery.value)
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document, cache_control = self._get(url)
        if (
            not isinstance(document, dict)
            or document.get("issuer") != self.issuer
            or not isinstance(document.get("jwks_uri"), str)
        ):
            self._failed_at = now
            logger.warning("%s is no discovery document for %s", url, self.issuer)
            raise IssuerUnavailable(f"{url} is no discovery document for {self.issuer}")
        self._discovery = _Kept(document, now + max_age(cache_control, DISCOVERY_AGE_S))
        return dict(document)

    def _get(self, url: str) -> tuple[Any, str | None]:
        now = self._clock()
        if self._failed_at is not None and now - self._failed_at < REFETCH_EVERY_S:
            raise IssuerUnavailable(f"{self.issuer} could not be reached just now")
        try:
            found = self._fetch(url)
        except (OSError, ValueError, urllib.error.URLError) as error:
            self._failed_at = now
            logger.warning("could not fetch %s: %s", url, error)
            raise IssuerUnavailable(f"{url}: {error}") from error
        self._failed_at = None
        return found


def _named(keys: list[jwt.PyJWK], kid: str | None) -> list[jwt.PyJWK]:
    return keys if kid is None else [k for k in keys if k.key_id == kid]


SIGNING_ALGORITHMS = frozenset(
    ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
)
"""What an ID token may be signed with: public-key algorithms only (never
`none`, nor an HMAC keyed with something public)."""


def _signs(key: jwt.PyJWK) -> bool:
    """Whether a published key may verify an ID token: a public key for signing,
    under one of `SIGNING_ALGORITHMS` (its `alg`, or what its type implies)."""
    return key.algorithm_name in SIGNING_ALGORITHMS and key.public_key_use in (None, "sig")


_issuers: dict[str, Issuer] = {}
_issuers_lock = threading.Lock()


def issuer(url: str) -> Issuer:
    """The one `Issuer` of this process for `url`, shared by its invocations."""
    with _issuers_lock:
        found = _issuers.get(url)
        if found is None:
            found = _issuers[url] = Issuer(url)
        return found


def forget_issuers() -> None:
    """Drops what is held of every issuer (a test's fresh start)."""
    with _issuers_lock:
        _issuers.clear()
