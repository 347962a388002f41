"""The test TLS material and the emulator serving HTTPS with it."""

from __future__ import annotations

import ipaddress
import stat
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pkconf.emulator.server import EmulatorServer
from pkconf.emulator.tls import TestTls

# Written down once from a run: the material is derived from fixed seeds, so it never changes.
EXPECTED_PIN = "5NLMIgsbs3v/Pii9xTd3FMVynwWoMFwa2KX9pXGuczA="


def test_the_spki_pin_is_the_same_on_every_run(tls: TestTls) -> None:
    assert tls.spki_pin() == EXPECTED_PIN
    assert TestTls().server.der == tls.server.der


def test_the_server_certificate_names_both_entra_hosts_and_loopback(tls: TestTls) -> None:
    san = tls.server.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["login.microsoft.com",
                                                     "mysignins.microsoft.com"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1"),
                                                       ipaddress.ip_address("::1")]
    eku = tls.server.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_the_server_certificate_is_p256_valid_2024_to_2045(tls: TestTls) -> None:
    cert = tls.server.cert
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"
    assert cert.not_valid_before_utc == datetime(2024, 1, 1, tzinfo=UTC)
    assert cert.not_valid_after_utc == datetime(2045, 1, 1, tzinfo=UTC)


def test_the_issuer_is_a_clearly_named_test_ca(tls: TestTls) -> None:
    issuer = tls.server.cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert issuer == "pkconf TEST TLS CA — NOT A REAL CA"
    assert tls.ca.cert.subject == tls.server.cert.issuer
    constraints = tls.ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is True


def test_write_gives_pem_files_with_a_private_key_only_the_owner_reads(
        tls: TestTls, tmp_path: Path) -> None:
    certfile, keyfile = tls.write(tmp_path)
    assert x509.load_pem_x509_certificate(certfile.read_bytes()) == tls.server.cert
    assert keyfile.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600


def test_the_emulator_serves_https_verified_by_the_test_ca(
        emulator: EmulatorServer, tls: TestTls) -> None:
    assert emulator.base_url == f"https://127.0.0.1:{emulator.port}"
    with httpx.Client(base_url=emulator.base_url, verify=tls.client_context()) as client:
        assert client.get("/_emulator/health").json()["status"] == "ok"


def test_a_client_without_the_test_ca_refuses_the_certificate(emulator: EmulatorServer) -> None:
    with httpx.Client(base_url=emulator.base_url) as client, \
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        client.get("/_emulator/health")


def test_the_port_is_the_requested_one_until_the_server_binds() -> None:
    server = EmulatorServer(port=0)
    assert server.port == 0
    with server:
        assert server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
