"""The policy model reads Graph's fido2 configuration exactly, or says where it cannot."""

from __future__ import annotations

import json

import pytest

from pkconf.tenant.policy import LEGACY_PROFILE_ID, PolicyError, load_policy, parse_policy

from .builders import BASE_POLICY, DEFAULT_PROFILE, make_policy, profile

# [DOC S5] the legacy PATCH body that allow-lists the Microsoft Authenticator AAGUIDs
LEGACY_AUTHENTICATOR_ALLOW = {
    "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
    "state": "enabled",
    "isSelfServiceRegistrationAllowed": True,
    "includeTargets": [{"id": "all_users", "targetType": "group", "isRegistrationRequired": False}],
    "isAttestationEnforced": False,
    "keyRestrictions": {"isEnforced": True, "enforcementType": "allow",
                        "aaGuids": ["90a3ccdf-635c-4729-a248-9b709135078f",
                                    "de1e552d-db1d-4423-a619-566b625cdc84"]},
}


def problems_of(obj: object) -> list[tuple[str, str]]:
    with pytest.raises(PolicyError) as e:
        parse_policy(obj)
    return e.value.problems


class TestProfilesForm:
    def test_documented_patch_example_loads_with_its_default_profile(self):
        policy = parse_policy(BASE_POLICY)
        assert policy.enabled and policy.self_service_allowed and not policy.legacy
        assert policy.default_profile == DEFAULT_PROFILE
        (p,) = policy.profiles
        assert p.passkey_types == {"deviceBound", "synced"}
        assert p.attestation_enforcement == "disabled"
        assert not p.key_restrictions.is_enforced

    def test_passkey_types_are_read_from_the_comma_string(self):
        policy = parse_policy(make_policy(passkeyProfiles=[profile(types="deviceBound")]))
        assert policy.profiles[0].passkey_types == {"deviceBound"}

    def test_aaguids_are_compared_in_lower_case(self):
        p = profile(enforced=True, aaguids=("CB69481E-8FF7-4039-93EC-0A2729A154A8",))
        restrictions = parse_policy(make_policy(passkeyProfiles=[p])).profiles[0].key_restrictions
        assert restrictions.aaguids == {"cb69481e-8ff7-4039-93ec-0a2729a154a8"}

    def test_unknown_fields_are_tolerated(self):
        policy = parse_policy(make_policy(someFutureField={"x": 1},
                                          passkeyProfiles=[{**profile(), "newKnob": True}]))
        assert policy.profiles[0].id == DEFAULT_PROFILE

    def test_targets_scope_the_union_of_their_profiles(self):
        admin = "11111111-1111-1111-1111-111111111111"
        policy = parse_policy(make_policy(
            passkeyProfiles=[profile(), profile(admin)],
            includeTargets=[
                {"id": "admins", "targetType": "group", "isRegistrationRequired": False,
                 "allowedPasskeyProfiles": [admin]},
                {"id": "all_users", "targetType": "group", "isRegistrationRequired": False,
                 "allowedPasskeyProfiles": [DEFAULT_PROFILE]},
            ]))
        targets = policy.matching_targets({"admins"})
        assert [p.id for p in policy.scoped_profiles(targets)] == [DEFAULT_PROFILE, admin]
        assert [p.id for p in policy.scoped_profiles(policy.matching_targets(set()))] == [
            DEFAULT_PROFILE]


class TestLegacyForm:
    def test_legacy_policy_becomes_one_implicit_profile(self):
        policy = parse_policy(LEGACY_AUTHENTICATOR_ALLOW)
        assert policy.legacy
        (p,) = policy.profiles
        assert p.id == LEGACY_PROFILE_ID
        assert p.key_restrictions.enforcement_type == "allow"
        assert "de1e552d-db1d-4423-a619-566b625cdc84" in p.key_restrictions.aaguids

    def test_legacy_without_attestation_already_allows_synced_passkeys(self):
        assert parse_policy(LEGACY_AUTHENTICATOR_ALLOW).profiles[0].passkey_types == {
            "deviceBound", "synced"}

    def test_legacy_attestation_enforced_maps_to_registration_only_device_bound(self):
        p = parse_policy({**LEGACY_AUTHENTICATOR_ALLOW, "isAttestationEnforced": True}).profiles[0]
        assert p.attestation_enforcement == "registrationOnly"
        assert p.passkey_types == {"deviceBound"}


