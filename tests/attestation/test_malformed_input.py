"""Malformed input never escapes as anything but AttestationFailure (or MetadataError).

A seeded mutation fuzzer (hypothesis is not installed): byte flips, truncations and
insertions over every real capture, plus random bytes. Seeded, so a failure reproduces.
"""

from __future__ import annotations

import hashlib
import random

import cbor2
import pytest
from fido2.utils import websafe_encode

from pkconf.tenant.attestation import (
    AttestationFailure,
    Metadata,
    MetadataError,
    parse_attestation_object,
    validate_chain,
    verify_statement,
)
from pkconf.tenant.rules import RULES

from . import pki, vectors
from .vectors import Vector

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

MUTATIONS_PER_VECTOR = 40


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        where = rng.randrange(len(buf)) if buf else 0
        match rng.choice(("flip", "truncate", "insert", "zero")):
            case "flip" if buf:
                buf[where] ^= 1 << rng.randrange(8)
            case "truncate":
                del buf[where:]
            case "insert":
                buf[where:where] = rng.randbytes(rng.randint(1, 8))
            case _ if buf:
                buf[where] = 0
    return bytes(buf)


def _verify_or_reject(data: bytes, cdh: bytes) -> None:
    """Either verifies, or fails with a rule-book reason; any other exception fails the test."""
    try:
        verify_statement(parse_attestation_object(data), cdh)
    except AttestationFailure as e:
        assert e.reason in RULES
        assert e.detail


@pytest.mark.parametrize("vector", vectors.params())
def test_mutated_real_attestation_objects_fail_only_as_attestation_failure(
        vector: Vector) -> None:
    rng = random.Random(vector["credential"]["id"])
    original = vectors.attestation_bytes(vector)
    for _ in range(MUTATIONS_PER_VECTOR):
        _verify_or_reject(_mutate(original, rng), vectors.client_data_hash(vector))


def test_random_bytes_fail_only_as_attestation_failure() -> None:
    rng = random.Random(1)
    cdh = hashlib.sha256(b"x").digest()
    for size in range(0, 400, 4):
        _verify_or_reject(rng.randbytes(size), cdh)


@pytest.mark.parametrize("vector", vectors.params(
    lambda v: "x5c" in v["decoded"]["att_stmt_keys"]))
def test_mutated_certificates_fail_chain_validation_only_as_attestation_failure(
        vector: Vector) -> None:
    rng = random.Random(vector["credential"]["id"])
    chain = list(vectors.attestation_object(vector).att_stmt["x5c"])
    for _ in range(MUTATIONS_PER_VECTOR // 4):
        broken = [_mutate(c, rng) if rng.random() < 0.5 else c for c in chain]
        try:
            validate_chain(broken[:-1] or broken, [_mutate(chain[-1], rng)], pki.AT)
        except AttestationFailure as e:
            assert e.reason in RULES


def test_mutated_metadata_blobs_fail_only_as_metadata_error() -> None:
    rng = random.Random(2)
    root = pki.root().der
    for size in range(0, 300, 3):
        blob = b".".join(rng.randbytes(size // 3) for _ in range(3))
        with pytest.raises(MetadataError):
            Metadata.from_blob(blob, root)


def _safetynet_object(header: bytes, payload: bytes) -> bytes:
    """An android-safetynet attestation object whose JWS has these header and payload bytes."""
    auth_data = bytes(32) + b"\x45" + bytes(4) + bytes(16) + b"\x00\x01\x01" + cbor2.dumps(
        {1: 2, 3: -7, -1: 1, -2: bytes(32), -3: bytes(32)})
    jws = b".".join(websafe_encode(part).encode() for part in (header, payload, b"sig"))
    return cbor2.dumps({"fmt": "android-safetynet", "authData": auth_data,
                        "attStmt": {"ver": "1", "response": jws}})


DEEP_CBOR = b"\x81" * 300 + b"\x01"  # within cbor2's limit of 400, not within ours


@pytest.mark.parametrize("data", [
    pytest.param(cbor2.dumps({"fmt": "none", "attStmt": {"x": cbor2.loads(DEEP_CBOR)},
                              "authData": bytes(37)}), id="attestation-statement"),
    pytest.param(cbor2.dumps({"fmt": "none", "attStmt": {},  # ED set, extensions deep
                              "authData": bytes(32) + b"\x81" + bytes(4) + DEEP_CBOR}),
                 id="authenticator-extensions"),
    pytest.param(_safetynet_object(b"[" * 5000 + b"]" * 5000, b"{}"), id="safetynet-jws-header"),
])
def test_deep_nesting_is_a_statement_failure_before_any_recursive_decoder(data: bytes) -> None:
    with pytest.raises(AttestationFailure, match="nests too deeply") as failure:
        verify_statement(parse_attestation_object(data), bytes(32))
    assert failure.value.reason == "ATTESTATION_STATEMENT_INVALID"
