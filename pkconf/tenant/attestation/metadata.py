"""FIDO Metadata Service (MDS3): the BLOB, its entries, and the trust decision built on them.

`Metadata.from_blob` verifies the BLOB with fido2's `parse_blob` (JWS signature and
signature-only chain to the FIDO root). `verify_trust` is written out rather than delegated to
fido2's `MdsAttestationVerifier`, which raises IndexError on self attestation and checks the
chain signatures only (no validity dates, no CA flags), and which cannot say *why* it refused.
"""

from __future__ import annotations

import binascii
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm
from fido2.attestation.base import InvalidData, InvalidSignature
from fido2.mds3 import AuthenticatorStatus, MetadataBlobPayloadEntry, parse_blob
from fido2.utils import websafe_decode

from ..rules import Reason
from .chain import validate_chain
from .failure import (
    ATTESTATION_REQUIRED,
    KEY_COMPROMISED,
    NOT_CERTIFIED,
    NOT_ELIGIBLE,
    NOT_IN_METADATA,
    REVOKED,
    AttestationFailure,
    require,
)
from .statement import VerifiedStatement

ZERO_AAGUID = "00000000-0000-0000-0000-000000000000"
# Statuses that end trust in every key of the model (FIDO conformance MDS F-2; REVOKED)
REVOKING_STATUSES = (
    AuthenticatorStatus.REVOKED,
    AuthenticatorStatus.USER_VERIFICATION_BYPASS,
    AuthenticatorStatus.USER_KEY_REMOTE_COMPROMISE,
    AuthenticatorStatus.USER_KEY_PHYSICAL_COMPROMISE,
)
# entra-facts §9 "FIDO2 certification at any level": FIDO_CERTIFIED or any of its levels
CERTIFIED_STATUSES = frozenset({
    AuthenticatorStatus.FIDO_CERTIFIED,
    AuthenticatorStatus.FIDO_CERTIFIED_L1, AuthenticatorStatus.FIDO_CERTIFIED_L1plus,
    AuthenticatorStatus.FIDO_CERTIFIED_L2, AuthenticatorStatus.FIDO_CERTIFIED_L2plus,
    AuthenticatorStatus.FIDO_CERTIFIED_L3, AuthenticatorStatus.FIDO_CERTIFIED_L3plus,
})
# entra-facts §9: FIDO 2.0 or higher in authenticatorGetInfo.versions
FIDO2_VERSIONS = frozenset({"FIDO_2_0", "FIDO_2_1_PRE", "FIDO_2_1", "FIDO_2_2", "FIDO_2_3"})
# entra-facts §9: hmac-secret or PRF (CTAP 2.2 adds hmac-secret-mc, the same capability)
SECRET_EXTENSIONS = frozenset({"hmac-secret", "hmac-secret-mc", "prf"})


class MetadataError(ValueError):
    """An unusable BLOB: not a JWT, bad signature, bad chain or not an MDS3 payload."""


@dataclass(frozen=True)
class MetadataEntry:
    aaguid: str | None  # lower-case 8-4-4-4-12, None for U2F (key identifier) entries
    description: str
    root_certificates: tuple[bytes, ...]
    statuses: tuple[str, ...]  # status report statuses, in order
    raw: MetadataBlobPayloadEntry

    @classmethod
    def of(cls, raw: MetadataBlobPayloadEntry) -> MetadataEntry:
        statement = raw.metadata_statement
        return cls(
            aaguid=str(raw.aaguid).lower() if raw.aaguid else None,
            description=statement.description if statement else "",
            root_certificates=tuple(statement.attestation_root_certificates) if statement else (),
            statuses=tuple(str(r.status.value) for r in raw.status_reports),
            raw=raw,
        )

    @functools.cached_property
    def model_problem(self) -> tuple[Reason, str] | None:
        """Why the model may not register under enforced attestation (certification, then
        eligibility), or None: a pure function of the entry, worked out on first use."""
        try:
            _require_certified(self)
            _require_eligible(self)
        except AttestationFailure as failure:
            return failure.reason, failure.detail
        return None


def _key_identifier(der: bytes) -> bytes | None:
    """attestationCertificateKeyIdentifier: SHA-1 of the certificate's subjectPublicKey."""
    try:
        key = x509.load_der_x509_certificate(der).public_key()
        return x509.SubjectKeyIdentifier.from_public_key(key).digest
    except (ValueError, TypeError, UnsupportedAlgorithm):  # a key cryptography cannot load
        return None


