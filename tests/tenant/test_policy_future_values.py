"""Graph's unknownFutureValue: tolerated with a warning and read as the strictest known value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pkconf.cli import main
from pkconf.tenant.policy import FUTURE_VALUE_READING, parse_policy

from .builders import DEFAULT_PROFILE, make_policy, make_response, profile, run, with_profiles
from .test_cli_verify import FRESH_MEMBER, verify

FUTURE = "unknownFutureValue"
ALLOWED_AAGUID = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
OTHER_AAGUID = "ee041bce-25e5-4cdb-8f86-897fd6418464"


def future_restrictions(aaguids: tuple[str, ...] = (ALLOWED_AAGUID,)) -> dict[str, Any]:
    return {**profile(enforced=True, aaguids=aaguids),
            "keyRestrictions": {"isEnforced": True, "enforcementType": FUTURE,
                                "aaGuids": list(aaguids)}}


FUTURE_POLICIES = {
    "passkeyTypes": with_profiles(profile(types=f"deviceBound,{FUTURE}")),
    "attestationEnforcement": with_profiles(profile(attestation=FUTURE)),
    "enforcementType": with_profiles(future_restrictions()),
    "targetType": make_policy(includeTargets=[{"id": "all_users", "targetType": FUTURE,
                                               "isRegistrationRequired": False,
                                               "allowedPasskeyProfiles": [DEFAULT_PROFILE]}]),
}


@pytest.mark.parametrize("key", sorted(FUTURE_VALUE_READING))
def test_unknown_future_value_is_a_warning_with_its_json_path_not_an_invalid_policy(
        key: str) -> None:
    policy = parse_policy(FUTURE_POLICIES[key])
    [(path, message)] = policy.warnings
    assert path.endswith(f".{key}") and FUTURE in message and "[INFERRED]" in message


def test_a_policy_without_unknown_future_value_has_no_warnings() -> None:
    assert parse_policy(make_policy()).warnings == ()


@pytest.mark.parametrize(("policy", "response", "reason"), [
    pytest.param("attestationEnforcement", {}, "ATTESTATION_REQUIRED",
                 id="enforcement-read-as-registrationOnly"),
    pytest.param("enforcementType", {"aaguid": OTHER_AAGUID}, "AAGUID_NOT_ALLOWED",
                 id="key-list-read-as-allow-refuses-an-unlisted-aaguid"),
    pytest.param("enforcementType", {"aaguid": ALLOWED_AAGUID}, "ACCEPTED",
                 id="key-list-read-as-allow-admits-a-listed-aaguid"),
    pytest.param("passkeyTypes", {}, "ACCEPTED", id="known-types-still-apply"),
    pytest.param("targetType", {}, "ACCEPTED", id="target-matched-by-its-id"),
])
def test_unknown_future_value_is_read_as_the_strictest_known_value(
        policy: str, response: dict[str, Any], reason: str) -> None:
    decision = run(FUTURE_POLICIES[policy], response=make_response(**response))
    assert decision.reason == reason, decision.to_json()


def test_a_passkey_type_named_only_by_unknown_future_value_admits_nothing() -> None:
    decision = run(with_profiles(profile(types=FUTURE)))
    assert decision.reason == "PASSKEY_TYPE_NOT_ALLOWED"
    assert f"passkeyTypes {FUTURE}" in decision.detail and "ignored" in decision.detail


def test_a_rejection_by_a_profile_read_from_unknown_future_value_says_so() -> None:
    decision = run(FUTURE_POLICIES["attestationEnforcement"])
    assert "attestationEnforcement unknownFutureValue" in decision.detail
    assert "read as 'registrationOnly'" in decision.detail
    assert decision.to_json()["source"]["status"] == "inferred"


def test_an_acceptance_by_a_profile_read_from_unknown_future_value_is_inferred() -> None:
    decision = run(FUTURE_POLICIES["enforcementType"],
                   response=make_response(aaguid=ALLOWED_AAGUID))
    assert decision.accepted and "enforcementType unknownFutureValue" in decision.detail
    assert decision.to_json()["source"]["status"] == "inferred"


def written(tmp_path: Path, name: str, content: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(content))
    return path


def test_verify_prints_each_warning_on_stderr_and_still_decides(capsys, tmp_path: Path) -> None:
    policy = written(tmp_path, "future.json", FUTURE_POLICIES["passkeyTypes"])
    assert verify(lambda name, content: str(written(tmp_path, name, content)), make_response(),
                  policy=policy) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [f"warning: policy {policy}: $.passkeyProfiles[0].passkeyTypes: {FUTURE} "
                   "(a value newer than this model) is ignored [INFERRED]"]


def test_decide_prints_the_warning_and_the_emulator_accepts_the_policy(capsys,
                                                                       tmp_path: Path) -> None:
    policy = written(tmp_path, "future.json",
                     with_profiles(future_restrictions(aaguids=(OTHER_AAGUID,))))
    user = written(tmp_path, "user.json", FRESH_MEMBER)
    assert main(["decide", "--policy", str(policy), "--user", str(user),
                 "--profile", "yubikey-5-usb"]) == 1  # its AAGUID is not on the list
    captured = capsys.readouterr()
    assert "keyRestrictions.enforcementType" in captured.err
    assert "AAGUID_NOT_ALLOWED" in captured.out
