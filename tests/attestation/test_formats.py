"""Certificate and key-attestation requirements, on statements signed by test keys.

The real captures cannot show a violated certificate profile or an Android key that is not
RP-scoped, so these statements are built and signed here.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData

from pkconf.authenticators.statements import der
from pkconf.tenant.attestation import AttestationFailure, verify_statement

from . import pki
from .pki import unrecognized

AAGUID = bytes.fromhex("0123456789abcdef0123456789abcdef")
CDH = hashlib.sha256(b'{"type":"webauthn.create"}').digest()
OID_AAGUID = "1.3.6.1.4.1.45724.1.1.4"
OID_KEY_DESCRIPTION = "1.3.6.1.4.1.11129.2.1.17"


def _auth_data(credential_key: ec.EllipticCurvePrivateKey) -> AuthenticatorData:
    flags = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.UV | AuthenticatorData.FLAG.AT
    cose = ES256.from_cryptography_key(credential_key.public_key())
    return AuthenticatorData.create(hashlib.sha256(b"login.microsoft.com").digest(), flags, 0,
                                    AttestedCredentialData.create(AAGUID, b"\x01" * 16, cose))


def _signed(fmt: str, signer: ec.EllipticCurvePrivateKey, auth_data: AuthenticatorData,
            x5c: list[bytes]) -> AttestationObject:
    sig = signer.sign(bytes(auth_data) + CDH, ec.ECDSA(hashes.SHA256()))
    return AttestationObject.create(fmt, auth_data, {"alg": -7, "sig": sig, "x5c": x5c})


def _reason(obj: AttestationObject, cdh: bytes = CDH) -> str:
    with pytest.raises(AttestationFailure) as failure:
        verify_statement(obj, cdh)
    return failure.value.reason


@pytest.fixture(scope="module")
def ca() -> pki.Issued:
    return pki.intermediate(pki.root())


@pytest.fixture(scope="module")
def credential_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


# --- packed full attestation: WebAuthn §8.2.1 certificate requirements


def _packed(issuer: pki.Issued, credential_key, **leaf: Any) -> AttestationObject:
    batch = pki.issue(leaf.pop("subject", pki.name("pkconf TEST Batch")), issuer, **leaf)
    return _signed("packed", batch.key, _auth_data(credential_key), [batch.der])


def test_packed_full_attestation_meeting_the_certificate_profile_verifies(ca,
                                                                          credential_key) -> None:
    aaguid = pki.unrecognized(OID_AAGUID, der.octet_string(AAGUID))
    obj = _packed(ca, credential_key, extensions=((aaguid, False),))
    result = verify_statement(obj, CDH)
    assert (result.fmt, result.attestation_type, len(result.trust_path)) == ("packed", "basic", 1)


PROFILE_VIOLATIONS: dict[str, dict[str, Any]] = {
    "ou-not-authenticator-attestation": {"subject": pki.name("pkconf TEST Batch", ou="Sales")},
    "no-ou": {"subject": pki.name("pkconf TEST Batch", ou=None)},
    "no-country": {"subject": x509.Name([
        x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "pkconf TEST"),
        x509.NameAttribute(x509.NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
        x509.NameAttribute(x509.NameOID.COMMON_NAME, "pkconf TEST Batch")])},
    "ca-true": {"ca": True},
    "no-basic-constraints": {"ca": None},
    "critical-aaguid-extension": {
        "extensions": ((unrecognized(OID_AAGUID, der.octet_string(AAGUID)), True),)},
}


@pytest.mark.parametrize("violation", PROFILE_VIOLATIONS, ids=list(PROFILE_VIOLATIONS))
def test_packed_leaf_violating_the_certificate_profile_is_rejected_as_certificate_invalid(
        ca, credential_key, violation: str) -> None:
    obj = _packed(ca, credential_key, **PROFILE_VIOLATIONS[violation])
    assert _reason(obj) == "ATTESTATION_CERTIFICATE_INVALID"


def test_packed_leaf_vouching_for_another_aaguid_is_rejected_as_aaguid_mismatch(
        ca, credential_key) -> None:
    other = unrecognized(OID_AAGUID, der.octet_string(b"\xff" * 16))
    assert _reason(_packed(ca, credential_key, extensions=((other, False),))) == \
        "ATTESTATION_AAGUID_MISMATCH"


def test_packed_full_attestation_signed_by_the_credential_key_is_signature_invalid(
        ca, credential_key) -> None:
    """FIDO conformance Resp-5 F-14: the batch key must sign, not the credential key."""
    batch = pki.issue(pki.name("pkconf TEST Batch"), ca)
    obj = _signed("packed", credential_key, _auth_data(credential_key), [batch.der])
    assert _reason(obj) == "ATTESTATION_SIGNATURE_INVALID"


def test_packed_certificate_already_checked_still_has_every_signature_verified(
        ca, credential_key) -> None:
    """The leaf's checks and key are remembered per certificate; the signature never is."""
    batch = pki.issue(pki.name("pkconf TEST Batch"), ca)
    assert verify_statement(_signed("packed", batch.key, _auth_data(credential_key),
                                    [batch.der]), CDH).attestation_type == "basic"
    forged = _signed("packed", credential_key, _auth_data(credential_key), [batch.der])
    assert _reason(forged) == "ATTESTATION_SIGNATURE_INVALID"
    assert _reason(_signed("packed", batch.key, _auth_data(credential_key), [batch.der]),
                   cdh=bytes(32)) == "ATTESTATION_SIGNATURE_INVALID"


