"""Tampered copies of real attestations are rejected, each for its own reason."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData

from pkconf.tenant.attestation import (
    AttestationFailure,
    parse_attestation_object,
    verify_statement,
)

from . import vectors
from .vectors import Vector

pytestmark = pytest.mark.filterwarnings("ignore:Parsed a serial number")

SIGNED = ("packed", "fido-u2f", "tpm", "android-key")


def _reason(obj: AttestationObject, cdh: bytes) -> str:
    with pytest.raises(AttestationFailure) as failure:
        verify_statement(obj, cdh)
    return failure.value.reason


def _restate(v: Vector, change: Callable[[dict[str, Any]], None], fmt: str | None = None,
             auth_data: AuthenticatorData | None = None) -> AttestationObject:
    obj = vectors.attestation_object(v)
    statement = dict(obj.att_stmt)
    change(statement)
    return AttestationObject.create(obj.fmt if fmt is None else fmt,
                                    auth_data or obj.auth_data, statement)


def _flip_last(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def _flip_jws_signature(statement: dict[str, Any]) -> None:
    head, body, sig = statement["response"].split(b".")
    raw = _flip_last(vectors.b64url(sig.decode()))
    statement["response"] = b".".join([head, body, base64.urlsafe_b64encode(raw).rstrip(b"=")])


def _with_aaguid(v: Vector, aaguid: bytes) -> AuthenticatorData:
    ad = vectors.attestation_object(v).auth_data
    cd = ad.credential_data
    return AuthenticatorData.create(ad.rp_id_hash, ad.flags, ad.counter,
                                    AttestedCredentialData.create(aaguid, cd.credential_id,
                                                                  cd.public_key), ad.extensions)


@pytest.mark.parametrize("vector", vectors.params(
    lambda v: v["format"] in SIGNED and "sig" in v["decoded"]["att_stmt_keys"]))
def test_flipped_signature_byte_is_rejected_as_signature_invalid(vector: Vector) -> None:
    obj = _restate(vector, lambda s: s.update(sig=_flip_last(s["sig"])))
    assert _reason(obj, vectors.client_data_hash(vector)) == "ATTESTATION_SIGNATURE_INVALID"


@pytest.mark.parametrize("vector", vectors.params(
    lambda v: v["format"] == "android-safetynet" and not vectors.is_cts_negative(v)))
def test_flipped_safetynet_jws_signature_byte_is_rejected_as_signature_invalid(
        vector: Vector) -> None:
    obj = _restate(vector, _flip_jws_signature)
    assert _reason(obj, vectors.client_data_hash(vector)) == "ATTESTATION_SIGNATURE_INVALID"


# What binds the statement to clientDataHash: a signature, or a nonce the signature covers
CHANGED_HASH_REASON = {
    "packed": "ATTESTATION_SIGNATURE_INVALID",
    "fido-u2f": "ATTESTATION_SIGNATURE_INVALID",
    "tpm": "ATTESTATION_NONCE_MISMATCH",
    "apple": "ATTESTATION_NONCE_MISMATCH",
    "android-key": "ATTESTATION_NONCE_MISMATCH",
    "android-safetynet": "ATTESTATION_NONCE_MISMATCH",
}


@pytest.mark.parametrize("vector", vectors.params(lambda v: v["format"] != "none"))
def test_changed_client_data_hash_is_rejected_by_what_binds_it(vector: Vector) -> None:
    cdh = _flip_last(vectors.client_data_hash(vector))
    reason = _reason(vectors.attestation_object(vector), cdh)
    if vectors.is_cts_negative(vector):
        assert reason == "ATTESTATION_NONCE_MISMATCH"
    else:
        assert reason == CHANGED_HASH_REASON[vector["format"]]


@pytest.mark.parametrize("cut", [1, 10, 100])
@pytest.mark.parametrize("vector", vectors.params(lambda v: v["format"] in ("packed", "tpm")))
def test_truncated_attestation_object_is_rejected_as_statement_invalid(
        vector: Vector, cut: int) -> None:
    with pytest.raises(AttestationFailure) as failure:
        parse_attestation_object(vectors.attestation_bytes(vector)[:-cut])
    assert failure.value.reason == "ATTESTATION_STATEMENT_INVALID"


WRONG_FIELDS: dict[str, Callable[[dict[str, Any]], None]] = {
    "alg-missing": lambda s: s.pop("alg"),
    "alg-as-text": lambda s: s.update(alg="ES256"),
    "alg-as-bool": lambda s: s.update(alg=True),
    "alg-unknown": lambda s: s.update(alg=-999),
    "sig-missing": lambda s: s.pop("sig"),
    "sig-as-text": lambda s: s.update(sig="c2ln"),
    "sig-empty": lambda s: s.update(sig=b""),
    "x5c-as-bytes": lambda s: s.update(x5c=s["x5c"][0]),
    "x5c-empty": lambda s: s.update(x5c=[]),
    "x5c-holding-a-number": lambda s: s.update(x5c=[7]),
    "x5c-holding-garbage": lambda s: s.update(x5c=[b"\x30\x03\x02\x01"]),
}
_GARBAGE_CERT = {"x5c-holding-garbage"}


@pytest.mark.parametrize("mutation", WRONG_FIELDS, ids=list(WRONG_FIELDS))
@pytest.mark.parametrize("vector", vectors.params(
    lambda v: v["format"] in ("packed", "tpm", "android-key") and "x5c" in
    v["decoded"]["att_stmt_keys"] and v["decoded"]["aaguid"].startswith(("6d44", "0898", "b93f"))))
def test_attestation_statement_with_a_malformed_field_is_rejected(vector: Vector,
                                                                  mutation: str) -> None:
    obj = _restate(vector, WRONG_FIELDS[mutation])
    expected = "ATTESTATION_CERTIFICATE_INVALID" if mutation in _GARBAGE_CERT \
        else "ATTESTATION_STATEMENT_INVALID"
    assert _reason(obj, vectors.client_data_hash(vector)) == expected


@pytest.mark.parametrize("vector", vectors.params(lambda v: v["format"] in ("packed", "tpm")))
def test_ecdaa_statement_is_rejected_as_statement_invalid(vector: Vector) -> None:
    """ECDAA was removed from WebAuthn Level 2; no verifier accepts an ecdaaKeyId."""
    obj = _restate(vector, lambda s: s.update(ecdaaKeyId=b"\x00" * 32))
    assert _reason(obj, vectors.client_data_hash(vector)) == "ATTESTATION_STATEMENT_INVALID"


@pytest.mark.parametrize("vector", vectors.params(lambda v: v["format"] == "packed"))
def test_packed_statement_that_is_an_empty_map_is_rejected_as_statement_invalid(
        vector: Vector) -> None:
    obj = _restate(vector, lambda s: s.clear())
    assert _reason(obj, vectors.client_data_hash(vector)) == "ATTESTATION_STATEMENT_INVALID"


@pytest.mark.parametrize("fmt", ["packed-ish", "", "x" * 33, "fido-u2f-v2"])
@pytest.mark.parametrize("vector", vectors.params(lambda v: v["decoded"]["aaguid"] ==
                                                  "6d44ba9b-f6ec-2e49-b930-0c8fe920cb73"))
def test_unknown_attestation_format_is_rejected_as_format_not_accepted(vector: Vector,
                                                                       fmt: str) -> None:
    obj = _restate(vector, lambda s: None, fmt=fmt)
    assert _reason(obj, vectors.client_data_hash(vector)) == "ATTESTATION_FORMAT_NOT_ACCEPTED"


@pytest.mark.parametrize("vector", vectors.params(lambda v: v["format"] == "packed"))
def test_packed_statement_relabelled_as_none_is_rejected_as_statement_invalid(
        vector: Vector) -> None:
    obj = _restate(vector, lambda s: None, fmt="none")
    assert _reason(obj, vectors.client_data_hash(vector)) == "ATTESTATION_STATEMENT_INVALID"


@pytest.mark.parametrize("vector", vectors.params(lambda v: v["format"] == "fido-u2f"))
def test_fido_u2f_with_a_non_zero_aaguid_is_rejected_as_aaguid_mismatch(vector: Vector) -> None:
    obj = _restate(vector, lambda s: None, auth_data=_with_aaguid(vector, b"\x11" * 16))
    assert _reason(obj, vectors.client_data_hash(vector)) == "ATTESTATION_AAGUID_MISMATCH"


@pytest.mark.parametrize("vector", vectors.params(lambda v: v["format"] == "fido-u2f"))
def test_fido_u2f_with_two_certificates_is_rejected_as_statement_invalid(vector: Vector) -> None:
    obj = _restate(vector, lambda s: s.update(x5c=[s["x5c"][0], s["x5c"][0]]))
    assert _reason(obj, vectors.client_data_hash(vector)) == "ATTESTATION_STATEMENT_INVALID"


@pytest.mark.parametrize("vector", vectors.params(
    lambda v: v["format"] == "packed" and v["decoded"]["aaguid"] in (
        "6d44ba9b-f6ec-2e49-b930-0c8fe920cb73", "e1a96183-5016-4f24-b55b-e3ae23614cc6")))
def test_packed_aaguid_differing_from_the_certificates_is_rejected_as_aaguid_mismatch(
        vector: Vector) -> None:
    obj = _restate(vector, lambda s: None, auth_data=_with_aaguid(vector, b"\x22" * 16))
    assert _reason(obj, vectors.client_data_hash(vector)) == "ATTESTATION_AAGUID_MISMATCH"


@pytest.mark.parametrize("vector", vectors.params(
    lambda v: v["format"] == "packed" and "x5c" in v["decoded"]["att_stmt_keys"]))
def test_packed_alg_naming_another_key_family_is_rejected_as_statement_invalid(
        vector: Vector) -> None:
    obj = _restate(vector, lambda s: s.update(alg=-257))  # RS256 for an EC attestation key
    assert _reason(obj, vectors.client_data_hash(vector)) == "ATTESTATION_STATEMENT_INVALID"


@pytest.mark.parametrize("vector", vectors.params(
    lambda v: v["format"] == "packed" and "x5c" not in v["decoded"]["att_stmt_keys"]))
def test_self_attestation_alg_differing_from_the_credential_key_is_statement_invalid(
        vector: Vector) -> None:
    obj = _restate(vector, lambda s: s.update(alg=-257))
    assert _reason(obj, vectors.client_data_hash(vector)) == "ATTESTATION_STATEMENT_INVALID"


def _first(fmt: str, aaguid: str | None = None) -> Vector:
    return next(v for v in vectors.load() if v["format"] == fmt and
                (aaguid is None or v["decoded"]["aaguid"] == aaguid))


TPM_TAMPERING: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "ver-1.0": (lambda s: s.update(ver="1.0"), "ATTESTATION_STATEMENT_INVALID"),
    "certInfo-bad-magic": (lambda s: s.update(certInfo=b"\x00" + s["certInfo"][1:]),
                           "ATTESTATION_STATEMENT_INVALID"),
    "pubArea-truncated": (lambda s: s.update(pubArea=s["pubArea"][:-4]),
                          "ATTESTATION_STATEMENT_INVALID"),
    "aik-replaced-by-a-named-certificate": (
        lambda s: s.update(x5c=[vectors.attestation_object(
            _first("packed", "6d44ba9b-f6ec-2e49-b930-0c8fe920cb73")).att_stmt["x5c"][0]]),
        "ATTESTATION_CERTIFICATE_INVALID"),
}


@pytest.mark.parametrize("case", TPM_TAMPERING, ids=list(TPM_TAMPERING))
def test_tpm_statement_tampering_is_rejected_with_its_reason(case: str) -> None:
    vector = _first("tpm")
    change, expected = TPM_TAMPERING[case]
    assert _reason(_restate(vector, change), vectors.client_data_hash(vector)) == expected


def test_tpm_pub_area_of_another_credential_is_rejected_as_statement_invalid() -> None:
    tpms = [v for v in vectors.load() if v["format"] == "tpm"]
    other = vectors.attestation_object(tpms[1]).att_stmt["pubArea"]
    obj = _restate(tpms[0], lambda s: s.update(pubArea=other))
    assert _reason(obj, vectors.client_data_hash(tpms[0])) == "ATTESTATION_STATEMENT_INVALID"


def test_apple_leaf_without_the_nonce_extension_is_rejected_as_certificate_invalid() -> None:
    vector = _first("apple")
    yubico = vectors.attestation_object(
        _first("packed", "6d44ba9b-f6ec-2e49-b930-0c8fe920cb73")).att_stmt["x5c"][0]
    obj = _restate(vector, lambda s: s.update(x5c=[yubico]))
    assert _reason(obj, vectors.client_data_hash(vector)) == "ATTESTATION_CERTIFICATE_INVALID"


def test_android_key_leaf_of_another_credential_is_rejected() -> None:
    """Another capture's leaf: its attestationChallenge binds a different clientDataHash."""
    keys = [v for v in vectors.load() if v["format"] == "android-key"]
    other = vectors.attestation_object(keys[1]).att_stmt["x5c"]
    obj = _restate(keys[0], lambda s: s.update(x5c=other))
    assert _reason(obj, vectors.client_data_hash(keys[0])) == "ATTESTATION_NONCE_MISMATCH"
