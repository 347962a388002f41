"""The "packed" attestation statement: full (batch certificate chain) or self attestation.

WebAuthn §8.2 https://www.w3.org/TR/webauthn-3/#sctn-packed-attestation. This is the one format
Entra accepts when attestation is enforced (entra-facts §4), so it is the one the vendor-like
profiles use, and the one most defects are aimed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from ... import testpki as pki
from . import (
    ES256,
    RS256,
    Defect,
    cose_alg,
    credential_aaguid,
    der,
    other_aaguid,
    require_defect,
    sign,
    x5c,
)

# id-fido-gen-ce-aaguid: WebAuthn §8.2.1 https://www.w3.org/TR/webauthn-3/#sctn-packed-attestation-cert-requirements
OID_FIDO_AAGUID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
# §8.2.1: "Subject-OU: Literal string 'Authenticator Attestation'"
ATTESTATION_OU = "Authenticator Attestation"


def aaguid_extension(aaguid: bytes) -> x509.UnrecognizedExtension:
    """§8.2.1: the AAGUID "wrapped in an OCTET STRING", not critical."""
    return x509.UnrecognizedExtension(OID_FIDO_AAGUID, der.octet_string(aaguid))


@cache
def batch_certificate(vendor: pki.VendorPki, aaguid: bytes, *,
                      expired: bool = False) -> pki.CertKey:
    """The vendor's batch attestation certificate for one model (AAGUID).

    §8.2.1 profile: version 3; subject C, O, OU "Authenticator Attestation", CN; CA=false;
    the AAGUID extension, which is a MUST when a root serves several models (our vendors do).
    The same (vendor, AAGUID) always gives the same certificate and key, as a batch does.
    A vendor that brought its own batch certificate (`VendorPki.batch`) signs with that one.
    """
    if vendor.batch is not None and not expired:
        return vendor.batch
    subject = pki.subject_name(f"pkconf TEST {vendor.label} Batch", org=vendor.label,
                               ou=ATTESTATION_OU)
    purpose = f"packed-batch/{aaguid.hex()}" + ("/expired" if expired else "")
    return vendor.issue(subject, purpose, extensions=[(aaguid_extension(aaguid), False)],
                        **pki.validity(expired=expired))


@dataclass(frozen=True)
class PackedAttester:
    """Full attestation with `vendor`'s batch key, or self attestation when `vendor` is None."""

    vendor: pki.VendorPki | None = None
    defect: Defect | None = None
    fmt: ClassVar[str] = "packed"
    FULL_DEFECTS: ClassVar[frozenset[Defect]] = frozenset({
        Defect.BAD_SIGNATURE, Defect.AAGUID_MISMATCH, Defect.EXPIRED_LEAF,
        Defect.WRONG_ORDER, Defect.ROOT_INCLUDED, Defect.X5C_ON_SELF,
    })
    SELF_DEFECTS: ClassVar[frozenset[Defect]] = frozenset({Defect.BAD_SIGNATURE,
                                                          Defect.ALG_MISMATCH})
    DEFECTS: ClassVar[frozenset[Defect]] = FULL_DEFECTS | SELF_DEFECTS  # as other attesters

    def __post_init__(self) -> None:
        supported = self.SELF_DEFECTS if self.vendor is None else self.FULL_DEFECTS
        require_defect(self.fmt, self.defect, supported)

    def attest(self, auth_data: bytes, client_data_hash: bytes,
               credential_key: PrivateKeyTypes) -> tuple[str, dict[str, Any]]:
        # §8.2 signing procedure: sig over authenticatorData || clientDataHash
        message = auth_data + client_data_hash
        if self.vendor is None:
            # Self attestation: alg is the credential key's own, sig by the credential key
            alg = cose_alg(credential_key)
            if self.defect is Defect.ALG_MISMATCH:
                alg = RS256 if alg == ES256 else ES256
            return self.fmt, {"alg": alg, "sig": sign(credential_key, message, self.defect)}
        aaguid = credential_aaguid(auth_data)
        if self.defect is Defect.AAGUID_MISMATCH:
            aaguid = other_aaguid(aaguid)
        batch = batch_certificate(self.vendor, aaguid,
                                  expired=self.defect is Defect.EXPIRED_LEAF)
        signer = credential_key if self.defect is Defect.X5C_ON_SELF else batch.signing_key
        return self.fmt, {
            "alg": cose_alg(signer),
            "sig": sign(signer, message, self.defect),
            "x5c": x5c(batch, self.vendor, self.defect),
        }
