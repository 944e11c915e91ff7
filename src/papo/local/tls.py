"""A certificate made at start-up, so handlers can reach the Management API over https.

Handlers written the plain AWS way build their client from the event,
`endpoint_url=f"https://{domainName}/{stage}"`, or from the API's id and
region, `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`; the
emulator serves the Management API over TLS too, under a certificate naming
both, and gives handlers `AWS_CA_BUNDLE` (which boto3 and papo's own client
honour): the usual public roots plus this certificate, so that calls to real
AWS services keep verifying as before.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path
    key: Path
    ca_bundle: Path


def _public_roots() -> str:
    try:
        import certifi

        return Path(certifi.where()).read_text()
    except ImportError:
        return _SYSTEM_BUNDLE.read_text() if _SYSTEM_BUNDLE.exists() else ""


def make_certificate(directory: Path, host: str, *also: str) -> TlsFiles:
    """A self-signed certificate for `host`, localhost, 127.0.0.1 and the names
    `also`, valid for a day."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "papo serve")])
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    names.extend(x509.DNSName(name) for name in also)
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    files = TlsFiles(directory / "cert.pem", directory / "key.pem", directory / "ca-bundle.pem")
    files.certificate.write_bytes(pem)
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.key.chmod(0o600)
    files.ca_bundle.write_text(_public_roots() + "\n" + pem.decode())
    return files
