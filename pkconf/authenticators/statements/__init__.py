"""Attestation statements an authenticator signs at MakeCredential, one module per format.

Every format module provides an `Attester`: given the authenticator data it just built and
the client data hash, it returns `(fmt, attStmt)` for the attestation object. Formats that
need a certificate chain take it from the test PKI (`pkconf.testpki`). Deliberately
wrong variants ("bad signature", "expired leaf", ...) are options of the same attester, so a
negative case differs from its positive twin in one named knob: its `Defect`.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from fido2.webauthn import AttestationObject, AuthenticatorData

from ...testpki import CertKey, VendorPki

# COSE algorithm identifiers (IANA "COSE Algorithms")
ES256, EDDSA, RS256 = -7, -8, -257
# deterministic ECDSA with SHA-256, made once: building it checks its arguments in Python,
# about a tenth of the instructions a signature took
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


class Attester(Protocol):
    """Signs an attestation statement for a freshly made credential."""

    fmt: str

    def attest(
        self,
        auth_data: bytes,
        client_data_hash: bytes,
        credential_key: PrivateKeyTypes,
    ) -> tuple[str, dict[str, Any]]:
        """Return (fmt, attStmt) for these authenticator data and client data hash."""
        ...


def attestation_object(attester: Attester, auth_data: bytes, client_data_hash: bytes,
                       credential_key: PrivateKeyTypes) -> AttestationObject:
    """The attestation object (WebAuthn §6.5.4) carrying `attester`'s statement."""
    fmt, statement = attester.attest(auth_data, client_data_hash, credential_key)
    return AttestationObject.create(fmt, AuthenticatorData(auth_data), statement)


class Defect(StrEnum):
    """One deliberate mistake in a statement; each attester lists the ones it can make."""

    BAD_SIGNATURE = "bad-signature"  # the signature is over other bytes
    AAGUID_MISMATCH = "aaguid-mismatch"  # the certificate's AAGUID extension != authData's
    EXPIRED_LEAF = "expired-leaf"  # the attestation certificate expired in 2021
    WRONG_ORDER = "wrong-order"  # x5c is root side first
    ROOT_INCLUDED = "root-included"  # x5c ends with the trust anchor itself
    X5C_ON_SELF = "x5c-on-self"  # signed by the credential key, yet carries a batch x5c
    ALG_MISMATCH = "alg-mismatch"  # self attestation whose alg is not the credential key's
    WRONG_EKU = "wrong-eku"  # tpm: AIK certificate without tcg-kp-AIKCertificate
    EXTRA_DATA_MISMATCH = "extra-data-mismatch"  # tpm: certInfo.extraData is another hash
    MAGIC_MISMATCH = "magic-mismatch"  # tpm: certInfo.magic is not TPM_GENERATED_VALUE
    PUB_AREA_MISMATCH = "pub-area-mismatch"  # tpm: pubArea.unique is another key
    NONCE_MISMATCH = "nonce-mismatch"  # apple: the nonce extension hashes other bytes
    CHALLENGE_MISMATCH = "challenge-mismatch"  # android-key: attestationChallenge != hash
    LEAF_KEY_MISMATCH = "leaf-key-mismatch"  # android-key, apple: leaf certifies another key
    NOT_EMPTY = "not-empty"  # none: a packed statement relabelled as "none"


def require_defect(fmt: str, defect: Defect | None, supported: Collection[Defect]) -> None:
    """Refuse a defect the format cannot express, rather than silently ignoring it."""
    if defect is not None and defect not in supported:
        names = ", ".join(sorted(supported)) or "none"
        raise ValueError(f"{fmt} attester cannot make defect {defect!s} (it can: {names})")


def credential_aaguid(auth_data: bytes) -> bytes:
    """The AAGUID of the attested credential data, which a statement must be about.

    Authenticator data the device built arrive parsed already (an `AuthenticatorData` parses
    its own bytes when made, and is frozen): parsing them again would cost a CBOR decode and
    a COSE key per ceremony for the same answer."""
    parsed = auth_data if type(auth_data) is AuthenticatorData else AuthenticatorData(auth_data)
    credential = parsed.credential_data
    if credential is None:
        raise ValueError("authenticator data carries no attested credential data (AT unset)")
    return bytes(credential.aaguid)


def other_aaguid(aaguid: bytes) -> bytes:
    """An AAGUID guaranteed to differ from `aaguid` (every bit flipped)."""
    return bytes(b ^ 0xFF for b in aaguid)


def cose_alg(key: PrivateKeyTypes) -> int:
    """The COSE algorithm a key signs with here: ES256, RS256 or EdDSA."""
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return ES256
    if isinstance(key, rsa.RSAPrivateKey):
        return RS256
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return EDDSA
    raise ValueError(f"no COSE algorithm for a {type(key).__name__}")


def sign(key: PrivateKeyTypes, message: bytes, defect: Defect | None = None) -> bytes:
    """Sign as `cose_alg(key)` does (ECDSA in DER, as WebAuthn wants, and deterministic).

    With `Defect.BAD_SIGNATURE` the signature is well formed but over other bytes.
    """
    if defect is Defect.BAD_SIGNATURE:
        message = b"pkconf: not the attested bytes|" + message
    cose_alg(key)  # refuse unsupported keys with the same message everywhere
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(message, _ECDSA_SHA256)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return key.sign(message)


def x5c(leaf: CertKey, vendor: VendorPki, defect: Defect | None = None) -> list[bytes]:
    """The x5c array: the leaf first, then each CA up to (not including) the root.

    WebAuthn §6.5.3 (https://www.w3.org/TR/webauthn-3/#sctn-attestation): "x5c ... the
    attestation certificate ... followed by its certificate chain". `WRONG_ORDER` reverses it
    and `ROOT_INCLUDED` appends the root.
    """
    chain = [leaf.der, *vendor.intermediates]
    if defect is Defect.WRONG_ORDER:
        if len(chain) < 2:
            raise ValueError(f"vendor {vendor.name} has no intermediate: x5c cannot be reordered")
        chain.reverse()
    if defect is Defect.ROOT_INCLUDED:
        chain.append(vendor.root.der)
    return chain
