"""The verifier reads real-world attestations: 35 captures from real authenticators."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from pkconf.tenant.attestation import (
    AttestationFailure,
    parse_attestation_object,
    validate_chain,
    verify_statement,
)

from . import vectors
from .vectors import Vector

# The fido2-net-lib TPM intermediates have a negative serial; cryptography warns on loading.
pytestmark = pytest.mark.filterwarnings("ignore:Parsed a serial number")

# Certificates cryptography's strict RFC 5280 verifier refuses although they are real captures:
# Feitian's leaf encodes a pre-2050 date as GeneralizedTime; the two fido2-net-lib TPM
# captures (FIDO conformance-tool PKI) have an intermediate with a negative serial.
NOT_STRICT_DER = {"42383245-4437-3343-3846-423445354132", "f244b67e-5364-4fd5-9f90-c396227317db",
                  "a7d6d93a-8a0d-11e8-9a94-a6cf71072f73"}


def _not_strict(v: Vector) -> bool:
    return v["source_repo"] == "passwordless-lib/fido2-net-lib" and v["decoded"]["aaguid"] in \
        NOT_STRICT_DER


def _with_chain(v: Vector) -> bool:
    return not vectors.is_cts_negative(v) and v["format"] not in ("none",) and \
        v["decoded"]["att_stmt_keys"] != ["alg", "sig"]


def _certs(trust_path: tuple[bytes, ...]) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(c) for c in trust_path]


def _chain_and_anchor(v: Vector) -> tuple[tuple[bytes, ...], tuple[bytes, ...], list]:
    """The vector's chain with its top certificate standing in as the trust anchor.

    The captures carry no vendor roots; a lone leaf is its own anchor (validity only).
    """
    path = verify_statement(vectors.attestation_object(v), vectors.client_data_hash(v)).trust_path
    if len(path) == 1:
        return path, path, _certs(path)
    return path[:-1], path[-1:], _certs(path)


def test_the_vector_file_holds_35_registrations() -> None:
    assert len(vectors.load()) == 35


@pytest.mark.parametrize("vector", vectors.params())
def test_every_real_attestation_object_parses_with_its_declared_format(vector: Vector) -> None:
    obj = parse_attestation_object(vectors.attestation_bytes(vector))
    assert obj.fmt == vector["format"]
    assert str(obj.auth_data.credential_data.aaguid) == vector["decoded"]["aaguid"]


@pytest.mark.parametrize("vector", vectors.params(lambda v: not vectors.is_cts_negative(v)))
def test_real_attestation_statement_verifies(vector: Vector) -> None:
    result = verify_statement(vectors.attestation_object(vector), vectors.client_data_hash(vector))
    assert result.fmt == vector["format"]
    expected_type = {"packed": "basic", "fido-u2f": "basic", "tpm": "attca", "apple": "anonca",
                     "android-key": "basic", "android-safetynet": "basic", "none": "none"}
    if vector["format"] == "packed" and "x5c" not in vector["decoded"]["att_stmt_keys"]:
        assert (result.attestation_type, result.trust_path) == ("self", ())
    else:
        assert result.attestation_type == expected_type[vector["format"]]
        assert bool(result.trust_path) == (vector["format"] != "none")


@pytest.mark.parametrize("vector", vectors.params(vectors.is_cts_negative))
def test_safetynet_with_cts_profile_mismatch_is_rejected_as_certificate_invalid(
        vector: Vector) -> None:
    with pytest.raises(AttestationFailure) as failure:
        verify_statement(vectors.attestation_object(vector), vectors.client_data_hash(vector))
    assert failure.value.reason == "ATTESTATION_CERTIFICATE_INVALID"
    assert "ctsProfileMatch" in failure.value.detail


@pytest.mark.parametrize("vector", vectors.params(lambda v: _with_chain(v) and not _not_strict(v)))
def test_real_chain_validates_at_a_time_inside_every_certificates_validity(vector: Vector) -> None:
    path, anchor, certs = _chain_and_anchor(vector)
    at = max(c.not_valid_before_utc for c in certs) + timedelta(minutes=1)
    assert at < min(c.not_valid_after_utc for c in certs)
    validate_chain(path, anchor, at)  # raises on failure


@pytest.mark.parametrize("vector", vectors.params(lambda v: _with_chain(v) and _not_strict(v)))
def test_real_chain_that_is_not_strict_der_is_rejected_as_chain_invalid(vector: Vector) -> None:
    """A deliberate strictness: cryptography refuses non-DER certificates (see report)."""
    path, anchor, certs = _chain_and_anchor(vector)
    at = max(c.not_valid_before_utc for c in certs) + timedelta(minutes=1)
    with pytest.raises(AttestationFailure) as failure:
        validate_chain(path, anchor, at)
    assert failure.value.reason == "ATTESTATION_CHAIN_INVALID"


@pytest.mark.parametrize("vector", vectors.params(_with_chain))
def test_real_chain_after_the_leafs_not_after_is_rejected_as_expired(vector: Vector) -> None:
    path, anchor, certs = _chain_and_anchor(vector)
    with pytest.raises(AttestationFailure) as failure:
        validate_chain(path, anchor, certs[0].not_valid_after_utc + timedelta(seconds=1))
    assert failure.value.reason == "ATTESTATION_CERTIFICATE_EXPIRED"


@pytest.mark.parametrize("vector", vectors.params(
    lambda v: v["decoded"]["aaguid"] == "42383245-4437-3343-3846-423445354132"))
def test_real_x5c_that_includes_its_root_is_rejected_as_chain_invalid(vector: Vector) -> None:
    path = vectors.attestation_object(vector).att_stmt["x5c"]  # Feitian ships its root in x5c
    certs = _certs(tuple(path))
    at = max(c.not_valid_before_utc for c in certs) + timedelta(minutes=1)
    with pytest.raises(AttestationFailure) as failure:
        validate_chain(path, path[-1:], at)
    assert failure.value.reason == "ATTESTATION_CHAIN_INVALID"
    assert "includes a root" in failure.value.detail


def _safetynet_timestamp(v: Vector) -> datetime:
    jws = vectors.attestation_object(v).att_stmt["response"]
    payload = json.loads(vectors.b64url(jws.split(b".")[1].decode()))
    return datetime.fromtimestamp(payload["timestampMs"] / 1000, UTC)


SAFETYNET_POSITIVE = vectors.params(
    lambda v: v["format"] == "android-safetynet" and not vectors.is_cts_negative(v))


@pytest.mark.parametrize("vector", SAFETYNET_POSITIVE)
def test_safetynet_response_judged_within_a_minute_of_its_timestamp_verifies(
        vector: Vector) -> None:
    at = _safetynet_timestamp(vector) + timedelta(seconds=30)
    result = verify_statement(vectors.attestation_object(vector), vectors.client_data_hash(vector),
                              at=at)
    assert result.fmt == "android-safetynet"


@pytest.mark.parametrize("offset", [timedelta(seconds=-1), timedelta(minutes=2)],
                         ids=["from-the-future", "over-a-minute-old"])
@pytest.mark.parametrize("vector", SAFETYNET_POSITIVE)
def test_safetynet_response_from_the_future_or_too_old_is_rejected_as_statement_invalid(
        vector: Vector, offset: timedelta) -> None:
    at = _safetynet_timestamp(vector) + offset
    with pytest.raises(AttestationFailure) as failure:
        verify_statement(vectors.attestation_object(vector), vectors.client_data_hash(vector),
                         at=at)
    assert failure.value.reason == "ATTESTATION_STATEMENT_INVALID"
