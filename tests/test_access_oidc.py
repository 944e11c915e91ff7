"""papo's authorizer with `PAPO_AUTH=oidc` against hostile tokens and a
changing issuer: every token that is not good gets 401 whatever it holds,
only the algorithms the issuer's keys are for are accepted, the issuer's keys
are kept as long as it says, an issuer that cannot be reached gets 503, and
ID tokens are checked as OpenID Connect Core's section 3.1.3.7 asks.

Issuers run on loopback: `oidc-provider-mock` (tokens through the code flow),
and `tests/oidc_issuer.py` where the test sets the keys and cache headers."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis.strategies as st
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, example, given, settings
from oidc_provider_mock import run_server_in_thread

from papo.adapters.identity import issuer as issuers
from papo.aws.authorizer import handler as authorizer
from tests.oidc_issuer import Issuer, Key, ec_key, rsa_key, running_issuer
from tests.test_access import connect_event

THE_27_CHARACTERS = "eyJhbGciOiJFUzI1NiJ9.e30.AA"


def trust_issuer(monkeypatch: pytest.MonkeyPatch, issuer: str) -> None:
    monkeypatch.setenv("PAPO_AUTH", "oidc")
    monkeypatch.setenv("PAPO_OIDC_ISSUER", issuer)
    monkeypatch.setenv("PAPO_OIDC_AUDIENCE", "papo")
    issuers.forget_issuers()


def lets_in(token: str) -> str:
    """The principal the authorizer lets in with `token`; AssertionError when it does not."""
    answer = authorizer(connect_event(token), None)
    assert "unavailable" not in answer["context"], answer
    principal: str = answer["principalId"]
    return principal


def refuses(token: str) -> bool:
    """Whether the authorizer answers 401 (`Unauthorized`); any other failure is raised."""
    try:
        authorizer(connect_event(token), None)
    except Exception as refusal:
        if str(refusal) == "Unauthorized":
            return True
        raise
    return False


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def crafted(header: dict[str, Any], claims: dict[str, Any], signature: bytes) -> str:
    return f"{b64(json.dumps(header))}.{b64(json.dumps(claims))}.{b64(signature)}"


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with run_server_in_thread() as server:
        issuer = f"http://localhost:{server.server_port}"
        trust_issuer(monkeypatch, issuer)
        yield issuer


class Clock:
    """The issuer cache's clock, moved on by the test."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def held_with(clock: Clock, issuer: Issuer) -> None:
    """The authorizer's cache of `issuer` runs on `clock`."""
    issuers._issuers[issuer.url] = issuers.Issuer(issuer.url, clock=clock)


# A token that crashed the authorizer, and algorithms


@pytest.mark.parametrize(
    "token",
    [
        THE_27_CHARACTERS,
        crafted({"alg": "ES256", "kid": "anything"}, {}, b"\0"),
        crafted({"alg": "ES256", "typ": "JWT"}, {"sub": "x"}, b"\0" * 64),
        crafted({"alg": "EdDSA"}, {}, b"\0" * 64),
        crafted({"alg": "HS256"}, {}, b"\0" * 32),
        crafted({"alg": "none"}, {}, b""),
    ],
)
def test_a_junk_token_under_any_algorithm_is_refused_not_a_failure(
    provider: str, token: str
) -> None:
    assert refuses(token)


def test_the_same_with_the_key_id_the_issuer_publishes(provider: str) -> None:
    kid = _known_kid(provider)
    for alg in ("ES256", "ES384", "PS256", "HS256", "EdDSA", "RS512", "none"):
        assert refuses(crafted({"alg": alg, "kid": kid}, {}, b"\0" * 8))


def test_a_key_set_of_rsa_and_ec_keys_without_key_ids_serves_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rsa_signer, ec_signer = rsa_key(kid=None), ec_key(kid=None)
    with running_issuer(rsa_signer, ec_signer) as issuer:
        trust_issuer(monkeypatch, issuer.url)
        assert lets_in(issuer.token(rsa_signer)) == f"{issuer.url}#ana-sub"
        assert lets_in(issuer.token(ec_signer, sub="bruno-sub")) == f"{issuer.url}#bruno-sub"
        assert refuses(THE_27_CHARACTERS)


