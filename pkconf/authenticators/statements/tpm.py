"""The "tpm" attestation statement: a TPM2_Certify of the credential key by an AIK.

WebAuthn §8.3 https://www.w3.org/TR/webauthn-3/#sctn-tpm-attestation. Windows Hello sends
this format; Entra accepts it when attestation is not enforced (entra-facts §4). The TPM wire
structures (TPMS_ATTEST, TPMT_PUBLIC) are written by hand: no library here emits them.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID

from ... import testpki as pki
from . import Defect, cose_alg, credential_aaguid, other_aaguid, require_defect, sign, x5c
from .packed import aaguid_extension

# TPM 2.0 Part 2 constants (TPM_GENERATED, TPM_ST, TPM_ALG_ID, TPM_ECC_CURVE)
TPM_GENERATED_VALUE = 0xFF544347
TPM_ST_ATTEST_CERTIFY = 0x8017
TPM_ALG_RSA, TPM_ALG_SHA256, TPM_ALG_NULL, TPM_ALG_ECC = 0x0001, 0x000B, 0x0010, 0x0023
TPM_ECC_NIST_P256 = 0x0003
# TPMA_OBJECT of a Windows Hello-like signing key: fixedTPM, fixedParent, sensitiveDataOrigin,
# userWithAuth, noDA, sign (Part 2 §8.3).
SIGNING_KEY_ATTRIBUTES = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 10) | (1 << 18)

# §8.3.1 TPM attestation statement certificate requirements
# https://www.w3.org/TR/webauthn-3/#sctn-tpm-cert-requirements
OID_TCG_KP_AIK_CERTIFICATE = x509.ObjectIdentifier("2.23.133.8.3")
OID_TPM_MANUFACTURER = x509.ObjectIdentifier("2.23.133.2.1")
OID_TPM_MODEL = x509.ObjectIdentifier("2.23.133.2.2")
OID_TPM_VERSION = x509.ObjectIdentifier("2.23.133.2.3")
# "id:FFFFF1D0" is the TCG vendor id registered for FIDO Alliance test TPMs: never a real chip.
TEST_TPM_MANUFACTURER, TEST_TPM_MODEL, TEST_TPM_VERSION = "id:FFFFF1D0", "pkconf-TEST", "id:0002"


def _sized(data: bytes) -> bytes:
    """A TPM2B_*: a big-endian UINT16 size, then the bytes."""
    return struct.pack(">H", len(data)) + data


@dataclass(frozen=True)
class TpmtPublic:
    """TPMT_PUBLIC (Part 2 §12.2.4) of the credential key: the attStmt's pubArea."""

    type: int
    parameters: bytes  # TPMU_PUBLIC_PARMS
    unique: bytes  # TPMU_PUBLIC_ID, already size-prefixed
    name_alg: int = TPM_ALG_SHA256
    object_attributes: int = SIGNING_KEY_ATTRIBUTES
    auth_policy: bytes = b""

    @classmethod
    def for_key(cls, public_key: Any) -> TpmtPublic:
        """§8.3: "the public key ... the parameters and unique fields" must be the credential's."""
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            if not isinstance(public_key.curve, ec.SECP256R1):
                raise ValueError("tpm attester supports P-256 and RSA credential keys")
            numbers = public_key.public_numbers()
            # TPMS_ECC_PARMS: symmetric, scheme, curveID, kdf
            params = struct.pack(">HHHH", TPM_ALG_NULL, TPM_ALG_NULL, TPM_ECC_NIST_P256,
                                 TPM_ALG_NULL)
            unique = _sized(numbers.x.to_bytes(32)) + _sized(numbers.y.to_bytes(32))
            return cls(TPM_ALG_ECC, params, unique)
        if isinstance(public_key, rsa.RSAPublicKey):
            rsa_numbers = public_key.public_numbers()
            # TPMS_RSA_PARMS: symmetric, scheme, keyBits, exponent (0 means 2^16+1)
            exponent = 0 if rsa_numbers.e == 65537 else rsa_numbers.e
            params = struct.pack(">HHHI", TPM_ALG_NULL, TPM_ALG_NULL, public_key.key_size,
                                 exponent)
            modulus = rsa_numbers.n.to_bytes((public_key.key_size + 7) // 8)
            return cls(TPM_ALG_RSA, params, _sized(modulus))
        raise ValueError("tpm attester supports P-256 and RSA credential keys")

    def to_bytes(self) -> bytes:
        return (struct.pack(">HHI", self.type, self.name_alg, self.object_attributes)
                + _sized(self.auth_policy) + self.parameters + self.unique)

    def name(self) -> bytes:
        """TPM 2.0 Part 1 §16: Name = nameAlg || H_nameAlg(TPMT_PUBLIC)."""
        return struct.pack(">H", self.name_alg) + hashlib.sha256(self.to_bytes()).digest()


@dataclass(frozen=True)
class TpmsAttest:
    """TPMS_ATTEST (Part 2 §10.12.12) for TPM_ST_ATTEST_CERTIFY: the attStmt's certInfo."""

    extra_data: bytes
    attested_name: bytes
    qualified_signer: bytes = b""
    magic: int = TPM_GENERATED_VALUE
    type: int = TPM_ST_ATTEST_CERTIFY
    # TPMS_CLOCK_INFO and firmwareVersion: fixed, plausible values (the RP does not check them)
    clock: int = 0x2D1D7E0
    reset_count: int = 3
    restart_count: int = 0
    safe: int = 1
    firmware_version: int = 0x0007_0002_0000_0000
    qualified_name: bytes = b""

    def to_bytes(self) -> bytes:
        return (
            struct.pack(">IH", self.magic, self.type)
            + _sized(self.qualified_signer) + _sized(self.extra_data)
            + struct.pack(">QIIB", self.clock, self.reset_count, self.restart_count, self.safe)
            + struct.pack(">Q", self.firmware_version)
            # TPMS_CERTIFY_INFO: name, qualifiedName
            + _sized(self.attested_name) + _sized(self.qualified_name)
        )


@cache
def aik_certificate(vendor: pki.VendorPki, aaguid: bytes, *, expired: bool = False,
                    wrong_eku: bool = False) -> pki.CertKey:
    """The AIK certificate, per §8.3.1.

    Version 3; empty subject; a critical SAN whose directoryName carries the TPM manufacturer,
    model and version (TCG EK Credential Profile §3.2.9); EKU tcg-kp-AIKCertificate; CA=false;
    the AAGUID extension (§8.3.1: "If present, ... MUST NOT be marked as critical").
    """
    san = x509.SubjectAlternativeName([x509.DirectoryName(x509.Name([
        x509.RelativeDistinguishedName([x509.NameAttribute(OID_TPM_MANUFACTURER,
                                                           TEST_TPM_MANUFACTURER)]),
        x509.RelativeDistinguishedName([x509.NameAttribute(OID_TPM_MODEL, TEST_TPM_MODEL)]),
        x509.RelativeDistinguishedName([x509.NameAttribute(OID_TPM_VERSION, TEST_TPM_VERSION)]),
    ]))])
    eku = ExtendedKeyUsageOID.SERVER_AUTH if wrong_eku else OID_TCG_KP_AIK_CERTIFICATE
    purpose = "tpm-aik/" + aaguid.hex() + ("/expired" if expired else "") + (
        "/wrong-eku" if wrong_eku else "")
    return vendor.issue(
        x509.Name([]), purpose,
        extensions=[(san, True), (x509.ExtendedKeyUsage([eku]), False),
                    (aaguid_extension(aaguid), False)],
        **pki.validity(expired=expired),
    )


def _another_key_like(public_key: Any) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    """A valid key of the same type that is not `public_key` (a pubArea for another key)."""
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        return rsa.RSAPublicNumbers(numbers.e, numbers.n ^ 0b10).public_key()
    return pki.derive_ec_key("tpm/not-the-credential-key").public_key()


@dataclass(frozen=True)
class TpmAttester:
    """A TPM certifying the credential key with an ECC AIK issued by `vendor`."""

    vendor: pki.VendorPki
    defect: Defect | None = None
    fmt: ClassVar[str] = "tpm"
    DEFECTS: ClassVar[frozenset[Defect]] = frozenset({
        Defect.BAD_SIGNATURE, Defect.AAGUID_MISMATCH, Defect.EXPIRED_LEAF, Defect.WRONG_ORDER,
        Defect.ROOT_INCLUDED, Defect.WRONG_EKU, Defect.EXTRA_DATA_MISMATCH,
        Defect.MAGIC_MISMATCH, Defect.PUB_AREA_MISMATCH,
    })

    def __post_init__(self) -> None:
        require_defect(self.fmt, self.defect, self.DEFECTS)

    def attest(self, auth_data: bytes, client_data_hash: bytes,
               credential_key: PrivateKeyTypes) -> tuple[str, dict[str, Any]]:
        aaguid = credential_aaguid(auth_data)
        aik = aik_certificate(
            self.vendor,
            other_aaguid(aaguid) if self.defect is Defect.AAGUID_MISMATCH else aaguid,
            expired=self.defect is Defect.EXPIRED_LEAF,
            wrong_eku=self.defect is Defect.WRONG_EKU,
        )
        certified = credential_key.public_key()
        if self.defect is Defect.PUB_AREA_MISMATCH:
            certified = _another_key_like(certified)
        pub_area = TpmtPublic.for_key(certified)
        # §8.3 "extraData: the hash of attToBeSigned using the hash algorithm employed in alg"
        # (ES256: SHA-256)
        att_to_be_signed = auth_data + client_data_hash
        if self.defect is Defect.EXTRA_DATA_MISMATCH:
            att_to_be_signed += b"\x00"
        cert_info = TpmsAttest(
            extra_data=hashlib.sha256(att_to_be_signed).digest(),
            attested_name=pub_area.name(),
            qualified_signer=struct.pack(">H", TPM_ALG_SHA256)
            + hashlib.sha256(aik.der).digest(),
            magic=0xFF544300 if self.defect is Defect.MAGIC_MISMATCH else TPM_GENERATED_VALUE,
        ).to_bytes()
        return self.fmt, {
            "ver": "2.0",  # §8.3 "The version of the TPM specification": "2.0"
            "alg": cose_alg(aik.signing_key),
            "x5c": x5c(aik, self.vendor, self.defect),
            "sig": sign(aik.signing_key, cert_info, self.defect),
            "certInfo": cert_info,
            "pubArea": pub_area.to_bytes(),
        }
