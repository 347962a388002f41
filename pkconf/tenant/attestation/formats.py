"""Strict verifiers for the formats python-fido2 implements: packed, tpm, apple, fido-u2f, none.

Each class adds, before delegating to fido2's verifier, the checks fido2 makes with a generic
`InvalidData` (or not at all), so that each failure carries its own reason code. TPM is the
exception: fido2's TpmAttestation reads the AIK certificate's extensions through
cryptography, which rejects real Windows Hello AIK certificates (a non-DER
certificatePolicies entry), so its top-level steps are redone here on fido2's TPM structures.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.constant_time import bytes_eq
from fido2.attestation.apple import AppleAttestation
from fido2.attestation.base import (
    AttestationResult,
    AttestationType,
    InvalidData,
    InvalidSignature,
    NoneAttestation,
)
from fido2.attestation.packed import PackedAttestation, _validate_packed_cert
from fido2.attestation.tpm import TpmAttestation, TpmAttestationFormat, TpmPublicFormat
from fido2.attestation.u2f import FidoU2FAttestation
from fido2.cose import ES256, CoseKey
from fido2.webauthn import AttestedCredentialData, AuthenticatorData

from . import der, fields
from .certificate import AttestationCertificate
from .failure import (
    AAGUID_MISMATCH,
    CERTIFICATE_INVALID,
    NONCE_MISMATCH,
    STATEMENT_INVALID,
    present,
    require,
    typed_failures,
)

AUTHENTICATOR_ATTESTATION = "Authenticator Attestation"
OID_AIK_CERTIFICATE = "2.23.133.8.3"  # tcg-kp-AIKCertificate
TPM_MANUFACTURER, TPM_MODEL, TPM_VERSION = "2.23.133.2.1", "2.23.133.2.2", "2.23.133.2.3"
OID_APPLE_NONCE = "1.2.840.113635.100.8.2"
_FIDO2_INVALID_DATA = (ValueError, KeyError, IndexError)  # what fido2 reports as InvalidData
_ES256_SIGNATURE = ec.ECDSA(hashes.SHA256())
_Verify = Callable[[bytes, bytes], None]  # (message, signature): raises unless it verifies


def require_end_entity(cert: AttestationCertificate, fmt: str) -> None:
    """Version 3 and basicConstraints cA=false: shared by packed, tpm (WebAuthn §8.2.1, §8.3.1)."""
    require(cert.cert.version == x509.Version.v3, CERTIFICATE_INVALID,
            f"The {fmt} attestation certificate is not X.509 version 3.")
    ca = cert.basic_constraints_ca()
    require(ca is not None, CERTIFICATE_INVALID,
            f"The {fmt} attestation certificate has no basicConstraints extension.")
    require(not ca, CERTIFICATE_INVALID, f"The {fmt} attestation certificate is a CA (cA=true).")


def require_aaguid(cert: AttestationCertificate, aaguid: bytes, fmt: str) -> None:
    """If the certificate names an AAGUID it must be authData's, and not critical (§8.2.1)."""
    ext = cert.extensions.get("1.3.6.1.4.1.45724.1.1.4")
    if ext is None:
        return
    require(not ext.critical, CERTIFICATE_INVALID,
            f"The {fmt} certificate's AAGUID extension must not be critical.")
    require(cert.aaguid() == aaguid, AAGUID_MISMATCH,
            f"The {fmt} certificate's AAGUID differs from the authenticator data's AAGUID.")


def credential(auth_data: AuthenticatorData) -> AttestedCredentialData:
    """The attested credential data, which a registration must carry (AT flag)."""
    return present(auth_data.credential_data, STATEMENT_INVALID,
                   "The authenticator data carries no attested credential data.")


def same_key(credential_key: CoseKey, public_key: Any) -> bool:
    """Whether a certificate (or pubArea) key is the credential public key."""
    try:
        return credential_key.from_cryptography_key(public_key) == credential_key
    except (AttributeError, TypeError, ValueError):  # different key families
        return False


class StrictPackedAttestation(PackedAttestation):
    """WebAuthn §8.2: packed, full (x5c) or self attestation."""

    @typed_failures
    def verify(self, statement: Mapping[str, Any], auth_data: AuthenticatorData,
               client_data_hash: bytes) -> AttestationResult:
        require("ecdaaKeyId" not in statement, STATEMENT_INVALID,
                "ECDAA attestation was removed from WebAuthn Level 2.")
        alg = fields.algorithm(statement, "packed")
        sig = fields.field(statement, "sig", bytes, "packed")
        cred = credential(auth_data)
        if "x5c" not in statement:
            # §8.2 step 3: self attestation, alg must be the credential key's algorithm
            require(alg == cred.public_key.ALGORITHM, STATEMENT_INVALID,
                    f"Self attestation alg {alg} differs from the credential key's algorithm.")
            result: AttestationResult = super().verify(statement, auth_data, client_data_hash)
            return result
        chain = fields.x5c(statement, "packed")
        # fido2's PackedAttestation.verify from here on, the certificate's part remembered
        _signed(_packed_key(chain[0], bytes(cred.aaguid), alg), auth_data + client_data_hash,
                sig)
        return AttestationResult(AttestationType.BASIC, chain)