def test_only_the_algorithm_a_key_is_for_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The RSA key is for RS256 (what its type implies): the same key under
    PS256 or RS512, or its public half as an HMAC secret, lets nobody in."""
    signer = rsa_key(kid="k1")
    with running_issuer(signer) as issuer:
        trust_issuer(monkeypatch, issuer.url)
        assert lets_in(issuer.token(signer))
        for alg in ("PS256", "RS512"):
            assert refuses(issuer.token(Key(signer.private, alg, "k1")))
        public = signer.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        body = {"iss": issuer.url, "sub": "x", "aud": "papo", "exp": int(time.time()) + 60}
        signing_input = f"{b64(json.dumps({'alg': 'HS256', 'kid': 'k1'}))}.{b64(json.dumps(body))}"
        import hashlib
        import hmac

        mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
        assert refuses(f"{signing_input}.{b64(mac)}")


ALGORITHMS = ["none", "None", "HS256", "HS512", "RS256", "RS384", "PS256", "ES256", "ES512"]
headers = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.sampled_from(ALGORITHMS) | st.text(max_size=8) | st.integers() | st.none(),
        "kid": st.text(max_size=16) | st.integers() | st.none() | st.just("__known__"),
        "typ": st.sampled_from(["JWT", "at+jwt", ""]),
        "jwk": st.dictionaries(st.sampled_from(["kty", "n", "e", "crv", "x", "y", "k"]), st.text()),
        "jku": st.sampled_from(["http://127.0.0.1:9/jwks", "https://attacker.example/jwks"]),
        "crit": st.lists(st.text(max_size=4), max_size=2),
    },
)
claims = st.fixed_dictionaries(
    {},
    optional={
        "iss": st.just("__issuer__") | st.text(max_size=8),
        "aud": st.just("papo") | st.lists(st.sampled_from(["papo", "other"])) | st.integers(),
        "sub": st.text(max_size=8) | st.integers(),
        "exp": st.integers(0, 2**40) | st.floats() | st.text(max_size=4),
        "iat": st.integers(0, 2**40) | st.text(max_size=4),
        "azp": st.sampled_from(["papo", "other"]),
    },
)
segments = st.text("ABCabc019-_=.+/", max_size=40)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    header=headers,
    body=claims,
    signature=st.binary(max_size=300),
    raw=st.none() | segments,
)
@example(header={"alg": "ES256"}, body={}, signature=b"\0", raw=None)
@example(header={"alg": "ES256", "kid": "__known__"}, body={}, signature=b"\0", raw=None)
def test_a_crafted_token_gets_401_never_a_failure(
    provider: str, header: dict[str, Any], body: dict[str, Any], signature: bytes, raw: str | None
) -> None:
    """Any header (any `alg`, `kid`, an embedded `jwk`, a `jku`), any claims,
    a junk signature, or a string that is no token: 401."""
    if raw is not None:
        token = raw
    else:
        if header.get("kid") == "__known__":
            header["kid"] = _known_kid(provider)
        if body.get("iss") == "__issuer__":
            body["iss"] = provider
        token = crafted(header, body, signature)
    assert refuses(token)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    claims_of=st.fixed_dictionaries(
        {"sub": st.text(min_size=1, max_size=8)},
        optional={"aud": st.lists(st.sampled_from(["papo", "other"]), min_size=1)},
    ),
    alg=st.sampled_from(["RS256", "ES256", "PS256"]),
)
def test_a_token_signed_with_a_key_of_its_own_gets_401(
    provider: str, claims_of: dict[str, Any], alg: str
) -> None:
    """Signed properly, with the issuer's key id, by a key the issuer never published."""
    signer = ec_key(kid=_known_kid(provider)) if alg == "ES256" else rsa_key(_known_kid(provider))
    signer.alg = alg
    now = int(time.time())
    body = {"iss": provider, "aud": "papo", "exp": now + 60, "iat": now, **claims_of}
    token = jwt.encode(body, signer.private, algorithm=alg, headers={"kid": signer.kid})
    assert refuses(token)


_KIDS: dict[str, str] = {}


def _known_kid(provider: str) -> str:
    """The key id the issuer publishes (its tokens name none)."""
    if provider not in _KIDS:
        _KIDS[provider] = httpx.get(f"{provider}/jwks").json()["keys"][0]["kid"]
    return _KIDS[provider]


# The issuer's keys, kept as long as it says


