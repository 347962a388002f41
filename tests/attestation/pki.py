"""Throw-away test certificates: roots, intermediates and leaves with the flaw a test needs.

Own helper rather than pkconf.testpki: these tests need deliberately broken
certificates (cA flags, path lengths, dates, key usages) that a vendor-like PKI should not offer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

NOT_BEFORE = datetime(2024, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2044, 1, 1, tzinfo=UTC)
AT = datetime(2030, 6, 1, tzinfo=UTC)  # inside every default validity window


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(Encoding.DER)


def name(cn: str, *, ou: str | None = "Authenticator Attestation") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pkconf TEST (NOT A REAL VENDOR)")]
    if ou is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def issue(subject: x509.Name, issuer: Issued | None = None, *, ca: bool | None = False,
          path_length: int | None = None, not_before: datetime = NOT_BEFORE,
          not_after: datetime = NOT_AFTER, key_cert_sign: bool | None = None,
          extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
          key: ec.EllipticCurvePrivateKey | None = None) -> Issued:
    """One certificate; `issuer=None` self-signs. ca=None leaves basicConstraints out.

    `extensions` are (extension, critical) pairs.
    """
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer.cert.subject if issuer else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after))
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca, path_length if ca else None),
                                        critical=True)
    if key_cert_sign is not None:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=not key_cert_sign, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            key_cert_sign=key_cert_sign, crl_sign=key_cert_sign, encipher_only=False,
            decipher_only=False), critical=True)
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def root(cn: str = "pkconf TEST Root", **kw) -> Issued:
    return issue(name(cn, ou=None), ca=True, key_cert_sign=True, **kw)


def intermediate(issuer: Issued, cn: str = "pkconf TEST Intermediate", **kw) -> Issued:
    kw.setdefault("ca", True)
    kw.setdefault("key_cert_sign", True)
    return issue(name(cn, ou=None), issuer, **kw)


# --- extensions cryptography cannot build (DER values from pkconf's own writer, statements.der)


def unrecognized(oid: str, value: bytes) -> x509.UnrecognizedExtension:
    """An extension cryptography has no class for, from its DER value."""
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value)
