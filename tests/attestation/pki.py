"""Throw-away test certificates: roots, intermediates and leaves with the flaw a test needs.

Own helper rather than pkconf.authenticators.pki: these tests need deliberately broken
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


# --- a minimal DER writer, for extensions cryptography cannot build (Android KeyDescription)


def unrecognized(oid: str, value: bytes) -> x509.UnrecognizedExtension:
    """An extension cryptography has no class for, from its DER value."""
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value)


def tlv(tag: int, content: bytes) -> bytes:
    """One DER element; `tag` is the identifier octet, or (class|constructed, number>30)."""
    n = len(content)
    length = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + \
        n.to_bytes((n.bit_length() + 7) // 8, "big")
    return _identifier(tag) + length + content


def _identifier(tag: int) -> bytes:
    if tag < 0x100:
        return bytes([tag])
    cls_bits, number = tag >> 16, tag & 0xFFFF  # context-specific high tag: (0xA0 << 16) | n
    digits = []
    while number:
        digits.insert(0, number & 0x7F)
        number >>= 7
    return bytes([cls_bits | 0x1F]) + bytes(d | 0x80 for d in digits[:-1]) + bytes(digits[-1:])


def explicit(number: int, content: bytes) -> bytes:
    """[number] EXPLICIT, constructed context tag, low or high tag number."""
    return tlv(0xA0 | number if number < 31 else (0xA0 << 16) | number, content)


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def sequence(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def set_of(*items: bytes) -> bytes:
    return tlv(0x31, b"".join(items))


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)
