"""The test FIDO MDS3 BLOB: metadata for the vendor-like authenticators, signed by a test root.

Format: FIDO Metadata Service v3.0 §3.1 (https://fidoalliance.org/specs/mds/
fido-metadata-service-v3.0-ps-20210518.html#metadata-blob): a JWT whose header carries `alg`
and the signer's `x5c`, and whose payload has legalHeader, no, nextUpdate and entries; each
entry's metadataStatement follows FIDO Metadata Statement v3.0. Signed RS256 like the real
BLOB (python-fido2's parse_blob expects DER for ES256, which a JWT is not). The signer's RSA
key is committed (fixtures/pki/mds-signer.key.pem); PKCS#1 v1.5 and deterministic ECDSA make
the BLOB the same bytes on every run.

Regenerate the committed fixtures with `python -m pkconf.authenticators.mds --out fixtures/mds`.
"""

from __future__ import annotations

import argparse
import json
from base64 import b64encode, urlsafe_b64encode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .. import testpki as pki
from .statements import fido_u2f, packed

LEGAL_HEADER = ("pkconf TEST metadata: every entry, root and signature here is test material "
                "and NOT A REAL VENDOR KEY. Do not trust it outside pkconf's tests.")
NEXT_UPDATE = "2035-01-01"
EFFECTIVE_DATE = "2024-01-01"  # fixed, so the BLOB is reproducible

# Test-only AAGUIDs ("7e57" reads "test"): authenticators that exist only in this BLOB.
TEST_REVOKED_AAGUID = "7e57aa00-0000-4000-8000-000000000001"
TEST_COMPROMISED_AAGUID = "7e57aa00-0000-4000-8000-000000000002"
TEST_INELIGIBLE_AAGUID = "7e57aa00-0000-4000-8000-000000000003"
TEST_UNCERTIFIED_AAGUID = "7e57aa00-0000-4000-8000-000000000005"  # ...0004: profiles' unlisted

_MDS_ORG = "FIDO-MDS-like"
MDS_ROOT = pki.root_ca(pki.subject_name("pkconf TEST FIDO-MDS-like Root", org=_MDS_ORG),
                       "mds/root")
MDS_CA = pki.intermediate_ca(MDS_ROOT, pki.subject_name("pkconf TEST FIDO-MDS-like CA",
                                                        org=_MDS_ORG), "mds/intermediate")
MDS_SIGNER_KEY_PATH = pki.PKI_FIXTURES / "mds-signer.key.pem"


def mds_signer() -> pki.CertKey:
    """The BLOB signing certificate: RSA (committed key) under the MDS CA."""
    return pki.leaf(MDS_CA, pki.subject_name("pkconf TEST FIDO-MDS-like Signer", org=_MDS_ORG),
                    "mds/signer", key=pki.load_private_key(MDS_SIGNER_KEY_PATH))


@dataclass(frozen=True)
class StatusRecord:
    """One statusReports item (Metadata Service §3.1.3); `certificate` for key compromise."""

    status: str
    certificate: bytes | None = None  # DER of the compromised attestation certificate
    effective_date: str = EFFECTIVE_DATE

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "effectiveDate": self.effective_date}
        if self.certificate is not None:
            out["certificate"] = b64encode(self.certificate).decode()
        return out


CERTIFIED = (StatusRecord("FIDO_CERTIFIED_L1"),)
FIDO2_OPTIONS = {"rk": True, "up": True, "uv": True, "clientPin": True}


