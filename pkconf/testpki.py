"""The test PKI: vendor-like roots, intermediates and leaves, reproducible byte for byte.

Every certificate here is test material, named so nobody can mistake it for a vendor's:
organisation "TEST ...-like (NOT A REAL VENDOR KEY)", common name "pkconf TEST ...",
country XX (user-assigned in ISO 3166).
EC keys are derived from a seed and certificates are signed with deterministic ECDSA
(RFC 6979) over fixed dates and seed-derived serials, so the same seed always gives the same
DER; fixtures can then be regenerated and compared instead of trusted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypedDict

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from .paths import FIXTURES

# Order of the P-256 group (SEC 2 §2.4.2): a derived scalar must lie in [1, n-1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
TEST_COUNTRY = "XX"
NOT_REAL = "NOT A REAL VENDOR KEY"
# Fixed validity windows: reproducible, and wide enough that "now" falls inside for decades.
CA_NOT_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)
CA_NOT_AFTER = datetime(2050, 1, 1, tzinfo=UTC)
LEAF_NOT_BEFORE = datetime(2024, 1, 1, tzinfo=UTC)
LEAF_NOT_AFTER = datetime(2045, 1, 1, tzinfo=UTC)
# An "expired" window for negative cases: over long before any test runs.
EXPIRED_NOT_BEFORE = datetime(2019, 1, 1, tzinfo=UTC)
EXPIRED_NOT_AFTER = datetime(2021, 1, 1, tzinfo=UTC)

PKI_FIXTURES = FIXTURES / "pki"

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def derive_ec_key(seed: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 key that is a pure function of the seed (cryptography cannot seed keygen)."""
    scalar = int.from_bytes(hashlib.sha256(seed.encode()).digest()) % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def derive_serial(seed: str) -> int:
    """A positive 127-bit serial from the seed: unique per seed, stable across runs."""
    return int.from_bytes(hashlib.sha256(b"serial:" + seed.encode()).digest()[:16]) >> 1 or 1


def load_private_key(path: Path) -> SigningKey:
    """A committed PEM key (RSA keys cannot be derived from a seed, so they are stored)."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise TypeError(f"{path}: expected an EC or RSA private key")
    return key


def subject_name(cn: str, *, org: str, ou: str | None = None) -> x509.Name:
    """C=XX, O=TEST <org> (NOT A REAL VENDOR KEY)[, OU], CN: every test subject's shape.

    Attribute values stay within RFC 5280's 64-character upper bounds.
    """
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, TEST_COUNTRY),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"TEST {org} ({NOT_REAL})"),
    ]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


@dataclass(frozen=True, eq=False)
class CertKey:
    """A certificate with its private key (None when someone else holds it)."""

    cert: x509.Certificate
    key: SigningKey | None

    @cached_property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def signing_key(self) -> SigningKey:
        """The key, for issuers and signers; a certificate without one cannot sign."""
        if self.key is None:
            raise ValueError(f"no private key for {self.cert.subject.rfc4514_string()}")
        return self.key


def _sign(builder: x509.CertificateBuilder, issuer_key: SigningKey) -> x509.Certificate:
    if isinstance(issuer_key, ec.EllipticCurvePrivateKey):
        return builder.sign(issuer_key, hashes.SHA256(), ecdsa_deterministic=True)
    return builder.sign(issuer_key, hashes.SHA256())  # PKCS#1 v1.5 is deterministic


def _build(
    subject: x509.Name,
    issuer: CertKey | None,
    key: SigningKey | None,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    seed: str,
    extensions: Iterable[tuple[x509.ExtensionType, bool]],
    not_before: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """One certificate; `issuer` None means self-signed with `key`."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(derive_serial(seed))
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer:
        ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    if issuer:
        return _sign(builder, issuer.signing_key)
    assert key is not None, "a self-signed certificate needs its own key"
    return _sign(builder, key)


def _ca_extensions(path_length: int | None) -> list[tuple[x509.ExtensionType, bool]]:
    usage = x509.KeyUsage(
        digital_signature=False, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )
    return [(x509.BasicConstraints(ca=True, path_length=path_length), True), (usage, True)]


def root_ca(name: x509.Name, seed: str) -> CertKey:
    """A self-signed root with a seed-derived key."""
    key = derive_ec_key(seed)
    cert = _build(name, None, key, key.public_key(), seed, _ca_extensions(None),
                  CA_NOT_BEFORE, CA_NOT_AFTER)
    return CertKey(cert, key)


def intermediate_ca(issuer: CertKey, name: x509.Name, seed: str,
                    path_length: int | None = 0) -> CertKey:
    """A CA under `issuer`; path length 0 by default, as attestation CAs issue leaves only."""
    key = derive_ec_key(seed)
    cert = _build(name, issuer, key, key.public_key(), seed, _ca_extensions(path_length),
                  CA_NOT_BEFORE, CA_NOT_AFTER)
    return CertKey(cert, key)