@pytest.mark.parametrize("violation", PROFILE_VIOLATIONS, ids=list(PROFILE_VIOLATIONS))
def test_packed_certificate_refused_once_is_refused_again_for_the_same_reason(
        ca, credential_key, violation: str) -> None:
    """A refusal is not remembered as a key: the second decision checks and fails afresh."""
    obj = _packed(ca, credential_key, **PROFILE_VIOLATIONS[violation])
    failures = []
    for _ in range(2):
        with pytest.raises(AttestationFailure) as failure:
            verify_statement(obj, CDH)
        failures.append((failure.value.reason, failure.value.detail))
    assert failures[0] == failures[1]
    assert failures[0][0] == "ATTESTATION_CERTIFICATE_INVALID"


# --- android-key: WebAuthn §8.4


def purpose(value: int) -> bytes:
    """KeyMint authorization list: purpose [1] SET OF INTEGER (2 = SIGN)."""
    return der.explicit(1, der.set_of(der.integer(value)))


def origin(value: int) -> bytes:
    """KeyMint authorization list: origin [702] INTEGER (0 = GENERATED, 2 = IMPORTED)."""
    return der.explicit(702, der.integer(value))


TEE_SIGN_GENERATED = (purpose(2), origin(0))


def _key_description(challenge: bytes = CDH, *, software: tuple[bytes, ...] = (),
                     tee: tuple[bytes, ...] = TEE_SIGN_GENERATED) -> bytes:
    enumerated = der.enumerated(1)  # SecurityLevel TRUSTED_ENVIRONMENT
    return der.sequence(der.integer(3), enumerated, der.integer(4), enumerated,
                        der.octet_string(challenge), der.octet_string(b""),
                        der.sequence(*software), der.sequence(*tee))


def _android(ca: pki.Issued, credential_key, description: bytes | None = None, *,
             leaf_key: ec.EllipticCurvePrivateKey | None = None) -> AttestationObject:
    extensions = () if description is None else \
        ((unrecognized(OID_KEY_DESCRIPTION, description), False),)
    leaf = pki.issue(pki.name("Android Keystore Key", ou=None), ca, ca=None,
                     extensions=extensions, key=leaf_key or credential_key)
    return _signed("android-key", leaf.key, _auth_data(credential_key), [leaf.der, ca.der])


def test_android_key_generated_in_the_tee_for_signing_verifies(ca, credential_key) -> None:
    result = verify_statement(_android(ca, credential_key, _key_description()), CDH)
    assert (result.fmt, result.attestation_type, len(result.trust_path)) == \
        ("android-key", "basic", 2)


def test_android_key_challenge_other_than_client_data_hash_is_nonce_mismatch(
        ca, credential_key) -> None:
    obj = _android(ca, credential_key, _key_description(b"\x00" * 32))
    assert _reason(obj) == "ATTESTATION_NONCE_MISMATCH"


ANDROID_VIOLATIONS: dict[str, dict[str, tuple[bytes, ...]]] = {
    "all-applications-in-software-list": {"software": (der.explicit(600, der.null()),)},
    "all-applications-in-tee-list": {"tee": (*TEE_SIGN_GENERATED, der.explicit(600, der.null()))},
    "imported-key": {"tee": (purpose(2), origin(2))},
    "no-sign-purpose": {"tee": (purpose(0), origin(0))},
    "origin-and-purpose-only-in-software-list": {"software": TEE_SIGN_GENERATED, "tee": ()},
}


@pytest.mark.parametrize("violation", ANDROID_VIOLATIONS, ids=list(ANDROID_VIOLATIONS))
def test_android_key_not_scoped_tee_generated_signing_key_is_certificate_invalid(
        ca, credential_key, violation: str) -> None:
    obj = _android(ca, credential_key, _key_description(**ANDROID_VIOLATIONS[violation]))
    assert _reason(obj) == "ATTESTATION_CERTIFICATE_INVALID"


@pytest.mark.parametrize("description", [None, b"\x30\x03\x02\x01", der.sequence(der.integer(3))],
                         ids=["missing", "truncated", "too-few-fields"])
def test_android_key_without_a_readable_key_description_is_certificate_invalid(
        ca, credential_key, description: bytes | None) -> None:
    assert _reason(_android(ca, credential_key, description)) == \
        "ATTESTATION_CERTIFICATE_INVALID"


def test_android_key_leaf_key_other_than_the_credential_key_is_statement_invalid(
        ca, credential_key) -> None:
    obj = _android(ca, credential_key, _key_description(),
                   leaf_key=ec.generate_private_key(ec.SECP256R1()))
    assert _reason(obj) == "ATTESTATION_STATEMENT_INVALID"