@dataclass(frozen=True)
class MetadataRecord:
    """The facts of one authenticator model; `entry()` spells them as an MDS3 entry."""

    description: str
    vendor: str | pki.VendorPki  # a pki.VENDORS name or a hierarchy: its root is the model's
    aaguid: str | None = None  # FIDO2 models
    key_identifiers: tuple[bytes, ...] = ()  # U2F models: SKIs of attestation certificates
    attestation_types: tuple[str, ...] = ("basic_full",)
    versions: tuple[str, ...] = ("FIDO_2_0", "FIDO_2_1")
    extensions: tuple[str, ...] = ("credProtect", "hmac-secret")
    options: Mapping[str, bool] = field(default_factory=lambda: dict(FIDO2_OPTIONS))
    statuses: tuple[StatusRecord, ...] = CERTIFIED
    key_protection: tuple[str, ...] = ("hardware", "secure_element")
    attachment_hint: tuple[str, ...] = ("external", "wired", "nfc")
    # a vendor's own metadataStatement (an authenticator file's), used instead of the above
    vendor_statement: Mapping[str, Any] | None = None

    @property
    def is_u2f(self) -> bool:
        return self.aaguid is None

    def statement(self) -> dict[str, Any]:
        """metadataStatement (Metadata Statement v3.0 §4): the fields parsers require."""
        if self.vendor_statement is not None:
            return dict(self.vendor_statement)
        out: dict[str, Any] = {
            "legalHeader": LEGAL_HEADER,
            "description": self.description,
            "authenticatorVersion": 1,
            "protocolFamily": "u2f" if self.is_u2f else "fido2",
            "schema": 3,
            "upv": [{"major": 1, "minor": 1}] if self.is_u2f else [{"major": 1, "minor": 0}],
            "authenticationAlgorithms": ["secp256r1_ecdsa_sha256_raw"],
            "publicKeyAlgAndEncodings": ["cose"] if not self.is_u2f else ["ecc_x962_raw"],
            "attestationTypes": list(self.attestation_types),
            "userVerificationDetails": [[{"userVerificationMethod": "presence_internal"}]],
            "keyProtection": list(self.key_protection),
            "matcherProtection": ["on_chip"],
            "attachmentHint": list(self.attachment_hint),
            "tcDisplay": [],
            "attestationRootCertificates": [
                b64encode(pki.vendor(self.vendor).root.der).decode()
            ],
        }
        if self.aaguid is None:
            out["attestationCertificateKeyIdentifiers"] = [k.hex() for k in self.key_identifiers]
        else:
            out["aaguid"] = self.aaguid
            out["authenticatorGetInfo"] = {
                "versions": list(self.versions),
                "extensions": list(self.extensions),
                "aaguid": self.aaguid.replace("-", ""),
                "options": dict(self.options),
                "pinUvAuthProtocols": [1, 2],
            }
        return out

    def entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.is_u2f:
            out["attestationCertificateKeyIdentifiers"] = [k.hex() for k in self.key_identifiers]
        else:
            out["aaguid"] = self.aaguid
        out["metadataStatement"] = self.statement()
        out["statusReports"] = [s.to_json() for s in self.statuses]
        out["timeOfLastStatusChange"] = max(s.effective_date for s in self.statuses)
        return out


def _key_identifier(cert: x509.Certificate) -> bytes:
    """MDS attestationCertificateKeyIdentifier: the SHA-1 key identifier (RFC 5280 §4.2.1.2)."""
    return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest


def _yubikey(description: str, aaguid: str, vendor: str = "yubico") -> MetadataRecord:
    return MetadataRecord(description, vendor, aaguid)


class _PlatformFacts(TypedDict):
    """What phone-hosted models share; a TypedDict so `**` is checked field by field."""

    key_protection: tuple[str, ...]
    attachment_hint: tuple[str, ...]


class _WindowsHelloFacts(TypedDict):
    """What the Windows Hello models share."""

    attestation_types: tuple[str, ...]
    versions: tuple[str, ...]
    attachment_hint: tuple[str, ...]


_PLATFORM = _PlatformFacts(key_protection=("hardware", "tee"), attachment_hint=("internal",))
_WINDOWS_HELLO = _WindowsHelloFacts(attestation_types=("attca",), versions=("FIDO_2_0",),
                                    attachment_hint=("internal",))


