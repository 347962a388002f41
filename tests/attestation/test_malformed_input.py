"""Malformed input never escapes as anything but AttestationFailure (or MetadataError).

A seeded mutation fuzzer (hypothesis is not installed): byte flips, truncations and
insertions over every real capture, plus random bytes. Seeded, so a failure reproduces.
"""

from __future__ import annotations

import hashlib
import random

import pytest

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
