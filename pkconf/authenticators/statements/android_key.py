"""The "android-key" attestation statement: Android Keystore certifies the credential key.

WebAuthn §8.4 https://www.w3.org/TR/webauthn-3/#sctn-android-key-attestation. The leaf is a
certificate for the credential key itself, whose key description extension (Android "Key and
ID attestation" schema) binds it to this ceremony through attestationChallenge.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from ... import testpki as pki
from . import Defect, cose_alg, der, require_defect, sign, x5c

# §8.4.1 https://www.w3.org/TR/webauthn-3/#sctn-key-attstn-cert-requirements
OID_ANDROID_KEY_DESCRIPTION = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")
# Keymaster values (Android KeyMint/keymaster "Tag", "KeyPurpose", "KeyOrigin", ...)
ATTESTATION_VERSION, KEYMASTER_VERSION = 4, 4
SECURITY_LEVEL_TEE = 1
KM_PURPOSE_SIGN, KM_ORIGIN_GENERATED = 2, 0
KM_ALGORITHM_RSA, KM_ALGORITHM_EC = 1, 3
KM_DIGEST_SHA_2_256, KM_EC_CURVE_P_256 = 4, 1
TAG_PURPOSE, TAG_ALGORITHM, TAG_KEY_SIZE, TAG_DIGEST, TAG_EC_CURVE = 1, 2, 3, 5, 10
TAG_NO_AUTH_REQUIRED, TAG_ORIGIN = 503, 702


def _tee_enforced(public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> bytes:
    """AuthorizationList (tags in ascending order) of a TEE-generated signing key.

    §8.4 verification: origin KM_ORIGIN_GENERATED and purpose KM_PURPOSE_SIGN, and no
    allApplications field anywhere.
    """
    is_ec = isinstance(public_key, ec.EllipticCurvePublicKey)
    fields = [
        der.explicit(TAG_PURPOSE, der.set_of(der.integer(KM_PURPOSE_SIGN))),
        der.explicit(TAG_ALGORITHM, der.integer(KM_ALGORITHM_EC if is_ec else KM_ALGORITHM_RSA)),
        der.explicit(TAG_KEY_SIZE, der.integer(public_key.key_size)),
        der.explicit(TAG_DIGEST, der.set_of(der.integer(KM_DIGEST_SHA_2_256))),
    ]
    if is_ec:
        fields.append(der.explicit(TAG_EC_CURVE, der.integer(KM_EC_CURVE_P_256)))
    fields += [der.explicit(TAG_NO_AUTH_REQUIRED, der.null()),
               der.explicit(TAG_ORIGIN, der.integer(KM_ORIGIN_GENERATED))]
    return der.sequence(*fields)


def key_description(challenge: bytes,
                    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> bytes:
    """KeyDescription: versions, TEE security levels, the challenge, empty softwareEnforced."""
    return der.sequence(
        der.integer(ATTESTATION_VERSION),
        der.enumerated(SECURITY_LEVEL_TEE),
        der.integer(KEYMASTER_VERSION),
        der.enumerated(SECURITY_LEVEL_TEE),
        der.octet_string(challenge),  # attestationChallenge
        der.octet_string(b""),  # uniqueId
        der.sequence(),  # softwareEnforced
        _tee_enforced(public_key),
    )


def credential_certificate(vendor: pki.VendorPki, public_key: Any, challenge: bytes, *,
                           expired: bool = False) -> pki.CertKey:
    """The Keystore leaf certifying `public_key`, bound to `challenge` (the clientDataHash)."""
    spki = public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    purpose = f"android-key/{hashlib.sha256(spki + challenge).hexdigest()}"
    extension = x509.UnrecognizedExtension(OID_ANDROID_KEY_DESCRIPTION,
                                           key_description(challenge, public_key))
    return vendor.issue(
        pki.subject_name("pkconf TEST Android Keystore Key", org=vendor.label), purpose,
        public_key=public_key, extensions=[(extension, False)], **pki.validity(expired=expired),
    )


@dataclass(frozen=True)
class AndroidKeyAttester:
    """Android Keystore (TEE) attestation of the credential key, under `vendor`'s CA."""

    vendor: pki.VendorPki
    defect: Defect | None = None
    fmt: ClassVar[str] = "android-key"
    DEFECTS: ClassVar[frozenset[Defect]] = frozenset({
        Defect.BAD_SIGNATURE, Defect.CHALLENGE_MISMATCH, Defect.LEAF_KEY_MISMATCH,
        Defect.EXPIRED_LEAF, Defect.WRONG_ORDER, Defect.ROOT_INCLUDED,
    })

    def __post_init__(self) -> None:
        require_defect(self.fmt, self.defect, self.DEFECTS)

    def attest(self, auth_data: bytes, client_data_hash: bytes,
               credential_key: PrivateKeyTypes) -> tuple[str, dict[str, Any]]:
        certified = credential_key.public_key()
        if self.defect is Defect.LEAF_KEY_MISMATCH:
            certified = pki.derive_ec_key("android-key/not-the-credential-key").public_key()
        challenge = client_data_hash
        if self.defect is Defect.CHALLENGE_MISMATCH:
            challenge = hashlib.sha256(b"pkconf: another ceremony").digest()
        leaf = credential_certificate(self.vendor, certified, challenge,
                                      expired=self.defect is Defect.EXPIRED_LEAF)
        # §8.4 signing procedure: sig over authenticatorData || clientDataHash, credential key
        return self.fmt, {
            "alg": cose_alg(credential_key),
            "sig": sign(credential_key, auth_data + client_data_hash, self.defect),
            "x5c": x5c(leaf, self.vendor, self.defect),
        }
