"""Reading an attestation certificate's extensions without trusting cryptography to parse all.

cryptography parses every extension the first time `cert.extensions` is touched and refuses
the whole list if one is not strict DER; real TPM AIK certificates carry such a
certificatePolicies entry. Attestation checks need only a handful of extensions, so we read
the extension list ourselves (see der.py) and decode just those. Everything else about a
certificate (names, dates, keys, signatures) still comes from cryptography.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from . import der

OID_BASIC_CONSTRAINTS = "2.5.29.19"
OID_SUBJECT_ALT_NAME = "2.5.29.17"
OID_EXTENDED_KEY_USAGE = "2.5.29.37"
OID_FIDO_AAGUID = "1.3.6.1.4.1.45724.1.1.4"  # id-fido-gen-ce-aaguid


@dataclass(frozen=True)
class RawExtension:
    critical: bool
    value: bytes  # the extnValue content: the DER of the extension's own structure


@dataclass(frozen=True)
class AttestationCertificate:
    """A DER certificate with cryptography's view and our own reading of its extensions."""

    der: bytes
    cert: x509.Certificate
    extensions: dict[str, RawExtension]

    @classmethod
    def load(cls, data: object) -> AttestationCertificate:
        if not isinstance(data, bytes):
            raise der.DerError(f"a certificate must be a byte string, not {type(data).__name__}")
        return _load(data)

    def basic_constraints_ca(self) -> bool | None:
        """cA of basicConstraints; None when the extension is absent."""
        ext = self.extensions.get(OID_BASIC_CONSTRAINTS)
        if ext is None:
            return None
        fields = der.read_one(ext.value).expect(der.SEQUENCE).children()
        return bool(fields) and fields[0].is_(der.BOOLEAN) and fields[0].as_bool()

    def extended_key_usages(self) -> frozenset[str]:
        ext = self.extensions.get(OID_EXTENDED_KEY_USAGE)
        if ext is None:
            return frozenset()
        return frozenset(t.as_oid() for t in der.read_one(ext.value).children())

    def san_directory_attributes(self) -> dict[str, bytes]:
        """Attribute OID -> raw value of every directoryName in subjectAltName.

        Multi-valued RDNs and one-attribute-per-RDN are both read: TPM vendors use both.
        """
        ext = self.extensions.get(OID_SUBJECT_ALT_NAME)
        if ext is None:
            return {}
        out: dict[str, bytes] = {}
        for name in der.read_one(ext.value).expect(der.SEQUENCE).children():
            if not name.is_(4, der.CONTEXT):  # [4] directoryName (EXPLICIT: a Name inside)
                continue
            for rdn in name.inner().expect(der.SEQUENCE).children():
                for attr in rdn.expect(der.SET).children():
                    oid, value = attr.expect(der.SEQUENCE).children()[:2]
                    out[oid.as_oid()] = value.value
        return out

    def aaguid(self) -> bytes | None:
        """The AAGUID the certificate vouches for (an OCTET STRING of 16 bytes), if any."""
        ext = self.extensions.get(OID_FIDO_AAGUID)
        if ext is None:
            return None
        return der.read_one(ext.value).expect(der.OCTET_STRING).value

    def subject_values(self, oid: x509.ObjectIdentifier) -> list[str]:
        return [str(a.value) for a in self.cert.subject.get_attributes_for_oid(oid)]


@functools.lru_cache(maxsize=1024)
def _load(data: bytes) -> AttestationCertificate:
    """Parsed once per distinct DER (a pure function of the bytes): a run meets the same few
    hundred attestation and intermediate certificates thousands of times, and reading their
    extensions was a fifth of a decision. A DER that does not parse raises every time."""
    cert = x509.load_der_x509_certificate(data)
    try:  # every verifier reads the key: one that cannot be loaded is unusable up front
        cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as e:
        raise der.DerError(f"the certificate's public key cannot be read ({e})") from None
    return AttestationCertificate(data, cert, _extensions(data))


def _extensions(data: bytes) -> dict[str, RawExtension]:
    tbs = der.read_one(data).expect(der.SEQUENCE).children()[0].expect(der.SEQUENCE)
    out: dict[str, RawExtension] = {}
    for field in tbs.children():
        if not field.is_(3, der.CONTEXT):  # [3] EXPLICIT Extensions
            continue
        for ext in field.inner().expect(der.SEQUENCE).children():
            parts = ext.expect(der.SEQUENCE).children()
            critical = len(parts) == 3 and parts[1].expect(der.BOOLEAN).as_bool()
            oid = parts[0].as_oid()
            if oid in out:
                raise der.DerError(f"extension {oid} appears twice (RFC 5280 §4.2)")
            out[oid] = RawExtension(critical, parts[-1].expect(der.OCTET_STRING).value)
    return out