class Metadata:
    """The entries of one verified BLOB, indexed by AAGUID and by key identifier."""

    def __init__(self, entries: Sequence[MetadataBlobPayloadEntry]):
        self.entries = tuple(MetadataEntry.of(e) for e in entries)
        self._by_aaguid = {e.aaguid: e for e in self.entries if e.aaguid}
        self._by_key_id = {kid: e for e in self.entries
                           for kid in e.raw.attestation_certificate_key_identifiers or ()}

    @classmethod
    def from_blob(cls, blob: bytes, trust_root_der: bytes) -> Metadata:
        """Verify and read a BLOB as downloaded from https://mds3.fidoalliance.org/."""
        parts = blob.strip().split(b".")
        if len(parts) != 3:
            raise MetadataError("bad JWT: a BLOB is header.payload.signature")
        try:
            header, payload = (json.loads(websafe_decode(p)) for p in parts[:2])
        except (ValueError, binascii.Error) as e:
            raise MetadataError(f"bad JSON: the JWT header or payload does not decode ({e})") \
                from e
        if not isinstance(header, Mapping) or not isinstance(payload, Mapping):
            raise MetadataError("bad JSON: the JWT header and payload must be objects")
        try:
            parsed = parse_blob(blob.strip(), trust_root_der)
        except (InvalidSignature, InvalidData) as e:
            raise MetadataError(f"bad chain: the BLOB certificates do not lead to the trust "
                                f"root ({e or 'signature mismatch'})") from e
        except CryptoInvalidSignature as e:
            raise MetadataError("bad signature: the BLOB signature does not verify") from e
        except Exception as e:  # fido2's from_dict: missing fields, wrong types
            raise MetadataError(
                f"bad JSON: not an MDS3 BLOB payload ({type(e).__name__}: {e})"
            ) from e
        return cls(parsed.entries)

    def entry(self, aaguid: str) -> MetadataEntry | None:
        return self._by_aaguid.get(aaguid.lower())

    def entry_for_chain(self, trust_path: Sequence[bytes]) -> MetadataEntry | None:
        """The entry listing a chain certificate's key identifier (U2F, zero AAGUID)."""
        for der in trust_path:
            kid = _key_identifier(der)
            if kid in self._by_key_id:
                return self._by_key_id[kid]
        return None


def _require_certified(entry: MetadataEntry) -> None:
    """entra-facts §9: under enforced attestation the model must be FIDO2 certified, at any
    level; a self-assertion or NOT_FIDO_CERTIFIED alone is no certification."""
    certified = any(r.status in CERTIFIED_STATUSES for r in entry.raw.status_reports)
    require(certified, NOT_CERTIFIED,
            f"The metadata of {entry.description or entry.aaguid} shows no FIDO certification "
            f"(statuses: {', '.join(entry.statuses) or 'none'}).")


def _require_eligible(entry: MetadataEntry) -> None:
    """entra-facts §9: the metadata must state FIDO 2.0+, UV or PIN, rk, hmac-secret or PRF."""
    statement = entry.raw.metadata_statement
    info: Mapping[str, Any] = (statement.authenticator_get_info if statement else None) or {}
    options = info.get("options") or {}
    missing = [
        what for what, ok in (
            ("FIDO 2.0 or higher", FIDO2_VERSIONS & set(info.get("versions") or ())),
            ("user verification or clientPin", "uv" in options or "clientPin" in options),
            ("resident keys (rk)", options.get("rk") is True),
            ("hmac-secret or prf", SECRET_EXTENSIONS & set(info.get("extensions") or ())),
        ) if not ok
    ]
    require(not missing, NOT_ELIGIBLE,
            f"The metadata for {entry.description or entry.aaguid} does not state "
            f"{', '.join(missing)}.")


def verify_trust(statement: VerifiedStatement, aaguid: str, metadata: Metadata,
                 at: datetime) -> MetadataEntry:
    """Entra's enforced attestation: a listed, unrevoked, certified, eligible model and a valid
    chain."""
    require(statement.trust_path, ATTESTATION_REQUIRED,
            f"A {statement.attestation_type} attestation has no certificate to trust.")
    entry = (metadata.entry(aaguid) if aaguid.lower() != ZERO_AAGUID else None) \
        or metadata.entry_for_chain(statement.trust_path)
    if entry is None:
        raise AttestationFailure(NOT_IN_METADATA, f"No metadata entry matches AAGUID {aaguid} "
                                                  "or the attestation certificates.")
    for report in entry.raw.status_reports:  # messages formatted only on failure
        if report.status in REVOKING_STATUSES:
            raise AttestationFailure(REVOKED, f"The metadata status of "
                                              f"{entry.description or aaguid} is "
                                              f"{report.status.value}.")
        if report.status == AuthenticatorStatus.ATTESTATION_KEY_COMPROMISE and (
                report.certificate is None or report.certificate in statement.trust_path):
            raise AttestationFailure(KEY_COMPROMISED, f"The metadata reports the attestation key "
                                                      f"of {entry.description or aaguid} as "
                                                      f"compromised.")
    if entry.model_problem is not None:
        raise AttestationFailure(*entry.model_problem)
    validate_chain(statement.trust_path, entry.root_certificates, at)
    return entry
