"""Publishes the web client to the stack's bucket, behind its CloudFront distribution.

    python -m deploy.publish_web --samconfig deploy/samconfig.toml   # make deploy's last step

The stack's name and region are the ones `sam deploy --guided` saved in
`deploy/samconfig.toml` (`--stack` and `--region` say others). A stack
deployed with `WebClient=false` has no bucket: nothing is uploaded, and one
line says so. Else it reads the stack's outputs (`WebBucket`, `WebUrl`, `WebSocketUrl`), uploads
`web/dist` with each file's content type and caching, then a `config.json`
that names the stack's WebSocket API (the page reads it: `web/src/socket.ts`)
and, when the stack asks for OpenID Connect ID tokens (its parameter `Door`,
who may connect, is `oidc`), the issuer and client id the page signs in with (its
parameters `OidcIssuer` and `OidcAudience`: `web/src/oidc.ts`), and prints the
page's address.

Caching: Vite names what it builds under `assets/` by a hash of the content,
so those files never change and are cached for a year (`immutable`);
`index.html`, `config.json` and any other file keep their name across versions
and are revalidated on every load (`no-cache`). The page goes last, once the
files it names are there; earlier assets stay, for pages loaded before.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploy import samconfig

if TYPE_CHECKING:
    from types_boto3_cloudformation.client import CloudFormationClient
    from types_boto3_s3.client import S3Client

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "web" / "dist"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_HASHED = re.compile(r"^assets/.+[-.][A-Za-z0-9_-]{8,}\.[a-z0-9]+$")
"""Vite's `assets/[name]-[hash].[ext]`."""

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
"""Set here, not guessed from the machine's MIME database, which varies."""


@dataclass(frozen=True)
class Upload:
    key: str
    body: bytes
    content_type: str
    cache_control: str


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def cache_control(key: str) -> str:
    return IMMUTABLE if _HASHED.match(key) else REVALIDATE


def page_config(websocket_url: str, oidc: Mapping[str, str] | None = None) -> dict[str, object]:
    """The page's `config.json`."""
    config: dict[str, object] = {"websocketUrl": websocket_url}
    if oidc is not None:
        config["oidc"] = dict(oidc)
    return config


def uploads(dist: Path, websocket_url: str, oidc: Mapping[str, str] | None = None) -> list[Upload]:
    """What to put in the bucket, in order: assets, other files, config.json, the page."""
    if not (dist / "index.html").is_file():
        raise SystemExit(f"no web client in {dist}: build it first (make web)")
    files = sorted(p for p in dist.rglob("*") if p.is_file())
    keyed = [(p.relative_to(dist).as_posix(), p) for p in files]
    found = [
        Upload(key, path.read_bytes(), content_type(key), cache_control(key))
        for key, path in keyed
        if key not in ("index.html", "config.json")
    ]
    found.sort(key=lambda u: u.cache_control != IMMUTABLE)  # assets first, stable otherwise
    config = json.dumps(page_config(websocket_url, oidc)).encode()
    found.append(Upload("config.json", config, "application/json", REVALIDATE))
    page = (dist / "index.html").read_bytes()
    found.append(Upload("index.html", page, content_type("index.html"), REVALIDATE))
    return found


def publish(
    s3: S3Client,
    bucket: str,
    dist: Path,
    websocket_url: str,
    oidc: Mapping[str, str] | None = None,
) -> list[Upload]:
    done = uploads(dist, websocket_url, oidc)
    for upload in done:
        s3.put_object(
            Bucket=bucket,
            Key=upload.key,
            Body=upload.body,
            ContentType=upload.content_type,
            CacheControl=upload.cache_control,
        )
    return done


def stack_outputs(cloudformation: CloudFormationClient, stack: str) -> dict[str, str]:
    (found,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def stack_parameters(cloudformation: CloudFormationClient, stack: str) -> dict[str, str]:
    (found,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in found.get("Parameters", [])}


def sign_in(parameters: Mapping[str, str], stack: str) -> dict[str, str] | None:
    """The issuer and client id the page signs in with, when the stack asks
    for ID tokens (`Door=oidc`)."""
    if parameters.get("Door") != "oidc":
        return None
    issuer, client_id = parameters.get("OidcIssuer", ""), parameters.get("OidcAudience", "")
    if not issuer or not client_id:
        raise SystemExit(f"stack {stack} has Door=oidc without OidcIssuer and OidcAudience")
    return {"issuer": issuer, "clientId": client_id}


def _needed(outputs: Mapping[str, str], stack: str) -> Iterator[str]:
    for name in ("WebBucket", "WebUrl", "WebSocketUrl"):
        if name not in outputs:
            raise SystemExit(
                f"stack {stack} has no output {name}: is its WebClient parameter false?"
            )
        yield outputs[name]


def main(argv: list[str] | None = None, **clients: Any) -> str:
    """Publishes; returns the page's address ("" when the stack has no web client).
    `clients`: boto3 clients to use (tests)."""
    parser = argparse.ArgumentParser(prog="python -m deploy.publish_web", description=__doc__)
    parser.add_argument(
        "--samconfig",
        type=Path,
        default=None,
        help="SAM CLI's saved configuration, for the stack's name and region",
    )
    parser.add_argument("--stack", default=None, help="the stack's name [the saved one, else papo]")
    parser.add_argument(
        "--region", default=None, help="the stack's region [the saved one, else AWS's default]"
    )
    parser.add_argument("--dist", default=str(DIST), help="the built web client [web/dist]")
    args = parser.parse_args(argv)
    saved = samconfig.read(args.samconfig) if args.samconfig is not None else samconfig.Saved()
    stack = args.stack or saved.stack or "papo"
    import boto3

    session = boto3.session.Session(region_name=args.region or saved.region)
    cloudformation = clients.get("cloudformation") or session.client("cloudformation")
    s3 = clients.get("s3") or session.client("s3")
    outputs = stack_outputs(cloudformation, stack)
    parameters = stack_parameters(cloudformation, stack)
    if parameters.get("WebClient") == "false":
        print(
            f"web client: none to publish (stack {stack} has WebClient=false); "
            f"its WebSocket API: {outputs.get('WebSocketUrl', '?')}"
        )
        return ""
    bucket, web_url, websocket_url = _needed(outputs, stack)
    oidc = sign_in(parameters, stack)
    done = publish(s3, bucket, Path(args.dist), websocket_url, oidc)
    print(f"web client: {len(done)} files in s3://{bucket}, connecting to {websocket_url}")
    if oidc is not None:
        print(
            f"sign-in: {oidc['issuer']}, client {oidc['clientId']}: a public client "
            f"(PKCE, no secret) with {web_url} as a redirect URI and its origin allowed (CORS)"
        )
    print(f"open {web_url}")
    return web_url


if __name__ == "__main__":
    main()
