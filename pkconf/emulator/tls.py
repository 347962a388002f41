"""Test TLS for the emulator, so a browser can reach it under Entra's real host names.

WebAuthn only runs in a secure context, and the RP ID `login.microsoft.com` only works on an
origin under that name: the emulator therefore serves HTTPS for `login.microsoft.com` and
`mysignins.microsoft.com` with a certificate from a test CA. Chromium trusts it through
`--ignore-certificate-errors-spki-list` (the pin from `spki_pin()`), Python clients through
`client_context()`. Nothing is installed in any trust store.

Keys are derived from fixed seeds and signed deterministically (the attestation test PKI's
helpers), so the pin is the same on every machine and run.
"""

from __future__ import annotations

import hashlib
import ipaddress
import ssl
from base64 import b64encode
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..hosts import HOSTS
from ..testpki import TEST_COUNTRY, CertKey, leaf, root_ca

TLS_HOSTS = HOSTS  # the RP's host and the pages' (pkconf.hosts), the RP's first
# The server's own base_url (https://127.0.0.1:<port>) must verify too, for Python clients.
LOOPBACK = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
CA_NAME = "pkconf TEST TLS CA — NOT A REAL CA"
_ORG = "pkconf TEST TLS (NOT A REAL CA)"
_SEED = "pkconf-tls"


def _name(cn: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, TEST_COUNTRY),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _server_extensions() -> list[tuple[x509.ExtensionType, bool]]:
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )
    return [
        (x509.SubjectAlternativeName([*(x509.DNSName(h) for h in TLS_HOSTS),
                                      *(x509.IPAddress(ip) for ip in LOOPBACK)]), False),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (usage, True),
    ]


def _test_ca() -> CertKey:
    return root_ca(_name(CA_NAME), f"{_SEED}/ca")


@dataclass(frozen=True, eq=False)
class TestTls:
    """The test CA and the server certificate for Entra's two hosts (valid 2024-2045)."""

    __test__ = False  # a fixture type, not a pytest test class

    ca: CertKey = field(init=False, default_factory=_test_ca)
    server: CertKey = field(init=False)

    def __post_init__(self) -> None:
        server = leaf(self.ca, _name(TLS_HOSTS[0]), f"{_SEED}/server",
                      extensions=_server_extensions())
        object.__setattr__(self, "server", server)

    def spki_pin(self) -> str:
        """Base64 SHA-256 of the leaf's SubjectPublicKeyInfo, Chromium's SPKI pin format."""
        spki = self.server.cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return b64encode(hashlib.sha256(spki).digest()).decode()

    def write(self, directory: Path | str) -> tuple[Path, Path]:
        """The leaf and its key as PEM files in `directory`, for uvicorn's ssl_* options."""
        certfile, keyfile = Path(directory) / "server.pem", Path(directory) / "server-key.pem"
        certfile.write_bytes(self.server.pem)
        key = self.server.signing_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        keyfile.touch(mode=0o600)
        keyfile.write_bytes(key)
        return certfile, keyfile

    def client_context(self) -> ssl.SSLContext:
        """An SSL context trusting only the test CA (pass as httpx's `verify=`)."""
        return ssl.create_default_context(cadata=self.ca.pem.decode())