class TestInvalidPoliciesAreReportedWithTheirJsonPath:
    @pytest.mark.parametrize(
        ("patch", "path", "words"),
        [
            ({"state": "on"}, "$.state", "unknown value 'on'"),
            ({"state": True}, "$.state", "must be a string"),
            ({"isSelfServiceRegistrationAllowed": "yes"}, "$.isSelfServiceRegistrationAllowed",
             "must be a boolean"),
            ({"passkeyProfiles": [profile(attestation="always")]},
             "$.passkeyProfiles[0].attestationEnforcement", "unknown value 'always'"),
            ({"passkeyProfiles": [profile(types="deviceBound,cloud")]},
             "$.passkeyProfiles[0].passkeyTypes", "unknown passkey type 'cloud'"),
            ({"passkeyProfiles": [profile(kind="deny")]},
             "$.passkeyProfiles[0].keyRestrictions.enforcementType", "unknown value 'deny'"),
            ({"passkeyProfiles": [profile(aaguids=("not-a-guid",))]},
             "$.passkeyProfiles[0].keyRestrictions.aaGuids[0]", "malformed AAGUID"),
            ({"passkeyProfiles": [profile(aaguids=("cb69481e8ff7403993ec0a2729a154a8",))]},
             "$.passkeyProfiles[0].keyRestrictions.aaGuids[0]", "malformed AAGUID"),
            ({"passkeyProfiles": [{k: v for k, v in profile().items() if k != "keyRestrictions"}]},
             "$.passkeyProfiles[0].keyRestrictions", "is required"),
            ({"passkeyProfiles": [profile(), profile("2" * 8 + "-0000-0000-0000-000000000000"),
                                  profile("3" * 8 + "-0000-0000-0000-000000000000"),
                                  profile("4" * 8 + "-0000-0000-0000-000000000000")]},
             "$.passkeyProfiles", "at most 3"),
            ({"passkeyProfiles": [profile(), profile()]}, "$.passkeyProfiles",
             "appears more than once"),
            ({"includeTargets": [{"id": "all_users", "targetType": "group",
                                  "allowedPasskeyProfiles": ["missing-profile"]}]},
             "$.includeTargets[0].allowedPasskeyProfiles", "'missing-profile', which is not"),
            ({"defaultPasskeyProfile": "missing-profile"}, "$.defaultPasskeyProfile",
             "which is not in passkeyProfiles"),
            ({"includeTargets": [{"id": "all_users", "targetType": "device",
                                  "allowedPasskeyProfiles": [DEFAULT_PROFILE]}]},
             "$.includeTargets[0].targetType", "unknown value 'device'"),
            ({"includeTargets": "all_users"}, "$.includeTargets", "must be an array"),
            ({"excludeTargets": [42]}, "$.excludeTargets[0]", "must be an object"),
        ],
    )
    def test_invalid_value_is_reported_at_its_path(self, patch, path, words):
        problems = problems_of(make_policy(**patch))
        assert any(p == path and words in msg for p, msg in problems), problems

    def test_missing_state_is_not_guessed(self):
        obj = make_policy()
        del obj["state"]
        assert ("$.state", "is required") in problems_of(obj)

    def test_every_problem_is_reported_not_only_the_first(self):
        problems = problems_of(make_policy(state="on", isSelfServiceRegistrationAllowed=1))
        assert {p for p, _ in problems} == {"$.state", "$.isSelfServiceRegistrationAllowed"}

    def test_policy_over_20_kb_is_refused(self):
        many = tuple(f"{i:08x}-0000-4000-8000-000000000000" for i in range(600))
        problems = problems_of(make_policy(passkeyProfiles=[profile(enforced=True,
                                                                    aaguids=many)]))
        assert problems[0][0] == "$" and "over the 20 KB limit" in problems[0][1]

    @pytest.mark.parametrize("text", ["", "{", "[1, 2]", "null", '"policy"', "\xff",
                                      "[" * 100_000, '{"state":' * 5_000])
    def test_unreadable_policy_text_is_a_policy_error(self, text):
        with pytest.raises(PolicyError) as e:
            load_policy(text)
        assert e.value.problems[0][0] == "$"

    def test_policy_error_message_names_each_path(self):
        with pytest.raises(PolicyError, match=r"\$\.state: unknown value"):
            load_policy(json.dumps(make_policy(state="paused")))
