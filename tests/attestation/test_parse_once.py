"""The attestation object read once is the object fido2 reads (statement.parse_attestation_object).

When the CBOR is plain (cbor2's encoding of what it read gives the bytes back), the object is
assembled from cbor2's decoding instead of fido2 decoding it again; these tests hold it to
fido2's own `AttestationObject(data)`, field by field and type by type, on every real capture,
on mutations of them, and on encodings that mean the same to cbor2 but not to fido2 (which
must still be refused as fido2 refuses them).
"""

from __future__ import annotations

import random
from typing import Any

import cbor2
import pytest
from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData

from pkconf.tenant.attestation import AttestationFailure, parse_attestation_object

from . import vectors
from .test_malformed_input import MUTATIONS_PER_VECTOR, _mutate
from .vectors import Vector

_PARTS = {AttestationObject: ("fmt", "auth_data", "att_stmt"),
          AuthenticatorData: ("rp_id_hash", "flags", "counter", "credential_data", "extensions"),
          AttestedCredentialData: ("aaguid", "credential_id", "public_key")}


def _same(ours: Any, theirs: Any) -> bool:
    """Equal and of the same type all the way down, fido2's data objects field by field."""
    if type(ours) is not type(theirs) or ours != theirs:
        return False
    if isinstance(ours, dict):
        return all(_same(k, t) for k, t in zip(ours, theirs, strict=True)) \
            and all(_same(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list):
        return all(_same(o, t) for o, t in zip(ours, theirs, strict=True))
    return all(_same(getattr(ours, name), getattr(theirs, name))
               for name in _PARTS.get(type(ours), ()))


def _fido2_reads(data: bytes) -> AttestationObject | None:
    try:
        return AttestationObject(data)
    except Exception:  # fido2 refuses it: so must we
        return None


@pytest.mark.parametrize("vector", vectors.params())
def test_a_real_capture_reads_as_fido2_reads_it(vector: Vector) -> None:
    data = vectors.attestation_bytes(vector)
    assert _same(parse_attestation_object(data), AttestationObject(data))


@pytest.mark.parametrize("vector", vectors.params())
def test_a_mutated_capture_we_read_is_read_as_fido2_reads_it(vector: Vector) -> None:
    rng = random.Random(vector["credential"]["id"])
    original = vectors.attestation_bytes(vector)
    for _ in range(MUTATIONS_PER_VECTOR):
        data = _mutate(original, rng)
        try:
            ours = parse_attestation_object(data)
        except AttestationFailure:
            continue
        theirs = _fido2_reads(data)
        assert theirs is not None and _same(ours, theirs)


def _reencoded(data: bytes, **parts: bytes) -> bytes:
    """The attestation object with some of its parts' CBOR (`fmt`, `attStmt`, `authData`)
    replaced by the given bytes, in fido2's key order."""
    top = cbor2.loads(data)
    out = b"\xa3"
    for key in ("fmt", "attStmt", "authData"):
        out += cbor2.dumps(key) + parts.get(key, cbor2.dumps(top[key]))
    return out


def _with_alg(data: bytes, alg: bytes) -> bytes:
    """attStmt with its alg encoded as `alg`, the rest as it was."""
    statement = cbor2.loads(data)["attStmt"]
    rest = b"".join(cbor2.dumps(k) + cbor2.dumps(v) for k, v in statement.items() if k != "alg")
    return _reencoded(data, attStmt=bytes([0xA0 + len(statement)]) + cbor2.dumps("alg") + alg
                      + rest)


def _key_with_long_integers(data: bytes) -> bytes:
    """authData whose COSE key spells kty 2 in two bytes (0x18 0x02): not canonical, so fido2
    re-encodes the credential data into other bytes."""
    auth_data = cbor2.loads(data)["authData"]
    start = 55 + int.from_bytes(auth_data[53:55], "big")
    assert auth_data[start + 1:start + 3] == b"\x01\x02"  # the key opens with kty: 2
    return _reencoded(data, authData=cbor2.dumps(
        auth_data[:start + 2] + b"\x18\x02" + auth_data[start + 3:]))


SAME_TO_CBOR2 = {  # encodings cbor2 reads as the plain object, fido2 differently or not at all
    "alg-as-bignum-tag": lambda d: _with_alg(d, b"\xc3\x41\x06"),  # tag 3: -1 - 6 = -7
    "alg-as-float": lambda d: _with_alg(d, b"\xf9\xc7\x00"),  # -7.0, a bool to fido2
    "attStmt-indefinite": lambda d: _reencoded(
        d, attStmt=b"\xbf" + cbor2.dumps(cbor2.loads(d)["attStmt"])[1:] + b"\xff"),
    "attStmt-array-key": lambda d: _reencoded(
        d, attStmt=cbor2.dumps(cbor2.loads(d)["attStmt"])[:1].replace(b"\xa3", b"\xa4")
        + b"\x81\x01\x01" + cbor2.dumps(cbor2.loads(d)["attStmt"])[1:]),
    "cose-key-not-canonical": _key_with_long_integers,
    # cbor2's encoding of what it reads gives these bytes back only in part: the walk decides
    "self-described": lambda d: b"\xd9\xd9\xf7" + d,  # tag 55799 around the object
    "alg-as-small-bignum-tag": lambda d: _with_alg(d, b"\xc2\x41\x07"),  # tag 2: +7
    "alg-head-not-minimal": lambda d: _with_alg(d, b"\x38\x06"),  # -7 in a 1-byte argument
    "alg-lowest-integer": lambda d: _with_alg(d, b"\x3b" + b"\xff" * 8),  # -2**64, no tag
    "alg-twice": lambda d: _reencoded(d, attStmt=b"\xa4" + cbor2.dumps("alg") + b"\x20"
                                      + cbor2.dumps(cbor2.loads(d)["attStmt"])[1:]),
    "x5c-shareable-tag": lambda d: _reencoded(d, attStmt=cbor2.dumps(
        {**cbor2.loads(d)["attStmt"], "x5c": cbor2.CBORTag(28, cbor2.loads(d)["attStmt"]["x5c"])})),
    "trailing-byte": lambda d: d + b"\x00",
}


@pytest.mark.parametrize("encoding", SAME_TO_CBOR2, ids=list(SAME_TO_CBOR2))
def test_an_encoding_plain_only_to_cbor2_is_read_as_fido2_reads_it_or_refused(
        encoding: str) -> None:
    packed = next(v for v in vectors.load() if v["format"] == "packed" and
                  "x5c" in cbor2.loads(vectors.attestation_bytes(v))["attStmt"])
    data = SAME_TO_CBOR2[encoding](vectors.attestation_bytes(packed))
    theirs = _fido2_reads(data)
    if theirs is None:
        with pytest.raises(AttestationFailure):
            parse_attestation_object(data)
    else:
        assert _same(parse_attestation_object(data), theirs)