class Validity(TypedDict, total=False):
    """`leaf`'s validity window as keywords, typed so `**` is checked; empty: leaf's default."""

    not_before: datetime
    not_after: datetime


def validity(*, expired: bool) -> Validity:
    """The expired window for the expired-certificate cases, else leaf's default."""
    if expired:
        return Validity(not_before=EXPIRED_NOT_BEFORE, not_after=EXPIRED_NOT_AFTER)
    return Validity()


def leaf(
    issuer: CertKey,
    subject: x509.Name,
    seed: str,
    *,
    key: SigningKey | None = None,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey | None = None,
    extensions: Iterable[tuple[x509.ExtensionType, bool]] = (),
    not_before: datetime = LEAF_NOT_BEFORE,
    not_after: datetime = LEAF_NOT_AFTER,
) -> CertKey:
    """An end-entity certificate (CA=false) under `issuer`.

    The key is derived from the seed unless given; pass only `public_key` to certify a key
    held elsewhere (android-key and apple certify the credential key itself).
    """
    if public_key is None:
        key = key or derive_ec_key(seed)
        public_key = key.public_key()
    exts = [(x509.BasicConstraints(ca=False, path_length=None), True), *extensions]
    cert = _build(subject, issuer, key, public_key, seed, exts, not_before, not_after)
    return CertKey(cert, key)


@dataclass(frozen=True, eq=False)
class VendorPki:
    """One vendor's test hierarchy: a root (what MDS publishes) and an optional issuing CA.

    Attestation leaves are cut by the format modules (`issue`), because each format has its
    own certificate profile and a packed batch certificate names one AAGUID.
    """

    name: str
    label: str  # "Yubico-like": the vendor this stands in for, as written in subjects
    root: CertKey
    intermediate: CertKey | None = None
    # A vendor's own batch certificate and key (PEM files): used as it is, since a vendor's
    # root key is not ours to issue with.
    batch: CertKey | None = None

    @property
    def issuer(self) -> CertKey:
        return self.intermediate or self.root

    @property
    def intermediates(self) -> list[bytes]:
        """DER of the CAs between a leaf and the root, leaf side first (x5c order)."""
        return [self.intermediate.der] if self.intermediate else []

    def issue(self, subject: x509.Name, purpose: str, **kwargs: Any) -> CertKey:
        """A leaf from the vendor's issuing CA; `purpose` makes its seed (and key) unique."""
        return leaf(self.issuer, subject, f"{self.name}/{purpose}", **kwargs)


def make_vendor(name: str, label: str, *, intermediate: bool = True) -> VendorPki:
    """A vendor hierarchy derived from `name` alone (its seeds), so the same name always gives
    the same root: how the built-in vendors and an authenticator file's generated chain exist."""
    root = root_ca(subject_name(f"pkconf TEST {label} Root", org=label), f"{name}/root")
    ca = (intermediate_ca(root, subject_name(f"pkconf TEST {label} Attestation CA", org=label),
                          f"{name}/intermediate") if intermediate else None)
    return VendorPki(name, label, root, ca)


VENDORS: dict[str, VendorPki] = {
    v.name: v
    for v in (
        make_vendor("yubico", "Yubico-like"),
        make_vendor("yubico-fips", "Yubico-FIPS-like"),
        make_vendor("feitian", "Feitian-like"),
        make_vendor("google-titan", "Google-Titan-like"),
        make_vendor("microsoft-tpm", "Microsoft-TPM-like"),
        make_vendor("microsoft-authenticator", "Microsoft-Authenticator-like"),
        make_vendor("apple-anonymous", "Apple-WebAuthn-like"),
        make_vendor("android-key-google", "Google-HW-Attestation-like"),
        make_vendor("test-revoked", "Revoked-Vendor", intermediate=False),
        make_vendor("test-compromised", "Compromised-Vendor", intermediate=False),
        make_vendor("test-ineligible", "Ineligible-Vendor", intermediate=False),
        make_vendor("test-uncertified", "Uncertified-Vendor", intermediate=False),
        # Its root is in no metadata: a chain that verifies and still proves nothing.
        make_vendor("self-signed-spoofer", "Self-Signed-Spoofer", intermediate=False),
    )
}


def vendor(name: str | VendorPki) -> VendorPki:
    """The vendor hierarchy by its stable name; an unknown name lists the known ones.

    A hierarchy given as such (an authenticator file's own, listed nowhere) is itself.
    """
    if isinstance(name, VendorPki):
        return name
    try:
        return VENDORS[name]
    except KeyError:
        raise KeyError(f"unknown vendor {name!r}; known: {', '.join(VENDORS)}") from None
