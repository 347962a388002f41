"""The decision engine on 35 real captured registrations (tests/vectors).

Each vector is judged at its own capture site (its RP ID, origin and challenge), under a
permissive policy: attestation not enforced, all passkey types, and Windows Hello's AAGUIDs
explicitly allowed as the preview requires. The expected reason of each is written below from
its decoded flags; the engine does not get to choose.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fido2 import cbor
from fido2.utils import websafe_decode, websafe_encode

from pkconf.paths import FIXTURES
from pkconf.tenant.decision import (
    CeremonyContext,
    Decision,
    IssuedChallenge,
    RegistrationPath,
    UserContext,
)
from pkconf.tenant.engine import decide
from pkconf.tenant.policy import load_policy
from pkconf.tenant.registration import b64url_decode, parse_registration
from tests.vectors import vectors

AT = datetime(2020, 6, 1, tzinfo=UTC)  # before every leaf's notAfter

UV_MISSING = "USER_VERIFICATION_MISSING"
# index: (format, expected reason under the permissive policy)
EXPECTED = {
    0: ("none", "ACCEPTED"),
    1: ("packed", "ACCEPTED"),
    2: ("packed", UV_MISSING),  # YubiKey Ed25519 capture without UV
    3: ("fido-u2f", UV_MISSING),  # U2F never verifies the user
    4: ("fido-u2f", UV_MISSING),
    5: ("tpm", "ACCEPTED"),  # Windows Hello, allowed by the preview profile
    6: ("tpm", "ACCEPTED"),
    7: ("tpm", "ACCEPTED"),
    8: ("tpm", "ACCEPTED"),
    9: ("android-key", "CREDENTIAL_NOT_DISCOVERABLE"),  # captured with credProps.rk = false
    10: ("apple", "ACCEPTED"),
    11: ("android-safetynet", "ACCEPTED"),
    12: ("android-key", "ACCEPTED"),
    13: ("android-safetynet", "ACCEPTED"),
    14: ("android-safetynet", "ACCEPTED"),
    15: ("android-safetynet", "ACCEPTED"),  # ctsProfileMatch false: unverified when not enforced
    16: ("apple", "ACCEPTED"),
    17: ("tpm", UV_MISSING),
    18: ("tpm", "ACCEPTED"),
    19: ("tpm", "ACCEPTED"),
    20: ("tpm", UV_MISSING),
    21: ("tpm", UV_MISSING),
    # Chrome Touch ID self attestation: no certificate, refused unenforced too (rules.py)
    22: ("packed", "ATTESTATION_STATEMENT_INCOMPLETE"),
    23: ("fido-u2f", UV_MISSING),
    24: ("none", "ACCEPTED"),
    25: ("none", "ACCEPTED"),  # Windows Hello software authenticator, RS256
    26: ("none", "ACCEPTED"),
    27: ("packed", "ACCEPTED"),
    28: ("packed", "ACCEPTED"),
    29: ("packed", "ACCEPTED"),
    30: ("fido-u2f", UV_MISSING),
    31: ("apple", "ACCEPTED"),  # its response id differs from authData's credential id
    32: ("tpm", UV_MISSING),
    33: ("tpm", UV_MISSING),
    34: ("none", UV_MISSING),
}
FULL_PACKED = [1, 27, 28, 29]  # packed with an x5c chain and UV set


def judge(vector: dict[str, Any], credential: dict[str, Any] | None = None,
          policy: str = "permissive.json") -> Decision:
    challenge = b64url_decode(vector["expected_challenge"], "challenge")
    return decide(
        load_policy((FIXTURES / "policies" / policy).read_text()),
        UserContext(user_id="u1", mfa_age_seconds=30),
        RegistrationPath.SELF_SERVICE,
        parse_registration(credential or vector["credential"]),
        CeremonyContext(now=AT, challenge=IssuedChallenge(challenge, AT + timedelta(minutes=5)),
                        rp_id=vector["expected_rp_id"], origins=(vector["expected_origin"],)),
    )


def with_client_data(vector: dict[str, Any], **changes: str) -> dict[str, Any]:
    """The vector with fields of its clientDataJSON replaced (a tampered copy)."""
    credential = json.loads(json.dumps(vector["credential"]))
    raw = b64url_decode(credential["response"]["clientDataJSON"], "cd", standard_too=True)
    credential["response"]["clientDataJSON"] = websafe_encode(
        json.dumps({**json.loads(raw), **changes}).encode())
    return credential


def with_flipped_signature(vector: dict[str, Any]) -> dict[str, Any]:
    credential = json.loads(json.dumps(vector["credential"]))
    att = cbor.decode(websafe_decode(credential["response"]["attestationObject"]))
    sig = bytearray(att["attStmt"]["sig"])
    sig[-1] ^= 0x01
    att["attStmt"]["sig"] = bytes(sig)
    credential["response"]["attestationObject"] = websafe_encode(cbor.encode(att))
    return credential


def test_the_expectation_table_covers_every_vector():
    assert len(vectors()) == len(EXPECTED) == 35
    assert [v["format"] for v in vectors()] == [fmt for fmt, _ in EXPECTED.values()]


@pytest.mark.parametrize("index", sorted(EXPECTED))
def test_real_registration_decision_follows_its_flags(index):
    vector = vectors()[index]
    decision = judge(vector)
    assert decision.reason == EXPECTED[index][1], decision.to_json()
    assert decision.attestation_format == vector["decoded"]["fmt"]
    assert decision.aaguid == vector["decoded"]["aaguid"]


@pytest.mark.parametrize("index", sorted(EXPECTED))
def test_tampered_challenge_is_rejected_as_ceremony(index):
    decision = judge(vectors()[index], with_client_data(vectors()[index],
                                                        challenge=websafe_encode(b"\0" * 32)))
    assert (decision.family, decision.reason) == ("ceremony", "CHALLENGE_MISMATCH")


@pytest.mark.parametrize("index", sorted(EXPECTED))
def test_tampered_origin_is_rejected_as_ceremony(index):
    decision = judge(vectors()[index], with_client_data(vectors()[index],
                                                        origin="https://evil.example"))
    assert (decision.family, decision.reason) == ("ceremony", "ORIGIN_MISMATCH")


@pytest.mark.parametrize("index", FULL_PACKED)
def test_tampered_attestation_signature_is_rejected_where_attestation_is_enforced(index):
    vector = vectors()[index]
    untouched = judge(vector, policy="attestation-enforced.json")
    tampered = judge(vector, with_flipped_signature(vector), policy="attestation-enforced.json")
    # Untampered, the real chain is merely unknown to the (absent) metadata.
    assert untouched.reason == "ATTESTATION_UNTRUSTED"
    assert (tampered.family, tampered.reason) == ("authenticator_governance",
                                                  "ATTESTATION_SIGNATURE_INVALID")


@pytest.mark.parametrize("index", FULL_PACKED)
def test_tampered_attestation_signature_passes_where_attestation_is_not_enforced(index):
    """[INFERRED] rules.py: unenforced, a packed statement's form is read, not verified."""
    vector = vectors()[index]
    assert judge(vector, with_flipped_signature(vector)).reason == "ACCEPTED"
