"""Attested registrations end to end: Graph options → a software authenticator through the
CTAP client → POST, against an emulator started with the suite's test MDS BLOB."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from pkconf.authenticators.device import SoftwareAuthenticator
from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies.client import register
from pkconf.emulator.server import EmulatorServer
from pkconf.paths import TEST_MDS_BLOB, TEST_MDS_ROOT
from pkconf.tenant.attestation import Metadata
from pkconf.tenant.rules import ORIGIN

from .helpers import FIDO2_POLICY, Tenant, reason_of


@pytest.fixture(scope="module")
def attested_tenant() -> Iterator[Tenant]:
    if not (TEST_MDS_BLOB.exists() and TEST_MDS_ROOT.exists()):
        pytest.skip(f"the test MDS BLOB is not at {TEST_MDS_BLOB}")
    root = x509.load_pem_x509_certificate(TEST_MDS_ROOT.read_bytes()).public_bytes(Encoding.DER)
    metadata = Metadata.from_blob(TEST_MDS_BLOB.read_bytes(), root)
    with EmulatorServer(metadata=metadata) as server, \
            httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield Tenant(client)


@pytest.fixture
def tenant(attested_tenant: Tenant) -> Tenant:
    assert attested_tenant.client.post("/_emulator/reset").status_code == 204
    return attested_tenant


def _enroll(tenant: Tenant, profile: str) -> httpx.Response:
    user_id = tenant.user()
    options = tenant.options(user_id).json()["publicKey"]
    response = register(SoftwareAuthenticator(PROFILES[profile]), options, ORIGIN)
    return tenant.register(user_id, dict(response))


def test_attested_security_key_is_stored_with_its_metadata_model(tenant: Tenant) -> None:
    r = _enroll(tenant, "yubikey-5-nfc-iphone")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["aaGuid"], body["model"], body["attestationLevel"], body["passkeyType"]) == (
        "2fc0579f-8113-47ea-b116-bb5a8db9202a", "YubiKey 5 Series with NFC", "attested",
        "deviceBound")
    assert len(body["attestationCertificates"]) == 2
    assert all(re.fullmatch("[0-9a-f]{40}", t) for t in body["attestationCertificates"])


def test_enforced_attestation_refuses_an_unattested_synced_passkey(tenant: Tenant) -> None:
    profile = {**tenant.client.get(FIDO2_POLICY).json()["passkeyProfiles"][0],
               "passkeyTypes": "deviceBound", "attestationEnforcement": "registrationOnly"}
    assert tenant.patch_policy(passkeyProfiles=[profile]).status_code == 204
    r = _enroll(tenant, "apple-passwords")
    assert (r.status_code, reason_of(r)) == (403, "PASSKEY_TYPE_NOT_ALLOWED")  # policy scope: 403