def test_a_key_published_after_an_unknown_key_id_is_accepted_soon(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    old, new = rsa_key("old"), ec_key("new")
    with running_issuer(old) as issuer:
        trust_issuer(monkeypatch, issuer.url)
        held_with(clock, issuer)
        assert lets_in(issuer.token(old))
        clock.now += issuers.REFETCH_EVERY_S
        assert refuses(issuer.token(rsa_key("made-up")))  # fetches the set anew
        issuer.keys.append(new)
        assert refuses(issuer.token(new))  # not yet: the set was just fetched
        clock.now += issuers.REFETCH_EVERY_S
        assert lets_in(issuer.token(new))
        assert issuer.fetches.count("/jwks") == 3


def test_made_up_key_ids_fetch_the_key_set_once_an_interval(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    signer = rsa_key("k1")
    with running_issuer(signer) as issuer:
        trust_issuer(monkeypatch, issuer.url)
        held_with(clock, issuer)
        assert lets_in(issuer.token(signer))
        for n in range(20):
            assert refuses(issuer.token(rsa_key(f"made-up-{n}")))
        assert issuer.fetches.count("/jwks") == 1
        clock.now += issuers.REFETCH_EVERY_S
        assert refuses(issuer.token(rsa_key("made-up")))
        assert issuer.fetches.count("/jwks") == 2
        assert issuer.fetches.count("/.well-known/openid-configuration") == 1


@pytest.mark.parametrize(
    ("cache_control", "kept_s"),
    [("public, max-age=600", 600), (None, issuers.KEYS_AGE_S[1]), ("no-store", 5)],
)
def test_a_removed_key_stops_being_accepted_when_the_key_set_says(
    monkeypatch: pytest.MonkeyPatch, clock: Clock, cache_control: str | None, kept_s: float
) -> None:
    removed, kept = rsa_key("removed"), rsa_key("kept")
    with running_issuer(removed, kept) as issuer:
        issuer.cache_control = cache_control
        trust_issuer(monkeypatch, issuer.url)
        held_with(clock, issuer)
        assert lets_in(issuer.token(removed))
        issuer.keys.remove(removed)
        clock.now += kept_s - 1
        assert lets_in(issuer.token(removed))  # as the issuer allowed
        clock.now += 1
        assert refuses(issuer.token(removed))
        assert lets_in(issuer.token(kept))
        assert issuer.fetches.count("/jwks") == 2


def test_the_discovery_document_is_fetched_once_while_it_is_fresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signer = rsa_key("k1")
    with running_issuer(signer) as issuer:
        issuer.cache_control = "max-age=0"
        trust_issuer(monkeypatch, issuer.url)
        for _ in range(5):
            assert lets_in(issuer.token(signer))
        assert issuer.fetches.count("/.well-known/openid-configuration") == 1


def test_an_unreachable_issuer_gets_503_while_it_is_down(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    """The authorizer lets the handshake on marked `unavailable`, which papo's
    handler answers with 503 (an authorizer alone can say only 401, 403 or
    500); the issuer is asked again once every REFETCH_EVERY_S meanwhile."""
    signer = rsa_key("k1")
    with running_issuer(signer) as issuer:
        trust_issuer(monkeypatch, issuer.url)
        held_with(clock, issuer)
        issuer.down = True
        for _ in range(3):
            answer = authorizer(connect_event(issuer.token(signer)), None)
            assert answer["context"] == {"access": "oidc", "unavailable": "true"}
            assert answer["principalId"] == "unavailable"
        assert len(issuer.fetches) == 1
        issuer.down = False
        clock.now += issuers.REFETCH_EVERY_S
        assert lets_in(issuer.token(signer))


def test_an_issuer_nobody_answers_at_gets_503(monkeypatch: pytest.MonkeyPatch) -> None:
    trust_issuer(monkeypatch, "http://127.0.0.1:9")
    answer = authorizer(connect_event(THE_27_CHARACTERS), None)
    assert answer["context"]["unavailable"] == "true"


# ID token validation (OpenID Connect Core 1.0, 3.1.3.7)


@pytest.fixture
def signed_by(monkeypatch: pytest.MonkeyPatch) -> Iterator[Issuer]:
    with running_issuer(rsa_key("k1")) as issuer:
        trust_issuer(monkeypatch, issuer.url)
        yield issuer


@pytest.mark.parametrize(
    ("claims", "admitted"),
    [
        ({}, True),
        ({"aud": ["papo"]}, True),
        ({"aud": ["papo", "other"]}, False),  # several audiences and no azp
        ({"aud": ["papo", "other"], "azp": "papo"}, True),
        ({"aud": ["papo", "other"], "azp": "other"}, False),
        ({"azp": "other"}, False),  # an azp is always papo's
        ({"aud": ["other"], "azp": "papo"}, False),
        ({"aud": None}, False),
        ({"iss": None}, False),
        ({"sub": None}, False),
        ({"exp": None}, False),
        ({"iat": None}, False),
        ({"sub": 7}, False),
        ({"sub": ""}, False),
    ],
)
def test_an_id_token_is_checked_as_openid_connect_core_asks(
    signed_by: Issuer, claims: dict[str, Any], admitted: bool
) -> None:
    token = signed_by.token(**claims)
    assert (not refuses(token)) is admitted


@pytest.mark.parametrize(
    ("claim", "offset_s", "admitted"),
    [
        ("exp", -5, True),  # within the leeway
        ("exp", -20, False),
        ("iat", 5, True),
        ("iat", 60, False),  # issued in the future
        ("nbf", 5, True),
        ("nbf", 20, False),
    ],
)
def test_clocks_get_a_small_leeway(
    signed_by: Issuer, claim: str, offset_s: int, admitted: bool
) -> None:
    claims: dict[str, Any] = {claim: int(time.time()) + offset_s}
    token = signed_by.token(**claims)
    assert (not refuses(token)) is admitted


@pytest.mark.parametrize(
    ("owns", "room", "role"),
    [
        (["team", "other"], "team", "owner"),
        ("other team", "TEAM", "owner"),
        (["team"], None, None),  # main, which the claim does not list
        ("main", None, "owner"),
        (["team"], "other", None),
        (7, "team", None),
    ],
)
def test_an_owner_claim_makes_its_holder_an_owner_of_the_rooms_it_lists(
    signed_by: Issuer,
    monkeypatch: pytest.MonkeyPatch,
    owns: Any,
    room: str | None,
    role: str | None,
) -> None:
    monkeypatch.setenv("PAPO_OIDC_OWNER_CLAIM", "papo_owns")
    answer = authorizer(connect_event(signed_by.token(papo_owns=owns), room), None)
    assert answer["context"].get("role") == role
