"""Governance where the documents are thin: each documented choice (rules.py), on both sides."""

from __future__ import annotations

from typing import Any

import pytest
from fido2.webauthn import AuthenticatorData

from pkconf import testpki as pki
from pkconf.authenticators.statements import Defect
from pkconf.authenticators.statements.packed import PackedAttester
from pkconf.tenant import rules
from pkconf.tenant.decision import WHFB_AAGUID as WINDOWS_HELLO
from pkconf.tenant.decision import (
    ExistingCredential,
    RegistrationPath,
    UserContext,
    UserJsonError,
)

from .builders import make_response, profile, run, with_profiles

YUBIKEY_5_NFC = "2fc0579f-8113-47ea-b116-bb5a8db9202a"
CERTIFICATE = pki.vendor("yubico").root.der  # any certificate that parses
WHFB = (ExistingCredential(b"whfb", WINDOWS_HELLO, True),)
# Windows Hello explicitly allowed, so the preview's rules and GA's alike leave it to the conflict
WINDOWS_HELLO_ALLOWED = with_profiles(profile(enforced=True, kind="allow",
                                              aaguids=(WINDOWS_HELLO,)))


@pytest.mark.parametrize(("count", "reason"), [
    (0, "WINDOWS_HELLO_FOR_BUSINESS_CONFLICT"),
    (rules.WHFB_CONFLICT_MAX_PLATFORM_CREDENTIALS, "WINDOWS_HELLO_FOR_BUSINESS_CONFLICT"),
    (rules.WHFB_CONFLICT_MAX_PLATFORM_CREDENTIALS + 1, "ACCEPTED"),
])
def test_the_whfb_conflict_lifts_above_50_platform_credentials(count: int, reason: str) -> None:
    user = UserContext(mfa_age_seconds=60, existing_credentials=WHFB, platform_credentials=count)
    response = make_response(aaguid=WINDOWS_HELLO, attachment="platform", transports=("internal",))
    decision = run(WINDOWS_HELLO_ALLOWED, user=user, response=response)
    assert decision.reason == reason, decision.to_json()


def test_lifting_the_whfb_conflict_is_an_inferred_decision_that_says_why() -> None:
    count = rules.WHFB_CONFLICT_MAX_PLATFORM_CREDENTIALS + 1
    user = UserContext(mfa_age_seconds=60, existing_credentials=WHFB, platform_credentials=count)
    response = make_response(aaguid=WINDOWS_HELLO, attachment="platform", transports=("internal",))
    decision = run(WINDOWS_HELLO_ALLOWED, user=user, response=response)
    assert decision.accepted and decision.to_json()["source"]["status"] == "inferred"
    assert f"{count} platform credentials" in decision.detail


@pytest.mark.parametrize(("aaguid", "flags", "status"), [
    ("de1e552d-db1d-4423-a619-566b625cdc84", None, "inferred"),  # Authenticator: by its AAGUID
    (YUBIKEY_5_NFC, "synced", "documented"),  # a synced passkey: by its BE flag
])
def test_a_non_key_refused_for_provisioning_is_inferred_only_when_known_by_its_aaguid(
        aaguid: str, flags: str | None, status: str) -> None:
    flag = AuthenticatorData.FLAG
    be = flag.UP | flag.UV | flag.BE | flag.BS | flag.AT
    response = make_response(aaguid=aaguid, **({"flags": be} if flags else {}))
    decision = run(response=response, path=RegistrationPath.PROVISIONING)
    assert decision.reason == "PROVISIONING_AUTHENTICATOR_NOT_SUPPORTED"
    assert decision.to_json()["source"]["status"] == status


def test_platform_credentials_round_trip_through_user_json() -> None:
    user = UserContext.from_json({"platformCredentials": 51})
    assert user.platform_credentials == 51
    assert UserContext.from_json(user.to_json()) == user
    assert UserContext.from_json({}).platform_credentials == 0


@pytest.mark.parametrize("value", [-1, 1.5, True, "51"])
def test_platform_credentials_must_be_a_count(value: object) -> None:
    with pytest.raises(UserJsonError, match="platformCredentials"):
        UserContext.from_json({"platformCredentials": value})


UNENFORCED_PACKED = [
    pytest.param({"attester": PackedAttester(vendor=pki.vendor("yubico"))}, "ACCEPTED",
                 id="a-full-chain"),
    pytest.param({"attester": PackedAttester(vendor=pki.vendor("self-signed-spoofer"))},
                 "ACCEPTED", id="a-self-signed-certificate-chains-to-nothing"),
    pytest.param({"attester": PackedAttester(vendor=pki.vendor("yubico"),
                                             defect=Defect.BAD_SIGNATURE)},
                 "ACCEPTED", id="a-signature-that-does-not-verify"),
    pytest.param({"attester": PackedAttester()}, "ATTESTATION_STATEMENT_INCOMPLETE",
                 id="self-attestation-has-no-certificate"),
    pytest.param({"fmt": "packed", "att_stmt": {"alg": -7, "sig": b"s", "x5c": [b"not DER"]}},
                 "ATTESTATION_STATEMENT_INCOMPLETE", id="a-certificate-that-does-not-parse"),
    pytest.param({"fmt": "packed", "att_stmt": {"alg": -7, "x5c": [CERTIFICATE]}},
                 "ATTESTATION_STATEMENT_INCOMPLETE", id="no-signature"),
    pytest.param({"fmt": "packed", "att_stmt": {"sig": b"s", "x5c": [CERTIFICATE]}},
                 "ATTESTATION_STATEMENT_INCOMPLETE", id="no-algorithm"),
]


@pytest.mark.parametrize(("response", "reason"), UNENFORCED_PACKED)
def test_unenforced_packed_needs_its_form_and_a_complete_certificate_not_a_valid_signature(
        response: dict[str, Any], reason: str) -> None:
    decision = run(response=make_response(aaguid=YUBIKEY_5_NFC, **response))
    assert decision.reason == reason, decision.to_json()
    if reason != "ACCEPTED":
        assert (decision.family, decision.status) == ("authenticator_governance", "inferred")
