"""Fuzzing the registration path: the response parser, CBOR and COSE decoding, the attestation
verifiers and the decision on top of them. Invariant: a `Registration` and a decision, or the
project's own refusal (`MalformedRegistration`, `AttestationFailure`); never another exception,
never a hang (harness.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

import cbor2
from fido2.utils import websafe_encode
from fido2.webauthn import AuthenticatorData
from hypothesis import strategies as st

from pkconf.tenant.attestation import (
    AttestationFailure,
    parse_attestation_object,
    verify_statement,
    verify_trust,
)
from pkconf.tenant.decision import Decision, RegistrationPath
from pkconf.tenant.engine import decide
from pkconf.tenant.registration import MalformedRegistration, parse_registration
from pkconf.tenant.registration import parse_attestation_object as read_attestation_object
from tests.hostile.battery import POLICIES, USER, metadata, policy
from tests.hostile.mutations import AuthParts, Hostile
from tests.hostile.samples import sample

from .harness import fuzz
from .strategies import cbor_values, edit, edits, json_values, leaves, replaced, samples

FORMATS = ("packed", "fido-u2f", "tpm", "android-key", "android-safetynet", "apple", "none")


def decide_or_refuse(name: str, response: Any, policy_name: str) -> Decision | None:
    """The decision on `response` answering sample `name`'s ceremony; None when refused."""
    try:
        registration = parse_registration(response)
    except MalformedRegistration as e:
        assert str(e)
        return None
    return decide(policy(policy_name), USER, RegistrationPath.SELF_SERVICE, registration,
                  sample(name).ceremony, metadata=metadata())


def _with_part(name: str, field: str, raw: bytes) -> dict[str, Any]:
    h = Hostile(sample(name))
    return h.with_fields("response", field, value=websafe_encode(raw))


@fuzz("registration parser: any JSON", response=json_values)
def test_any_json_is_a_registration_or_refused(response: Any) -> None:
    try:
        parse_registration(response)
    except MalformedRegistration as e:
        assert str(e)


@fuzz("registration parser: one field replaced", name=samples, data=st.data(),
      value=json_values, policy_name=st.sampled_from(POLICIES))
def test_a_response_with_any_field_replaced_is_decided_or_refused(
        name: str, data: st.DataObject, value: Any, policy_name: str) -> None:
    response = dict(sample(name).response)
    path = data.draw(st.sampled_from(leaves(response)))
    decide_or_refuse(name, replaced(response, path, value), policy_name)


@fuzz("clientDataJSON bytes", name=samples, changes=edits,
      policy_name=st.sampled_from(POLICIES))
def test_edited_client_data_is_decided_or_refused(name: str, changes: list[tuple[int, str, bytes]],
                                                  policy_name: str) -> None:
    h = Hostile(sample(name))
    decide_or_refuse(name, _with_part(name, "clientDataJSON", edit(h.client_data_raw, changes)),
                     policy_name)


@fuzz("clientDataJSON fields", name=samples, extra=st.dictionaries(
    st.sampled_from(("type", "challenge", "origin", "crossOrigin", "topOrigin", "tokenBinding",
                     "other")), json_values, max_size=4), policy_name=st.sampled_from(POLICIES))
def test_client_data_with_hostile_fields_is_decided_or_refused(
        name: str, extra: dict[str, Any], policy_name: str) -> None:
    h = Hostile(sample(name))
    decide_or_refuse(name, h.with_client_data({**h.client_data(), **extra}), policy_name)


@fuzz("attestationObject bytes", name=samples, changes=edits,
      policy_name=st.sampled_from(POLICIES))
def test_edited_attestation_object_is_decided_or_refused(
        name: str, changes: list[tuple[int, str, bytes]], policy_name: str) -> None:
    h = Hostile(sample(name))
    raw = edit(cbor2.dumps(h.att), changes)
    decide_or_refuse(name, _with_part(name, "attestationObject", raw), policy_name)