@functools.lru_cache(maxsize=1024)
def _packed_key(der: bytes, aaguid: bytes, alg: int) -> _Verify:
    """The key a packed x5c leaf verifies with, after §8.2.1's certificate requirements (ours,
    then fido2's `_validate_packed_cert`). A pure function of its arguments, remembered: a run
    meets the same few attestation certificates thousands of times, and checking one was a
    third of a decision (x509 Name and extension parsing). Failures are not remembered: they
    raise afresh, exactly as before."""
    cert = fields.leaf([der], "packed")
    require_end_entity(cert, "packed")
    for name, oid in (("C", x509.NameOID.COUNTRY_NAME),
                      ("O", x509.NameOID.ORGANIZATION_NAME),
                      ("CN", x509.NameOID.COMMON_NAME)):
        require(cert.subject_values(oid), CERTIFICATE_INVALID,
                f"The packed attestation certificate subject has no {name}.")
    require(cert.subject_values(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)
            == [AUTHENTICATOR_ATTESTATION], CERTIFICATE_INVALID,
            'The packed attestation certificate subject OU is not "Authenticator Attestation".')
    require_aaguid(cert, aaguid, "packed")
    fields.require_key_for(alg, cert.cert.public_key(), "packed")
    return _fido2_packed_key(cert.cert, aaguid, alg)


def _fido2_packed_key(cert: x509.Certificate, aaguid: bytes, alg: int) -> _Verify:
    """fido2's own certificate checks and key, failing as its verifier fails (InvalidData).

    An ES256 key is also built as fido2's `ES256.verify` builds it on every call (curve check,
    point from the COSE coordinates), here once: only the signature check is left per call.
    """
    try:
        _validate_packed_cert(cert, aaguid)  # type: ignore[no-untyped-call]
        key = CoseKey.for_alg(alg).from_cryptography_key(cert.public_key())
        if type(key) is not ES256:
            return key.verify
        if key[-1] != 1:
            raise ValueError("Unsupported elliptic curve")  # ES256.verify's refusal
        point = ec.EllipticCurvePublicNumbers(int.from_bytes(key[-2], "big"),
                                              int.from_bytes(key[-3], "big"),
                                              ec.SECP256R1()).public_key()
    except _FIDO2_INVALID_DATA as e:  # fido2's catch_builtins
        raise InvalidData(e) from e
    return lambda message, signature: point.verify(signature, message, _ES256_SIGNATURE)


def _signed(verify: _Verify, message: bytes, signature: bytes) -> None:
    """fido2's signature check: InvalidData for what it cannot read, InvalidSignature else."""
    try:
        verify(message, signature)
    except CryptoInvalidSignature:
        raise InvalidSignature() from None
    except _FIDO2_INVALID_DATA as e:  # fido2's catch_builtins
        raise InvalidData(e) from e


class StrictTpmAttestation(TpmAttestation):
    """WebAuthn §8.3: tpm, on fido2's TPMS_ATTEST and TPMT_PUBLIC parsers (verify replaced)."""

    @typed_failures
    def verify(self, statement: Mapping[str, Any], auth_data: AuthenticatorData,
               client_data_hash: bytes) -> AttestationResult:
        require(statement.get("ver") == "2.0", STATEMENT_INVALID, 'The tpm ver is not "2.0".')
        require("ecdaaKeyId" not in statement, STATEMENT_INVALID,
                "ECDAA attestation was removed from WebAuthn Level 2.")
        alg = fields.algorithm(statement, "tpm")
        sig = fields.field(statement, "sig", bytes, "tpm")
        cert_info = fields.field(statement, "certInfo", bytes, "tpm")
        pub_area_bytes = fields.field(statement, "pubArea", bytes, "tpm")
        chain = fields.x5c(statement, "tpm")
        cred = credential(auth_data)

        # §8.3 step 2: pubArea describes the credential public key (a parse error is
        # STATEMENT_INVALID through typed_failures, as is a malformed certInfo below)
        pub_area = TpmPublicFormat.parse(pub_area_bytes)
        require(same_key(cred.public_key, pub_area.public_key()), STATEMENT_INVALID,
                "The tpm pubArea key is not the credential public key.")
        # §8.3 step 4: magic TPM_GENERATED_VALUE and type TPM_ST_ATTEST_CERTIFY (parse checks)
        attest = TpmAttestationFormat.parse(cert_info)
        # extraData is the hash of attToBeSigned under alg's hash
        require(bytes_eq(attest.data, fields.digest(alg, bytes(auth_data) + client_data_hash)),
                NONCE_MISMATCH, "The tpm certInfo extraData does not hash authData and "
                                "clientDataHash.")
        # attested.name is the Name of pubArea (TPMv2 Part 1 §16)
        require(attest.attested.name == pub_area.name(), STATEMENT_INVALID,
                "The tpm certInfo does not name the pubArea.")

        cert = fields.leaf(chain, "tpm")
        self._require_aik_profile(cert)
        require_aaguid(cert, bytes(cred.aaguid), "tpm")
        fields.require_key_for(alg, cert.cert.public_key(), "tpm")
        CoseKey.for_alg(alg).from_cryptography_key(cert.cert.public_key()).verify(cert_info, sig)
        return AttestationResult(AttestationType.ATT_CA, chain)

    @staticmethod
    def _require_aik_profile(cert: AttestationCertificate) -> None:
        # §8.3.1 TPM attestation statement certificate requirements
        require_end_entity(cert, "tpm")
        require(len(cert.cert.subject) == 0, CERTIFICATE_INVALID,
                "The tpm AIK certificate subject must be empty.")
        san = cert.san_directory_attributes()
        missing = [n for n, oid in (("manufacturer", TPM_MANUFACTURER), ("model", TPM_MODEL),
                                    ("version", TPM_VERSION)) if oid not in san]
        require(not missing, CERTIFICATE_INVALID,
                f"The tpm AIK certificate SAN lacks the TPM {', '.join(missing)}.")
        require(OID_AIK_CERTIFICATE in cert.extended_key_usages(), CERTIFICATE_INVALID,
                "The tpm AIK certificate EKU lacks tcg-kp-AIKCertificate (2.23.133.8.3).")


