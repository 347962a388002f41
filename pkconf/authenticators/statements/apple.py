"""The "apple" (Apple Anonymous) attestation statement.

WebAuthn §8.8 https://www.w3.org/TR/webauthn-3/#sctn-apple-anonymous-attestation. Apple's CA
issues a certificate for the credential key whose nonce extension is
SHA-256(authenticatorData || clientDataHash); there is no signature in the statement.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from ... import testpki as pki
from . import Defect, der, require_defect, x5c

OID_APPLE_NONCE = x509.ObjectIdentifier("1.2.840.113635.100.8.2")


def nonce_extension(nonce: bytes) -> x509.UnrecognizedExtension:
    """§8.8 step 4: the nonce is "the first and only member" of a SEQUENCE, tagged [1]."""
    return x509.UnrecognizedExtension(
        OID_APPLE_NONCE, der.sequence(der.explicit(1, der.octet_string(nonce)))
    )


@dataclass(frozen=True)
class AppleAttester:
    """Apple-like anonymous attestation: a fresh credCert per credential, from `vendor`'s CA."""

    vendor: pki.VendorPki
    defect: Defect | None = None
    fmt: ClassVar[str] = "apple"
    DEFECTS: ClassVar[frozenset[Defect]] = frozenset({
        Defect.NONCE_MISMATCH, Defect.LEAF_KEY_MISMATCH, Defect.EXPIRED_LEAF,
        Defect.WRONG_ORDER, Defect.ROOT_INCLUDED,
    })

    def __post_init__(self) -> None:
        require_defect(self.fmt, self.defect, self.DEFECTS)

    def attest(self, auth_data: bytes, client_data_hash: bytes,
               credential_key: PrivateKeyTypes) -> tuple[str, dict[str, Any]]:
        certified = credential_key.public_key()
        if self.defect is Defect.LEAF_KEY_MISMATCH:  # §8.8 step 5: credCert key = credential
            certified = pki.derive_ec_key("apple/not-the-credential-key").public_key()
        # §8.8 steps 2-3: nonce = SHA-256(authenticatorData || clientDataHash)
        nonce_input = auth_data + client_data_hash
        if self.defect is Defect.NONCE_MISMATCH:
            nonce_input += b"\x00"
        nonce = hashlib.sha256(nonce_input).digest()
        spki = certified.public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
        expired = self.defect is Defect.EXPIRED_LEAF
        cred_cert = self.vendor.issue(
            pki.subject_name("pkconf TEST Apple-like credCert", org=self.vendor.label),
            f"apple/{hashlib.sha256(spki + nonce).hexdigest()}",
            public_key=certified, extensions=[(nonce_extension(nonce), False)],
            **pki.validity(expired=expired),
        )
        return self.fmt, {"x5c": x5c(cred_cert, self.vendor, self.defect)}