@fuzz("authData bytes", name=samples, changes=edits, policy_name=st.sampled_from(POLICIES))
def test_edited_auth_data_is_decided_or_refused(
        name: str, changes: list[tuple[int, str, bytes]], policy_name: str) -> None:
    h = Hostile(sample(name))
    decide_or_refuse(name, h.with_auth_data(edit(h.auth_data, changes)), policy_name)


@fuzz("CBOR decoding", value=cbor_values | st.binary(max_size=300))
def test_any_cbor_is_an_attestation_object_or_its_own_failure(value: Any) -> None:
    raw = value if isinstance(value, bytes) else cbor2.dumps(value)
    try:
        parse_attestation_object(raw)
    except AttestationFailure as e:
        assert e.detail
    try:
        read_attestation_object(raw)
    except MalformedRegistration as e:
        assert str(e)


COSE_KEYS = st.dictionaries(  # COSE key maps: RFC 9052 §7 labels, values of any kind
    st.sampled_from((1, 3, -1, -2, -3, 2, 4)),
    st.integers(-300, 300) | st.binary(max_size=300) | st.text(max_size=4) | st.none(),
    max_size=6)


@fuzz("COSE key decoding", name=samples, key=cbor_values | COSE_KEYS,
      policy_name=st.sampled_from(POLICIES))
def test_any_credential_key_is_decided_or_refused(name: str, key: Any, policy_name: str) -> None:
    h = Hostile(sample(name))
    parts = h.parts()
    parts.key = key
    decide_or_refuse(name, h.with_auth_data(parts), policy_name)


def _auth_data(name: str) -> bytes:
    return Hostile(sample(name)).auth_data


STATEMENT = st.dictionaries(
    st.sampled_from(("alg", "sig", "x5c", "ver", "response", "certInfo", "pubArea", "ecdaaKeyId")),
    cbor_values | st.lists(st.binary(max_size=400), max_size=3), max_size=6)


@fuzz("attestation verifiers", fmt=st.sampled_from(FORMATS), name=samples, statement=STATEMENT,
      real=st.booleans(), changes=edits)
def test_any_statement_is_verified_or_fails_as_attestation_failure(
        fmt: str, name: str, statement: dict[str, Any], real: bool,
        changes: list[tuple[int, str, bytes]]) -> None:
    """A statement of each format built of hostile fields, or a real one with its certificate
    bytes edited; verify_trust runs on whatever verifies."""
    h = Hostile(sample(name))
    if real:
        fmt, statement = h.att["fmt"], dict(h.att["attStmt"])
        if isinstance(statement.get("x5c"), list) and statement["x5c"]:
            statement["x5c"] = [edit(bytes(statement["x5c"][0]), changes),
                                *statement["x5c"][1:]]
    auth = AuthenticatorData(h.auth_data)
    cdh = sha256(h.client_data_raw).digest()
    try:
        raw = cbor2.dumps({"fmt": fmt, "attStmt": statement, "authData": bytes(auth)})
        verified = verify_statement(parse_attestation_object(raw), cdh, at=datetime.now(UTC))
        assert auth.credential_data is not None
        loaded = metadata()
        if loaded is not None:
            verify_trust(verified, str(auth.credential_data.aaguid), loaded, datetime.now(UTC))
    except AttestationFailure as e:
        assert e.detail


@fuzz("authData parts", name=samples, flags=st.integers(0, 255), rest=cbor_values,
      policy_name=st.sampled_from(POLICIES))
def test_any_flags_and_extensions_are_decided_or_refused(name: str, flags: int, rest: Any,
                                                         policy_name: str) -> None:
    h = Hostile(sample(name))
    parts: AuthParts = h.parts()
    parts.flags, parts.rest = flags, cbor2.dumps(rest) if flags & 0x80 else b""
    decide_or_refuse(name, h.with_auth_data(parts), policy_name)


def test_the_json_strategy_reaches_the_parser_with_objects() -> None:
    """A sanity check of the harness: a valid sample passes through the same helper."""
    decision = decide_or_refuse("packed-full", json.loads(json.dumps(sample("packed-full")
                                                                     .response)), "permissive")
    assert decision is not None and decision.reason == "ACCEPTED"
