"""The "fido-u2f" attestation statement: a U2F registration response, re-packaged.

WebAuthn §8.6 https://www.w3.org/TR/webauthn-3/#sctn-fido-u2f-attestation. One attestation
certificate (no chain) and an ES256 signature over the U2F registration data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from fido2.webauthn import AuthenticatorData

from ... import testpki as pki
from . import Defect, require_defect, sign


@cache
def attestation_certificate(vendor: pki.VendorPki, *, expired: bool = False) -> pki.CertKey:
    """The vendor's U2F attestation certificate (U2F has no AAGUID: MDS finds it by key id).

    Issued by the root itself: x5c holds this one certificate (§8.6), so nothing can sit
    between it and the root the metadata lists.
    """
    return pki.leaf(
        vendor.root, pki.subject_name(f"pkconf TEST {vendor.label} U2F EE", org=vendor.label),
        f"{vendor.name}/fido-u2f" + ("/expired" if expired else ""),
        **pki.validity(expired=expired),
    )


@dataclass(frozen=True)
class FidoU2fAttester:
    """A U2F authenticator's attestation; the credential must be a P-256 key."""

    vendor: pki.VendorPki
    defect: Defect | None = None
    fmt: ClassVar[str] = "fido-u2f"
    DEFECTS: ClassVar[frozenset[Defect]] = frozenset({Defect.BAD_SIGNATURE,
                                                     Defect.EXPIRED_LEAF})

    def __post_init__(self) -> None:
        require_defect(self.fmt, self.defect, self.DEFECTS)

    def attest(self, auth_data: bytes, client_data_hash: bytes,
               credential_key: PrivateKeyTypes) -> tuple[str, dict[str, Any]]:
        if not (isinstance(credential_key, ec.EllipticCurvePrivateKey)
                and isinstance(credential_key.curve, ec.SECP256R1)):
            raise ValueError("fido-u2f credentials are P-256 keys (§8.6)")
        parsed = AuthenticatorData(auth_data)
        credential = parsed.credential_data
        if credential is None:
            raise ValueError("authenticator data carries no attested credential data (AT unset)")
        # §8.6 steps: publicKeyU2F is the 65-byte uncompressed point; the signed data is
        # 0x00 || rpIdHash || clientDataHash || credentialId || publicKeyU2F
        public_key_u2f = credential_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        signed = (b"\x00" + parsed.rp_id_hash + client_data_hash + credential.credential_id
                  + public_key_u2f)
        cert = attestation_certificate(self.vendor, expired=self.defect is Defect.EXPIRED_LEAF)
        return self.fmt, {"sig": sign(cert.signing_key, signed, self.defect), "x5c": [cert.der]}
