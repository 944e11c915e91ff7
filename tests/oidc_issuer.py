"""An OpenID Connect issuer on loopback whose keys and answers a test sets:
its discovery document and key set over real HTTP, its ID tokens signed with
PyJWT, its key set's `Cache-Control` as the test says, and a switch that makes
it answer 503 as a down issuer would. (`oidc-provider-mock` signs with one RSA
key it makes itself; these tests need mixed and changing key sets.)"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

Private = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass
class Key:
    private: Private
    alg: str
    kid: str | None
    publish_alg: bool = False
    """Whether the key set names the key's `alg` (most issuers leave it to its type)."""

    def jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.alg)
        public: dict[str, Any] = json.loads(algorithm.to_jwk(self.private.public_key()))
        if self.kid is not None:
            public["kid"] = self.kid
        if self.publish_alg:
            public["alg"] = self.alg
        public["use"] = "sig"
        return public


def rsa_key(kid: str | None = "rsa-1", alg: str = "RS256") -> Key:
    return Key(rsa.generate_private_key(public_exponent=65537, key_size=2048), alg, kid)


def ec_key(kid: str | None = "ec-1") -> Key:
    return Key(ec.generate_private_key(ec.SECP256R1()), "ES256", kid)


@dataclass
class Issuer:
    url: str = ""
    keys: list[Key] = field(default_factory=list)
    cache_control: str | None = None
    down: bool = False
    fetches: list[str] = field(default_factory=list)
    """The paths asked for, in order."""

    def token(self, key: Key | None = None, **claims: Any) -> str:
        """An ID token for client `papo`, signed with `key` (the first one), its
        claims overridden by `claims` (None drops one)."""
        key = key or self.keys[0]
        now = int(time.time())
        body = {
            "iss": self.url,
            "sub": "ana-sub",
            "aud": "papo",
            "exp": now + 300,
            "iat": now,
            "name": "Ana",
            **claims,
        }
        headers = {} if key.kid is None else {"kid": key.kid}
        return jwt.encode(
            {k: v for k, v in body.items() if v is not None},
            key.private,
            algorithm=key.alg,
            headers=headers,
        )


@contextmanager
def running_issuer(*keys: Key) -> Iterator[Issuer]:
    issuer = Issuer(keys=list(keys))

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer.fetches.append(self.path)
            if issuer.down:
                self.send_error(503)
                return
            if self.path == "/.well-known/openid-configuration":
                body: dict[str, Any] = {
                    "issuer": issuer.url,
                    "jwks_uri": f"{issuer.url}/jwks",
                    "id_token_signing_alg_values_supported": sorted({k.alg for k in issuer.keys}),
                }
                cache_control = None
            elif self.path == "/jwks":
                body = {"keys": [k.jwk() for k in issuer.keys]}
                cache_control = issuer.cache_control
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if cache_control is not None:
                self.send_header("Cache-Control", cache_control)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    issuer.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()