class StrictAppleAttestation(AppleAttestation):
    """WebAuthn §8.8: Apple anonymous attestation."""

    @typed_failures
    def verify(self, statement: Mapping[str, Any], auth_data: AuthenticatorData,
               client_data_hash: bytes) -> AttestationResult:
        chain = fields.x5c(statement, "apple")
        cert = fields.leaf(chain, "apple")
        cred = credential(auth_data)
        # step 3: the nonce extension is SEQUENCE { [1] EXPLICIT OCTET STRING nonce }
        ext = present(cert.extensions.get(OID_APPLE_NONCE), CERTIFICATE_INVALID,
                      "The apple certificate has no nonce extension (1.2.840.113635.100.8.2).")
        tagged = der.read_one(ext.value).expect(der.SEQUENCE).children()[0].expect(1, der.CONTEXT)
        nonce = tagged.inner().expect(der.OCTET_STRING).value
        expected = hashes.Hash(hashes.SHA256())
        expected.update(bytes(auth_data) + client_data_hash)
        require(bytes_eq(nonce, expected.finalize()), NONCE_MISMATCH,
                "The apple certificate nonce does not hash authData and clientDataHash.")
        # step 5: the certificate key is the credential public key
        require(same_key(cred.public_key, cert.cert.public_key()), STATEMENT_INVALID,
                "The apple certificate key is not the credential public key.")
        result = super().verify(statement, auth_data, client_data_hash)
        return AttestationResult(AttestationType.ANON_CA, result.trust_path)


class StrictFidoU2FAttestation(FidoU2FAttestation):
    """WebAuthn §8.6: fido-u2f."""

    @typed_failures
    def verify(self, statement: Mapping[str, Any], auth_data: AuthenticatorData,
               client_data_hash: bytes) -> AttestationResult:
        fields.field(statement, "sig", bytes, "fido-u2f")
        chain = fields.x5c(statement, "fido-u2f")
        require(len(chain) == 1, STATEMENT_INVALID,
                "The fido-u2f x5c must hold exactly one certificate.")
        cert = fields.leaf(chain, "fido-u2f")
        key = cert.cert.public_key()
        require(isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1",
                CERTIFICATE_INVALID, "The fido-u2f certificate key is not an EC P-256 key.")
        cred = credential(auth_data)
        require(cred.public_key.get(1) == 2 and cred.public_key.get(-1) == 1, STATEMENT_INVALID,
                "A fido-u2f credential key must be an EC2 P-256 key.")
        # FIDO server conformance Resp-8 F-1: U2F authenticators have no AAGUID
        require(not any(bytes(cred.aaguid)), AAGUID_MISMATCH,
                "A fido-u2f registration must carry the zero AAGUID.")
        result: AttestationResult = super().verify(statement, auth_data, client_data_hash)
        return result


class StrictNoneAttestation(NoneAttestation):
    """WebAuthn §8.7: none; a non-empty statement (a relabelled one) is refused."""

    @typed_failures
    def verify(self, statement: Mapping[str, Any], auth_data: AuthenticatorData,
               client_data_hash: bytes) -> AttestationResult:
        require(statement == {}, STATEMENT_INVALID, 'The "none" attestation statement is not '
                                                    "empty.")
        return AttestationResult(AttestationType.NONE, [])  # as fido2's, which is untyped