def records() -> tuple[MetadataRecord, ...]:
    """The BLOB's models: real AAGUIDs (entra-facts §5, §6.1) over test roots, plus test ones."""
    compromised_batch = packed.batch_certificate(
        pki.vendor("test-compromised"), bytes.fromhex(TEST_COMPROMISED_AAGUID.replace("-", "")))
    u2f_cert = fido_u2f.attestation_certificate(pki.vendor("yubico")).cert
    return (
        _yubikey("YubiKey 5 Series", "cb69481e-8ff7-4039-93ec-0a2729a154a8"),
        _yubikey("YubiKey 5 Series", "ee882879-721c-4913-9775-3dfcce97072a"),
        _yubikey("YubiKey 5 Series with NFC", "fa2b99dc-9e39-4257-8f92-4a30d23c4118"),
        _yubikey("YubiKey 5 Series with NFC", "2fc0579f-8113-47ea-b116-bb5a8db9202a"),
        _yubikey("YubiKey 5 Series with NFC", "a25342c0-3cdc-4414-8e46-f4807fca511c"),
        _yubikey("YubiKey 5 Series with NFC", "d7781e5d-e353-46aa-afe2-3ca49f13332a"),
        _yubikey("YubiKey 5 Series with Lightning", "c5ef55ff-ad9a-4b9f-b580-adebafe026d0"),
        _yubikey("YubiKey 5 FIPS Series with NFC", "c1f9a0bc-1dd2-404a-b27f-8e29047a43fd",
                 "yubico-fips"),
        _yubikey("YubiKey 5 FIPS Series with NFC", "fcc0118f-cd45-435b-8da1-9782b2da0715",
                 "yubico-fips"),
        MetadataRecord("Feitian ePass FIDO2-NFC Authenticator", "feitian",
                       "ee041bce-25e5-4cdb-8f86-897fd6418464"),
        MetadataRecord("Google Titan Security Key v2", "google-titan",
                       "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3"),
        MetadataRecord("Windows Hello Hardware Authenticator", "microsoft-tpm",
                       "08987058-cadc-4b81-b6e1-30de50dcbe96", **_WINDOWS_HELLO),
        MetadataRecord("Windows Hello VBS Hardware Authenticator", "microsoft-tpm",
                       "9ddd1817-af5a-4672-a2b9-3e3dd95000a9", **_WINDOWS_HELLO),
        MetadataRecord("Windows Hello Software Authenticator", "microsoft-tpm",
                       "6028b017-b1d4-4c02-b4b3-afcdafc96bb2", key_protection=("software",),
                       **_WINDOWS_HELLO),
        MetadataRecord("Microsoft Authenticator for iOS", "microsoft-authenticator",
                       "90a3ccdf-635c-4729-a248-9b709135078f", extensions=("prf",), **_PLATFORM),
        MetadataRecord("Microsoft Authenticator for Android", "microsoft-authenticator",
                       "de1e552d-db1d-4423-a619-566b625cdc84", extensions=("prf",), **_PLATFORM),
        MetadataRecord("pkconf TEST revoked authenticator", "test-revoked", TEST_REVOKED_AAGUID,
                       statuses=(*CERTIFIED, StatusRecord("REVOKED", effective_date="2025-01-01"))),
        MetadataRecord(
            "pkconf TEST authenticator with a compromised attestation key", "test-compromised",
            TEST_COMPROMISED_AAGUID,
            statuses=(*CERTIFIED, StatusRecord("ATTESTATION_KEY_COMPROMISE",
                                               certificate=compromised_batch.der,
                                               effective_date="2025-01-01")),
        ),
        MetadataRecord("pkconf TEST authenticator without hmac-secret or prf", "test-ineligible",
                       TEST_INELIGIBLE_AAGUID, extensions=("credProtect",)),
        MetadataRecord("pkconf TEST authenticator without FIDO certification", "test-uncertified",
                       TEST_UNCERTIFIED_AAGUID, statuses=(StatusRecord("NOT_FIDO_CERTIFIED"),)),
        MetadataRecord("pkconf TEST Yubico-like U2F security key", "yubico",
                       key_identifiers=(_key_identifier(u2f_cert),), versions=("U2F_V2",),
                       extensions=(), options={}),
    )


def _b64url(data: bytes) -> bytes:
    return urlsafe_b64encode(data).rstrip(b"=")


def build_blob(entries: Sequence[MetadataRecord], *, signer: pki.CertKey | None = None,
               chain: Sequence[pki.CertKey] = (MDS_CA,), no: int = 1) -> bytes:
    """The signed BLOB (compact JWS, RS256): header x5c is the signer, then `chain`."""
    signer = signer or mds_signer()
    header = {"alg": "RS256", "typ": "JWT",
              "x5c": [b64encode(c.der).decode() for c in (signer, *chain)]}
    payload = {"legalHeader": LEGAL_HEADER, "no": no, "nextUpdate": NEXT_UPDATE,
               "entries": [r.entry() for r in entries]}
    signing_input = b".".join(_b64url(json.dumps(part, separators=(",", ":")).encode())
                              for part in (header, payload))
    key = signer.signing_key
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the MDS signer signs RS256: it needs an RSA key")
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return signing_input + b"." + _b64url(signature)


def write_fixtures(out: Path, pki_out: Path) -> list[Path]:
    """Write the BLOB and MDS root to `out`, and each vendor root (PEM) to `pki_out`."""
    out.mkdir(parents=True, exist_ok=True)
    pki_out.mkdir(parents=True, exist_ok=True)
    files = {out / "test-mds-blob.jwt": build_blob(records()),
             out / "test-mds-root.pem": MDS_ROOT.pem}
    files.update({pki_out / f"{v.name}-root.pem": v.root.pem for v in pki.VENDORS.values()})
    for path, data in files.items():
        path.write_bytes(data)
    return list(files)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("fixtures/mds"),
                        help="directory for test-mds-blob.jwt and test-mds-root.pem")
    parser.add_argument("--pki-out", type=Path, default=None,
                        help="directory for the vendor root PEMs (default: <out>/../pki)")
    args = parser.parse_args(argv)
    for path in write_fixtures(args.out, args.pki_out or args.out.parent / "pki"):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
