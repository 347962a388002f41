"""Every attester's statement verifies, and every defect is refused for its own reason.

Verifiers: python-fido2's own (`fido2.attestation`, no android-key there) and the tenant's
(`pkconf.tenant.attestation`), whose reason codes are the rule book's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from hashlib import sha256

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fido2.attestation import (
    AppleAttestation,
    Attestation,
    FidoU2FAttestation,
    NoneAttestation,
    PackedAttestation,
    TpmAttestation,
)
from fido2.attestation.base import InvalidAttestation
from fido2.cose import CoseKey
from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData

from pkconf.authenticators.statements import Attester, Defect, attestation_object, cose_alg
from pkconf.authenticators.statements.android_key import AndroidKeyAttester
from pkconf.authenticators.statements.apple import AppleAttester
from pkconf.authenticators.statements.fido_u2f import FidoU2fAttester
from pkconf.authenticators.statements.none import NoneAttester
from pkconf.authenticators.statements.packed import PackedAttester
from pkconf.authenticators.statements.tpm import TpmAttester
from pkconf.tenant.attestation import AttestationFailure, validate_chain, verify_statement
from pkconf.testpki import VENDORS, derive_ec_key

AT = datetime(2026, 6, 1, tzinfo=UTC)
RP_ID_HASH = sha256(b"login.microsoft.com").digest()
CLIENT_DATA_HASH = sha256(b'{"type":"webauthn.create","challenge":"pkconf"}').digest()
FLAGS = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.UV | AuthenticatorData.FLAG.AT
YUBIKEY_5_NFC = bytes.fromhex("fa2b99dc9e3942578f924a30d23c4118")
WINDOWS_HELLO_HARDWARE = bytes.fromhex("08987058cadc4b81b6e130de50dcbe96")
ANDROID = bytes.fromhex("b93fd961f2e6462fb12282002247de78")
ZERO = bytes(16)
EC_KEY = derive_ec_key("tests/credential")
RSA_KEY = rsa.generate_private_key(65537, 2048)


def _auth_data(key, aaguid: bytes) -> AuthenticatorData:
    public = CoseKey.for_alg(cose_alg(key)).from_cryptography_key(key.public_key())
    credential = AttestedCredentialData.create(aaguid, b"pkconf-credential", public)
    return AuthenticatorData.create(RP_ID_HASH, FLAGS, 0, credential)


def _attest(attester: Attester, key=EC_KEY, aaguid: bytes = YUBIKEY_5_NFC) -> AttestationObject:
    return attestation_object(attester, bytes(_auth_data(key, aaguid)), CLIENT_DATA_HASH, key)


def _reason(obj: AttestationObject) -> str:
    with pytest.raises(AttestationFailure) as caught:
        verify_statement(obj, CLIENT_DATA_HASH, at=AT)
    return caught.value.reason


YUBICO, TPM, APPLE, ANDROID_KEY = (VENDORS[n] for n in
                                   ("yubico", "microsoft-tpm", "apple-anonymous",
                                    "android-key-google"))

# id, attester, credential key, AAGUID, fido2 verifier (None: fido2 has none), attestation type
ACCEPTED = [
    ("packed-full", PackedAttester(YUBICO), EC_KEY, YUBIKEY_5_NFC, PackedAttestation, "basic"),
    ("packed-self-es256", PackedAttester(), EC_KEY, YUBIKEY_5_NFC, PackedAttestation, "self"),
    ("packed-self-rs256", PackedAttester(), RSA_KEY, YUBIKEY_5_NFC, PackedAttestation, "self"),
    ("tpm-ecc", TpmAttester(TPM), EC_KEY, WINDOWS_HELLO_HARDWARE, TpmAttestation, "attca"),
    ("tpm-rsa", TpmAttester(TPM), RSA_KEY, WINDOWS_HELLO_HARDWARE, TpmAttestation, "attca"),
    ("android-key", AndroidKeyAttester(ANDROID_KEY), EC_KEY, ANDROID, None, "basic"),
    ("apple", AppleAttester(APPLE), EC_KEY, ZERO, AppleAttestation, "anonca"),
    ("fido-u2f", FidoU2fAttester(YUBICO), EC_KEY, ZERO, FidoU2FAttestation, "basic"),
    ("none", NoneAttester(), EC_KEY, YUBIKEY_5_NFC, NoneAttestation, "none"),
]


@pytest.mark.parametrize(("attester", "key", "aaguid", "fido2_verifier"),
                         [pytest.param(*c[1:5], id=c[0]) for c in ACCEPTED if c[4]])
def test_statement_is_accepted_by_python_fido2(attester: Attester, key, aaguid: bytes,
                                               fido2_verifier: type[Attestation]) -> None:
    obj = _attest(attester, key, aaguid)
    fido2_verifier().verify(obj.att_stmt, obj.auth_data, CLIENT_DATA_HASH)


@pytest.mark.parametrize(("attester", "key", "aaguid", "attestation_type"),
                         [pytest.param(c[1], c[2], c[3], c[5], id=c[0]) for c in ACCEPTED])
def test_statement_is_accepted_by_the_tenant_verifier(attester: Attester, key, aaguid: bytes,
                                                      attestation_type: str) -> None:
    obj = _attest(attester, key, aaguid)
    assert obj.fmt == attester.fmt
    assert verify_statement(obj, CLIENT_DATA_HASH, at=AT).attestation_type == attestation_type


@pytest.mark.parametrize(("attester", "aaguid", "vendor", "length"), [
    pytest.param(PackedAttester(YUBICO), YUBIKEY_5_NFC, "yubico", 2, id="packed"),
    pytest.param(TpmAttester(TPM), WINDOWS_HELLO_HARDWARE, "microsoft-tpm", 2, id="tpm"),
    pytest.param(AndroidKeyAttester(ANDROID_KEY), ANDROID, "android-key-google", 2,
                 id="android-key"),
    pytest.param(AppleAttester(APPLE), ZERO, "apple-anonymous", 2, id="apple"),
    pytest.param(FidoU2fAttester(YUBICO), ZERO, "yubico", 1, id="fido-u2f"),
])
def test_x5c_is_leaf_then_intermediates_and_chains_to_the_vendor_root(
        attester: Attester, aaguid: bytes, vendor: str, length: int) -> None:
    x5c = _attest(attester, aaguid=aaguid).att_stmt["x5c"]
    assert len(x5c) == length
    validate_chain(x5c, [VENDORS[vendor].root.der], AT)


# id, attester, key, AAGUID, the tenant's reason, whether python-fido2 also refuses it
STATEMENT_DEFECTS = [
    ("packed-bad-signature", PackedAttester(YUBICO, Defect.BAD_SIGNATURE), EC_KEY,
     YUBIKEY_5_NFC, "ATTESTATION_SIGNATURE_INVALID", True),
    ("packed-aaguid-mismatch", PackedAttester(YUBICO, Defect.AAGUID_MISMATCH), EC_KEY,
     YUBIKEY_5_NFC, "ATTESTATION_AAGUID_MISMATCH", True),
    ("packed-x5c-on-self", PackedAttester(YUBICO, Defect.X5C_ON_SELF), EC_KEY,
     YUBIKEY_5_NFC, "ATTESTATION_SIGNATURE_INVALID", True),
    ("packed-wrong-order", PackedAttester(YUBICO, Defect.WRONG_ORDER), EC_KEY,
     YUBIKEY_5_NFC, "ATTESTATION_CERTIFICATE_INVALID", True),
    ("packed-self-bad-signature", PackedAttester(None, Defect.BAD_SIGNATURE), EC_KEY,
     YUBIKEY_5_NFC, "ATTESTATION_SIGNATURE_INVALID", True),
    ("packed-self-alg-mismatch", PackedAttester(None, Defect.ALG_MISMATCH), EC_KEY,
     YUBIKEY_5_NFC, "ATTESTATION_STATEMENT_INVALID", True),
    ("tpm-bad-signature", TpmAttester(TPM, Defect.BAD_SIGNATURE), RSA_KEY,
     WINDOWS_HELLO_HARDWARE, "ATTESTATION_SIGNATURE_INVALID", True),
    ("tpm-aaguid-mismatch", TpmAttester(TPM, Defect.AAGUID_MISMATCH), RSA_KEY,
     WINDOWS_HELLO_HARDWARE, "ATTESTATION_AAGUID_MISMATCH", False),
    ("tpm-wrong-eku", TpmAttester(TPM, Defect.WRONG_EKU), RSA_KEY,
     WINDOWS_HELLO_HARDWARE, "ATTESTATION_CERTIFICATE_INVALID", True),
    ("tpm-extra-data-mismatch", TpmAttester(TPM, Defect.EXTRA_DATA_MISMATCH), RSA_KEY,
     WINDOWS_HELLO_HARDWARE, "ATTESTATION_NONCE_MISMATCH", True),
    ("tpm-magic-mismatch", TpmAttester(TPM, Defect.MAGIC_MISMATCH), RSA_KEY,
     WINDOWS_HELLO_HARDWARE, "ATTESTATION_STATEMENT_INVALID", True),
    ("tpm-pub-area-mismatch-rsa", TpmAttester(TPM, Defect.PUB_AREA_MISMATCH), RSA_KEY,
     WINDOWS_HELLO_HARDWARE, "ATTESTATION_STATEMENT_INVALID", True),
    ("tpm-pub-area-mismatch-ecc", TpmAttester(TPM, Defect.PUB_AREA_MISMATCH), EC_KEY,
     WINDOWS_HELLO_HARDWARE, "ATTESTATION_STATEMENT_INVALID", True),
    ("tpm-wrong-order", TpmAttester(TPM, Defect.WRONG_ORDER), RSA_KEY,
     WINDOWS_HELLO_HARDWARE, "ATTESTATION_CERTIFICATE_INVALID", True),
    ("android-key-bad-signature", AndroidKeyAttester(ANDROID_KEY, Defect.BAD_SIGNATURE),
     EC_KEY, ANDROID, "ATTESTATION_SIGNATURE_INVALID", False),
    ("android-key-challenge-mismatch",
     AndroidKeyAttester(ANDROID_KEY, Defect.CHALLENGE_MISMATCH), EC_KEY, ANDROID,
     "ATTESTATION_NONCE_MISMATCH", False),
    ("android-key-leaf-key-mismatch",
     AndroidKeyAttester(ANDROID_KEY, Defect.LEAF_KEY_MISMATCH), EC_KEY, ANDROID,
     "ATTESTATION_STATEMENT_INVALID", False),
    ("android-key-wrong-order", AndroidKeyAttester(ANDROID_KEY, Defect.WRONG_ORDER), EC_KEY,
     ANDROID, "ATTESTATION_CERTIFICATE_INVALID", False),
    ("apple-nonce-mismatch", AppleAttester(APPLE, Defect.NONCE_MISMATCH), EC_KEY, ZERO,
     "ATTESTATION_NONCE_MISMATCH", True),
    ("apple-leaf-key-mismatch", AppleAttester(APPLE, Defect.LEAF_KEY_MISMATCH), EC_KEY, ZERO,
     "ATTESTATION_STATEMENT_INVALID", False),
    ("apple-wrong-order", AppleAttester(APPLE, Defect.WRONG_ORDER), EC_KEY, ZERO,
     "ATTESTATION_CERTIFICATE_INVALID", False),
    ("fido-u2f-bad-signature", FidoU2fAttester(YUBICO, Defect.BAD_SIGNATURE), EC_KEY, ZERO,
     "ATTESTATION_SIGNATURE_INVALID", True),
    ("none-not-empty", NoneAttester(Defect.NOT_EMPTY), EC_KEY, YUBIKEY_5_NFC,
     "ATTESTATION_STATEMENT_INVALID", True),
]


@pytest.mark.parametrize(("attester", "key", "aaguid", "reason"),
                         [pytest.param(*c[1:5], id=c[0]) for c in STATEMENT_DEFECTS])
def test_statement_defect_is_rejected_by_the_tenant_verifier_for_its_reason(
        attester: Attester, key, aaguid: bytes, reason: str) -> None:
    assert _reason(_attest(attester, key, aaguid)) == reason


FIDO2_VERIFIERS: dict[str, type[Attestation]] = {
    "packed": PackedAttestation, "tpm": TpmAttestation, "apple": AppleAttestation,
    "fido-u2f": FidoU2FAttestation, "none": NoneAttestation,
}


@pytest.mark.parametrize(("attester", "key", "aaguid"),
                         [pytest.param(*c[1:4], id=c[0]) for c in STATEMENT_DEFECTS if c[5]])
def test_statement_defect_is_rejected_by_python_fido2(attester: Attester, key,
                                                      aaguid: bytes) -> None:
    obj = _attest(attester, key, aaguid)
    with pytest.raises(InvalidAttestation):
        FIDO2_VERIFIERS[obj.fmt]().verify(obj.att_stmt, obj.auth_data, CLIENT_DATA_HASH)


# Chain defects: the statement is sound, so only path validation can refuse it.
CHAIN_DEFECTS = [
    ("packed-expired-leaf", PackedAttester(YUBICO, Defect.EXPIRED_LEAF), YUBIKEY_5_NFC,
     "yubico", "ATTESTATION_CERTIFICATE_EXPIRED"),
    ("packed-root-included", PackedAttester(YUBICO, Defect.ROOT_INCLUDED), YUBIKEY_5_NFC,
     "yubico", "ATTESTATION_CHAIN_INVALID"),
    ("tpm-expired-leaf", TpmAttester(TPM, Defect.EXPIRED_LEAF), WINDOWS_HELLO_HARDWARE,
     "microsoft-tpm", "ATTESTATION_CERTIFICATE_EXPIRED"),
    ("tpm-root-included", TpmAttester(TPM, Defect.ROOT_INCLUDED), WINDOWS_HELLO_HARDWARE,
     "microsoft-tpm", "ATTESTATION_CHAIN_INVALID"),
    ("android-key-expired-leaf", AndroidKeyAttester(ANDROID_KEY, Defect.EXPIRED_LEAF), ANDROID,
     "android-key-google", "ATTESTATION_CERTIFICATE_EXPIRED"),
    ("android-key-root-included", AndroidKeyAttester(ANDROID_KEY, Defect.ROOT_INCLUDED),
     ANDROID, "android-key-google", "ATTESTATION_CHAIN_INVALID"),
    ("apple-expired-leaf", AppleAttester(APPLE, Defect.EXPIRED_LEAF), ZERO, "apple-anonymous",
     "ATTESTATION_CERTIFICATE_EXPIRED"),
    ("apple-root-included", AppleAttester(APPLE, Defect.ROOT_INCLUDED), ZERO,
     "apple-anonymous", "ATTESTATION_CHAIN_INVALID"),
    ("fido-u2f-expired-leaf", FidoU2fAttester(YUBICO, Defect.EXPIRED_LEAF), ZERO, "yubico",
     "ATTESTATION_CERTIFICATE_EXPIRED"),
    # A sound statement whose chain ends at a root no metadata lists
    ("self-signed-spoofer", PackedAttester(VENDORS["self-signed-spoofer"]), YUBIKEY_5_NFC,
     "yubico", "ATTESTATION_UNTRUSTED"),
]


@pytest.mark.parametrize(("attester", "aaguid", "vendor", "reason"),
                         [pytest.param(*c[1:], id=c[0]) for c in CHAIN_DEFECTS])
def test_chain_defect_passes_the_statement_check_and_fails_path_validation(
        attester: Attester, aaguid: bytes, vendor: str, reason: str) -> None:
    trust_path = verify_statement(_attest(attester, aaguid=aaguid), CLIENT_DATA_HASH,
                                  at=AT).trust_path
    with pytest.raises(AttestationFailure) as caught:
        validate_chain(trust_path, [VENDORS[vendor].root.der], AT)
    assert caught.value.reason == reason


@pytest.mark.parametrize(("make", "message"), [
    pytest.param(lambda: AppleAttester(APPLE, Defect.BAD_SIGNATURE),
                 "apple attester cannot make defect bad-signature", id="apple-has-no-signature"),
    pytest.param(lambda: PackedAttester(None, Defect.EXPIRED_LEAF),
                 "packed attester cannot make defect expired-leaf", id="self-has-no-leaf"),
    pytest.param(lambda: NoneAttester(Defect.WRONG_EKU),
                 "none attester cannot make defect wrong-eku", id="none-has-no-eku"),
])
def test_attester_refuses_a_defect_its_format_cannot_express(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_order_needs_an_intermediate_to_reorder() -> None:
    attester = PackedAttester(VENDORS["test-revoked"], Defect.WRONG_ORDER)
    with pytest.raises(ValueError, match="has no intermediate"):
        _attest(attester)


def test_fido_u2f_refuses_a_credential_key_that_is_not_p256() -> None:
    with pytest.raises(ValueError, match="P-256"):
        _attest(FidoU2fAttester(YUBICO), RSA_KEY, ZERO)


def test_attester_refuses_authenticator_data_without_a_credential() -> None:
    bare = AuthenticatorData.create(RP_ID_HASH, AuthenticatorData.FLAG.UP, 0)
    with pytest.raises(ValueError, match="no attested credential data"):
        PackedAttester(YUBICO).attest(bytes(bare), CLIENT_DATA_HASH, EC_KEY)


def test_statements_are_deterministic_for_the_same_inputs() -> None:
    first = _attest(TpmAttester(TPM), aaguid=WINDOWS_HELLO_HARDWARE)
    second = _attest(TpmAttester(TPM), aaguid=WINDOWS_HELLO_HARDWARE)
    assert bytes(first) == bytes(second)
