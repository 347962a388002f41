"""Verifying an attestation statement by its format: the entry point the decision engine calls.

This answers "is the statement well formed and does it bind this registration?" only. Whether
its certificate chain is trusted is `chain.validate_chain` / `metadata.verify_trust`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import cbor2
from fido2 import cbor as fido2_cbor
from fido2.attestation.base import Attestation, AttestationType
from fido2.cose import CoseKey
from fido2.webauthn import Aaguid, AttestationObject, AttestedCredentialData, AuthenticatorData

from . import cbor_depth, fields
from .android_key import AndroidKeyAttestation
from .es256_key import SIZE as ES256_KEY_SIZE
from .es256_key import canonical_es256_key
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


# The verifiers that hold no state, made once; SafetyNet's judges its timestamp at `at`
_VERIFIERS: dict[str, Attestation] = {
    "packed": StrictPackedAttestation(),
    "tpm": StrictTpmAttestation(),
    "android-key": AndroidKeyAttestation(),
    "fido-u2f": StrictFidoU2FAttestation(),
    "apple": StrictAppleAttestation(),
    "none": StrictNoneAttestation(),
}
_SAFETYNET = "android-safetynet"


def _verifier(fmt: str, at: datetime | None) -> Attestation:
    if fmt == _SAFETYNET:
        return StrictSafetynetAttestation(at)
    verifier = _VERIFIERS.get(fmt)
    if verifier is None:
        raise AttestationFailure(FORMAT_NOT_ACCEPTED, f"The attestation format {fmt!r} is not "
                                                      f"one this verifier knows.")
    return verifier


@typed_failures
def parse_attestation_object(data: bytes) -> AttestationObject:
    """Decode attestationObject bytes; anything but a well-formed one is STATEMENT_INVALID.

    cbor2 checks well-formedness first: fido2's decoder silently shortens a byte string whose
    declared length runs past the end, so a truncated object would otherwise parse. The nesting
    of the object and of the CBOR inside its authData is bounded (`cbor_depth`) before fido2's
    recursive decoder reads them; cbor2, which bounds its own nesting, reads first, and where
    its encoding of what it read shows the object plain already (`_plain_item`, what nearly
    every authenticator sends) the walk is not needed. When the CBOR is plain, the object is
    assembled from what cbor2 decoded (`assembled`); otherwise fido2 reads it all again.
    """
    require(isinstance(data, bytes) and data, STATEMENT_INVALID, "The attestationObject is empty.")
    top = _plain_item(data)
    plain = top is not None
    if top is None:  # not plainly encoded: bounded by the walk first, then read
        end, plain = _bounded(data, 0, "The attestationObject")
        top = cbor2.loads(data)
        plain = plain and end == len(data) and _keys_plain(top)
    require(isinstance(top, dict) and isinstance(top.get("fmt"), str)
            and isinstance(top.get("attStmt"), dict) and isinstance(top.get("authData"), bytes),
            STATEMENT_INVALID, "The attestationObject is not a map of fmt, attStmt and authData.")
    auth_data = _auth_data(top["authData"])
    if auth_data is not None and plain:
        return assembled(AttestationObject, data, fmt=top["fmt"], auth_data=auth_data,
                         att_stmt=top["attStmt"])
    return AttestationObject(data)


def _plain_item(data: bytes) -> Any:
    """The value of `data` when it is one plain CBOR item (`cbor_depth.item_end`) nested at most
    `cbor_depth.MAX_DEPTH` levels, with plain map keys (`_keys_plain`), and nothing after it;
    else None, and the walk decides. cbor2 reads the bytes first (it refuses hostile nesting
    and lengths itself, without recursing without bound), and they count as plain only when
    its encoding of what it read gives them back exactly and what it read is made of plain
    values only: a tag, an indefinite length, another simple value, a float, a non-minimal
    head, a repeated key or trailing bytes would not come back, or not as a plain value."""
    try:
        value = cbor2.loads(data)
    except Exception:  # the walk and cbor2 again say why
        return None
    if not _plain_value(value, cbor_depth.MAX_DEPTH) or cbor2.dumps(value) != data:
        return None
    return value


def _plain_value(value: Any, levels: int) -> bool:
    """Whether `value` is made of ints that need no tag (RFC 8949 §3.4.3), text, bytes, bools,
    None, and lists and dicts nested at most `levels` deep with keys of the first five. Loops,
    not generators, and no call for a text or bytes: this runs on every attestation object."""
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return True
    if kind is int:
        return bool(-(1 << 64) <= value < 1 << 64)
    if not levels:
        return False
    if kind is list:
        for item in value:
            if type(item) not in _PLAIN_SCALARS and not _plain_value(item, levels - 1):
                return False
        return True
    if kind is dict:
        for key, item in value.items():
            if type(key) not in _PLAIN_SCALARS and not _plain_value(key, 0):
                return False
            if type(item) not in _PLAIN_SCALARS and not _plain_value(item, levels - 1):
                return False
        return True
    return False


def _bounded(data: bytes, at: int, what: str) -> tuple[int, bool]:
    """The end of the CBOR data item at `at` and whether it is plain (`cbor_depth.item_end`),
    refused when it nests too deeply (RFC 8949 §3)."""
    try:
        return cbor_depth.item_end(data, at)
    except cbor_depth.CborDepthError as e:
        raise AttestationFailure(STATEMENT_INVALID, f"{what} {e}.") from None


def _auth_data(raw: bytes) -> AuthenticatorData | None:
    """The CBOR inside authData bounded, as WebAuthn §6.1 lays it out: after the 37-byte header
    and, with AT set, the attested credential data's AAGUID, id length and id, the credential
    public key; then, with ED set, the extensions. Shorter data is left to fido2, which refuses
    it.

    Then the authData as `AuthenticatorData(raw)` reads it, when the credential data is there
    and all of it is plain CBOR ending where authData ends; else None, and fido2 reads it
    (and raises what it raises). fido2 decodes the key, encodes it and decodes that again (its
    `AttestedCredentialData.create`): the encoding is made here too, and only when it gives
    back the very bytes is the key read once.
    """
    if len(raw) < 37:
        return None
    at, plain, flags = 37, True, raw[32]
    key_start = 55 + int.from_bytes(raw[53:55], "big") if len(raw) >= 55 else 0
    key: CoseKey | None = None
    if flags & _AT:
        if not key_start:
            return None
        key = canonical_es256_key(raw, key_start)
        at, plain = (key_start + ES256_KEY_SIZE, True) if key is not None \
            else _bounded(raw, key_start, "The credential public key")
    key_end = at
    if flags & _ED:
        at, extensions_plain = _bounded(raw, at, "The authenticator extensions")
        plain = plain and extensions_plain
    if not (flags & _AT and plain and at == len(raw) and _FIELDS_AS_READ):
        return None
    try:
        if key is None:
            decoded = cbor2.loads(raw[key_start:key_end])
            key = CoseKey.parse(decoded) if isinstance(decoded, dict) and _keys_plain(decoded) \
                else None
            if key is not None and fido2_cbor.encode(key) != raw[key_start:key_end]:
                key = None
        extensions = cbor2.loads(raw[key_end:]) if flags & _ED else None
    except Exception:  # fido2 says what is wrong with it
        return None
    if key is None or not _keys_plain(extensions):
        return None
    credential = assembled(AttestedCredentialData, raw[37:key_end], aaguid=Aaguid(raw[37:53]),
                           credential_id=raw[55:key_start], public_key=key)
    return assembled(AuthenticatorData, raw, rp_id_hash=raw[:32], flags=flags,
                     counter=int.from_bytes(raw[33:37], "big"), credential_data=credential,
                     extensions=extensions)


def _keys_plain(value: Any) -> bool:
    """Every map key in `value` is a number, string or simple value: cbor2 reads an array or
    map key as a tuple or frozendict, fido2 cannot read it at all. (Nesting is bounded.)"""
    if isinstance(value, dict):
        return all(type(k) in _PLAIN_KEYS for k in value) \
            and all(type(v) not in _CONTAINERS or _keys_plain(v) for v in value.values())
    if isinstance(value, list):
        return all(type(v) not in _CONTAINERS or _keys_plain(v) for v in value)
    return True


_PLAIN_KEYS = (int, str, bytes, bool, type(None))
_PLAIN_SCALARS = (str, bytes, bool, type(None))
_CONTAINERS = (dict, list)
# fido2's binary data classes and the fields their constructors set, as read for `assembled`
_FIELDS: dict[type[Any], tuple[str, ...]] = {
    AttestationObject: ("fmt", "auth_data", "att_stmt"),
    AuthenticatorData: ("rp_id_hash", "flags", "counter", "credential_data", "extensions"),
    AttestedCredentialData: ("aaguid", "credential_id", "public_key"),
}
_FIELDS_AS_READ = all(tuple(f.name for f in dataclasses.fields(kind)) == names
                      for kind, names in _FIELDS.items())
B = TypeVar("B", bound=bytes)


def assembled(kind: type[B], raw: bytes, **values: Any) -> B:
    """A fido2 binary data object of `raw` with the attributes its constructor would parse
    from it (`values`: all of them, e.g. the names `_FIELDS` gives `kind`), set in its
    instance dict as that constructor's object.__setattr__ sets them (the classes are
    frozen)."""
    obj = bytes.__new__(kind, raw)
    vars(obj).update(values)  # what object.__setattr__ does per field, in one call
    return obj


@typed_failures
def verify_statement(attestation_object: AttestationObject, client_data_hash: bytes, *,
                     at: datetime | None = None) -> VerifiedStatement:
    """Verify the statement per its format; `at` judges time-bound claims (SafetyNet's)."""
    require(isinstance(client_data_hash, bytes) and len(client_data_hash) == 32,
            STATEMENT_INVALID, "The clientDataHash must be 32 bytes (SHA-256).")
    fmt, statement = attestation_object.fmt, attestation_object.att_stmt
    require(isinstance(fmt, str), STATEMENT_INVALID, "The attestation fmt is not a string.")
    require(fields.is_mapping(statement), STATEMENT_INVALID, "attStmt is not a CBOR map.")
    result = _verifier(fmt, at).verify(statement, attestation_object.auth_data,
                                       client_data_hash)
    return VerifiedStatement(fmt, _TYPE_NAMES[result.attestation_type], tuple(result.trust_path))


@typed_failures
def check_packed_form(attestation_object: AttestationObject) -> None:
    """A packed statement's form, verifying nothing: alg, sig, and an x5c of certificates that
    parse (rules.py: what an unenforced profile asks of packed). Self attestation has no x5c."""
    statement = attestation_object.att_stmt
    require(fields.is_mapping(statement), STATEMENT_INVALID, "attStmt is not a CBOR map.")
    fields.algorithm(statement, "packed")
    fields.field(statement, "sig", bytes, "packed")
    require("x5c" in statement, STATEMENT_INVALID,
            "The packed statement has no x5c: self attestation carries no certificate.")
    for der in fields.x5c(statement, "packed"):  # complete: every certificate parses
        fields.leaf([der], "packed")
