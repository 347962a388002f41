"""The android-key attestation format (WebAuthn §8.4), which python-fido2 lacks.

The Android key attestation extension (OID 1.3.6.1.4.1.11129.2.1.17, "KeyDescription") is
read with our DER reader (der.py): no ASN.1 library is installed. Only the fields §8.4 names
are read: attestationChallenge, and purpose [1], allApplications [600], origin [702] of the
two authorization lists.

Which list proves origin and purpose: only teeEnforced (hardware-enforced; StrongBox keys
report there too). §8.4 lets an RP take the union with softwareEnforced, but a claim in the
software list is made by Android userland, which is exactly what attestation is meant not to
trust, and Entra's enforced attestation is about hardware-bound keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.constant_time import bytes_eq
from fido2.attestation.base import Attestation, AttestationResult, AttestationType
from fido2.webauthn import AuthenticatorData

from . import der, fields
from .certificate import AttestationCertificate
from .failure import (
    CERTIFICATE_INVALID,
    NONCE_MISMATCH,
    STATEMENT_INVALID,
    AttestationFailure,
    present,
    require,
    typed_failures,
)
from .formats import credential, same_key

OID_KEY_DESCRIPTION = "1.3.6.1.4.1.11129.2.1.17"
TAG_PURPOSE, TAG_ALL_APPLICATIONS, TAG_ORIGIN = 1, 600, 702
KM_PURPOSE_SIGN = 2
KM_ORIGIN_GENERATED = 0


@dataclass(frozen=True)
class KeyDescription:
    """The parts of the KeyDescription SEQUENCE that WebAuthn §8.4 checks."""

    attestation_challenge: bytes
    software_enforced: dict[int, der.Tlv]  # tag number -> the element inside [tag] EXPLICIT
    tee_enforced: dict[int, der.Tlv]

    @classmethod
    def parse(cls, data: bytes) -> KeyDescription:
        items = der.read_one(data).expect(der.SEQUENCE).children()
        if len(items) < 8:
            raise der.DerError("KeyDescription has fewer than 8 fields")
        return cls(
            attestation_challenge=items[4].expect(der.OCTET_STRING).value,
            software_enforced=_authorization_list(items[6]),
            tee_enforced=_authorization_list(items[7]),
        )

    def tee_purposes(self) -> set[int]:
        tlv = self.tee_enforced.get(TAG_PURPOSE)
        return {p.expect(der.INTEGER).as_int() for p in tlv.expect(der.SET).children()} \
            if tlv else set()

    def tee_origin(self) -> int | None:
        tlv = self.tee_enforced.get(TAG_ORIGIN)
        return tlv.expect(der.INTEGER).as_int() if tlv else None


def _authorization_list(tlv: der.Tlv) -> dict[int, der.Tlv]:
    out = {}
    for item in tlv.expect(der.SEQUENCE).children():
        if item.cls != der.CONTEXT:
            raise der.DerError("AuthorizationList entries must be context-tagged")
        out[item.number] = item.inner()
    return out


def _key_description(cert: AttestationCertificate) -> KeyDescription:
    ext = present(cert.extensions.get(OID_KEY_DESCRIPTION), CERTIFICATE_INVALID,
                  "The android-key certificate has no key attestation extension.")
    try:
        return KeyDescription.parse(ext.value)
    except der.DerError as e:
        raise AttestationFailure(
            CERTIFICATE_INVALID, f"The android-key attestation extension is malformed ({e})."
        ) from e


def _verify_signature(key: Any, alg: int, signature: bytes, data: bytes) -> None:
    """The leaf key signs with alg's hash; Android pairs ES256 with P-384 keys too."""
    fields.require_key_for(alg, key, "android-key")
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(fields.hash_algorithm(alg)))
    elif isinstance(key, rsa.RSAPublicKey):
        hash_alg = fields.hash_algorithm(alg)
        pad = padding.PSS(padding.MGF1(hash_alg), padding.PSS.DIGEST_LENGTH) \
            if alg in (-37, -38, -39) else padding.PKCS1v15()
        key.verify(signature, data, pad, hash_alg)
    else:
        raise AttestationFailure(STATEMENT_INVALID, "android-key keys are EC or RSA.")


class AndroidKeyAttestation(Attestation):
    """WebAuthn §8.4 android-key: basic attestation by an Android Keystore key."""

    FORMAT = "android-key"

    @typed_failures
    def verify(self, statement: Mapping[str, Any], auth_data: AuthenticatorData,
               client_data_hash: bytes) -> AttestationResult:
        alg = fields.algorithm(statement, "android-key")
        sig = fields.field(statement, "sig", bytes, "android-key")
        chain = fields.x5c(statement, "android-key")
        cred = credential(auth_data)
        cert = fields.leaf(chain, "android-key")
        description = _key_description(cert)

        # step 4: attestationChallenge is clientDataHash
        require(bytes_eq(description.attestation_challenge, client_data_hash), NONCE_MISMATCH,
                "The android-key attestationChallenge is not the clientDataHash.")
        # step 4: the key is scoped to the RP: allApplications in neither list
        require(TAG_ALL_APPLICATIONS not in description.software_enforced
                and TAG_ALL_APPLICATIONS not in description.tee_enforced, CERTIFICATE_INVALID,
                "The android-key key is usable by all applications (allApplications).")
        # step 4: generated in the TEE, for signing (teeEnforced only, see module docstring)
        require(description.tee_origin() == KM_ORIGIN_GENERATED, CERTIFICATE_INVALID,
                "The android-key key was not generated in the TEE (origin is not GENERATED).")
        require(KM_PURPOSE_SIGN in description.tee_purposes(), CERTIFICATE_INVALID,
                "The android-key key's TEE purposes do not include SIGN.")
        # step 3: the leaf key is the credential key
        require(same_key(cred.public_key, cert.cert.public_key()), STATEMENT_INVALID,
                "The android-key certificate key is not the credential public key.")
        # step 2: sig is the leaf's signature over authenticatorData || clientDataHash
        _verify_signature(cert.cert.public_key(), alg, sig, bytes(auth_data) + client_data_hash)
        return AttestationResult(AttestationType.BASIC, chain)
