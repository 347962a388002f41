"""Verifying an attestation statement by its format: the entry point the decision engine calls.

This answers "is the statement well formed and does it bind this registration?" only. Whether
its certificate chain is trusted is `chain.validate_chain` / `metadata.verify_trust`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import cbor2
from fido2.attestation.base import Attestation, AttestationType
from fido2.webauthn import AttestationObject, AuthenticatorData

from . import cbor_depth, fields
from .android_key import AndroidKeyAttestation
from .failure import (
    FORMAT_NOT_ACCEPTED,
    STATEMENT_INVALID,
    AttestationFailure,
    require,
    typed_failures,
)
from .formats import (
    StrictAppleAttestation,
    StrictFidoU2FAttestation,
    StrictNoneAttestation,
    StrictPackedAttestation,
    StrictTpmAttestation,
)
from .safetynet import StrictSafetynetAttestation

_AT, _ED = int(AuthenticatorData.FLAG.AT), int(AuthenticatorData.FLAG.ED)  # plain ints: fast
_TYPE_NAMES = {
    AttestationType.BASIC: "basic",
    AttestationType.SELF: "self",
    AttestationType.ATT_CA: "attca",
    AttestationType.ANON_CA: "anonca",
    AttestationType.NONE: "none",
}


@dataclass(frozen=True)
class VerifiedStatement:
    fmt: str
    attestation_type: str  # "basic" | "self" | "attca" | "anonca" | "none"
    trust_path: tuple[bytes, ...]  # x5c DER, leaf first; empty for self and none


def _verifier(fmt: str, at: datetime | None) -> Attestation:
    verifiers: dict[str, Attestation] = {
        "packed": StrictPackedAttestation(),
        "tpm": StrictTpmAttestation(),
        "android-key": AndroidKeyAttestation(),
        "android-safetynet": StrictSafetynetAttestation(at),
        "fido-u2f": StrictFidoU2FAttestation(),
        "apple": StrictAppleAttestation(),
        "none": StrictNoneAttestation(),
    }
    require(fmt in verifiers, FORMAT_NOT_ACCEPTED,
            f"The attestation format {fmt!r} is not one this verifier knows.")
    return verifiers[fmt]


@typed_failures
def parse_attestation_object(data: bytes) -> AttestationObject:
    """Decode attestationObject bytes; anything but a well-formed one is STATEMENT_INVALID.

    cbor2 checks well-formedness first: fido2's decoder silently shortens a byte string whose
    declared length runs past the end, so a truncated object would otherwise parse. The nesting
    of the object and of the CBOR inside its authData is bounded before either decoder, both
    recursive, reads them (`cbor_depth`).
    """
    require(isinstance(data, bytes) and data, STATEMENT_INVALID, "The attestationObject is empty.")
    _bounded(data, 0, "The attestationObject")
    top = cbor2.loads(data)
    require(isinstance(top, dict) and isinstance(top.get("fmt"), str)
            and isinstance(top.get("attStmt"), dict) and isinstance(top.get("authData"), bytes),
            STATEMENT_INVALID, "The attestationObject is not a map of fmt, attStmt and authData.")
    _bounded_auth_data(top["authData"])
    return AttestationObject(data)


def _bounded(data: bytes, at: int, what: str) -> int:
    """The end of the CBOR data item at `at`, refused when it nests too deeply (RFC 8949 §3)."""
    try:
        return cbor_depth.item_end(data, at)
    except cbor_depth.CborDepthError as e:
        raise AttestationFailure(STATEMENT_INVALID, f"{what} {e}.") from None


def _bounded_auth_data(auth_data: bytes) -> None:
    """The CBOR inside authData, as WebAuthn §6.1 lays it out: after the 37-byte header and, with
    AT set, the attested credential data's AAGUID, id length and id, the credential public key;
    then, with ED set, the extensions. Shorter data is left to fido2, which refuses it."""
    if len(auth_data) < 37:
        return
    at = 37
    if auth_data[32] & _AT:
        if len(auth_data) < 55:
            return
        at = _bounded(auth_data, 55 + int.from_bytes(auth_data[53:55], "big"),
                      "The credential public key")
    if auth_data[32] & _ED:
        _bounded(auth_data, at, "The authenticator extensions")


@typed_failures
def verify_statement(attestation_object: AttestationObject, client_data_hash: bytes, *,
                     at: datetime | None = None) -> VerifiedStatement:
    """Verify the statement per its format; `at` judges time-bound claims (SafetyNet's)."""
    require(isinstance(client_data_hash, bytes) and len(client_data_hash) == 32,
            STATEMENT_INVALID, "The clientDataHash must be 32 bytes (SHA-256).")
    fmt, statement = attestation_object.fmt, attestation_object.att_stmt
    require(isinstance(fmt, str), STATEMENT_INVALID, "The attestation fmt is not a string.")
    require(isinstance(statement, Mapping), STATEMENT_INVALID, "attStmt is not a CBOR map.")
    result = _verifier(fmt, at).verify(statement, attestation_object.auth_data,
                                       client_data_hash)
    return VerifiedStatement(fmt, _TYPE_NAMES[result.attestation_type], tuple(result.trust_path))


@typed_failures
def check_packed_form(attestation_object: AttestationObject) -> None:
    """A packed statement's form, verifying nothing: alg, sig, and an x5c of certificates that
    parse (rules.py: what an unenforced profile asks of packed). Self attestation has no x5c."""
    statement = attestation_object.att_stmt
    require(isinstance(statement, Mapping), STATEMENT_INVALID, "attStmt is not a CBOR map.")
    fields.algorithm(statement, "packed")
    fields.field(statement, "sig", bytes, "packed")
    require("x5c" in statement, STATEMENT_INVALID,
            "The packed statement has no x5c: self attestation carries no certificate.")
    for der in fields.x5c(statement, "packed"):  # complete: every certificate parses
        fields.leaf([der], "packed")
