"""The test PKI: reproducible from seeds, unmistakably test material, shaped as CAs and leaves."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from pkconf import testpki as pki
from pkconf.authenticators.statements.packed import batch_certificate
from pkconf.authenticators.statements.tpm import aik_certificate

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
AAGUID = bytes.fromhex("cb69481e8ff7403993ec0a2729a154a8")

_FINGERPRINTS = """
import hashlib
from pkconf.testpki import VENDORS
from pkconf.authenticators.statements.packed import batch_certificate
from pkconf.authenticators.statements.tpm import aik_certificate
aaguid = bytes.fromhex("cb69481e8ff7403993ec0a2729a154a8")
for v in VENDORS.values():
    certs = [v.root, v.intermediate, batch_certificate(v, aaguid), aik_certificate(v, aaguid)]
    print(v.name, *(hashlib.sha256(c.der).hexdigest() for c in certs if c))
"""


def test_the_pki_is_rebuilt_byte_for_byte_by_a_fresh_interpreter() -> None:
    fresh = subprocess.run([sys.executable, "-c", _FINGERPRINTS], capture_output=True,
                           text=True, check=True).stdout.splitlines()
    here = [" ".join([v.name, *(hashlib.sha256(c.der).hexdigest() for c in (
        v.root, v.intermediate, batch_certificate(v, AAGUID), aik_certificate(v, AAGUID)) if c)])
        for v in pki.VENDORS.values()]
    assert fresh == here
    assert len(fresh) == 13


def test_building_a_root_twice_from_one_seed_gives_the_same_der() -> None:
    name = pki.subject_name("pkconf TEST Twice Root", org="Twice")
    assert pki.root_ca(name, "twice").der == pki.root_ca(name, "twice").der
    assert pki.root_ca(name, "twice").der != pki.root_ca(name, "other").der


def test_a_derived_key_is_sha256_of_the_seed_reduced_into_the_p256_group() -> None:
    expected = int.from_bytes(hashlib.sha256(b"pkconf").digest()) % (P256_ORDER - 1) + 1
    assert pki.derive_ec_key("pkconf").private_numbers().private_value == expected


def test_the_vendor_names_are_the_stable_list_profiles_refer_to() -> None:
    assert list(pki.VENDORS) == [
        "yubico", "yubico-fips", "feitian", "google-titan", "microsoft-tpm",
        "microsoft-authenticator", "apple-anonymous", "android-key-google", "test-revoked",
        "test-compromised", "test-ineligible", "test-uncertified", "self-signed-spoofer",
    ]


def test_an_unknown_vendor_name_is_refused_with_the_known_names() -> None:
    with pytest.raises(KeyError, match="unknown vendor 'yubikey'; known: yubico, yubico-fips"):
        pki.vendor("yubikey")


@pytest.mark.parametrize("name", list(pki.VENDORS))
def test_every_vendor_certificate_says_it_is_not_a_real_vendor_key(name: str) -> None:
    vendor = pki.VENDORS[name]
    for cert in (c.cert for c in (vendor.root, vendor.intermediate) if c):
        subject = {a.oid: a.value for a in cert.subject}
        assert subject[NameOID.COUNTRY_NAME] == "XX"
        assert subject[NameOID.ORGANIZATION_NAME].endswith("(NOT A REAL VENDOR KEY)")
        assert subject[NameOID.COMMON_NAME].startswith("pkconf TEST ")
        assert all(len(str(value)) <= 64 for value in subject.values())  # RFC 5280 bounds


def test_a_root_is_a_self_signed_ca_without_path_length() -> None:
    root = pki.VENDORS["yubico"].root.cert
    assert root.issuer == root.subject
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value == \
        x509.BasicConstraints(ca=True, path_length=None)


def test_an_intermediate_is_a_ca_of_path_length_zero_under_its_root() -> None:
    vendor = pki.VENDORS["yubico"]
    ca = vendor.intermediate.cert
    assert ca.issuer == vendor.root.cert.subject
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value == \
        x509.BasicConstraints(ca=True, path_length=0)


def test_a_leaf_is_not_a_ca_and_is_issued_by_the_vendor_issuing_ca() -> None:
    vendor = pki.VENDORS["yubico"]
    leaf = vendor.issue(pki.subject_name("pkconf TEST leaf", org="Leaf"), "test-leaf").cert
    assert leaf.issuer == vendor.intermediate.cert.subject
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert leaf.not_valid_before_utc == datetime(2024, 1, 1, tzinfo=UTC)
    assert leaf.not_valid_after_utc == datetime(2045, 1, 1, tzinfo=UTC)


def test_a_vendor_without_intermediate_issues_from_its_root() -> None:
    vendor = pki.VENDORS["test-revoked"]
    leaf = vendor.issue(pki.subject_name("pkconf TEST leaf", org="Leaf"), "test-leaf").cert
    assert vendor.intermediates == []
    assert leaf.issuer == vendor.root.cert.subject


def test_a_certificate_for_someone_elses_key_has_no_private_key_to_sign_with() -> None:
    public = pki.derive_ec_key("elsewhere").public_key()
    held = pki.VENDORS["apple-anonymous"].issue(
        pki.subject_name("pkconf TEST credCert", org="Apple"), "test-public", public_key=public)
    with pytest.raises(ValueError, match="no private key"):
        _ = held.signing_key
