"""The decision engine, one class per policy knob or rule family.

Every expected outcome is written here, from entra-facts.md, never computed by the engine.
"""

from __future__ import annotations

from datetime import date

import pytest
from fido2 import cbor
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import AttestedCredentialData, AuthenticatorData

from pkconf.tenant import rules
from pkconf.tenant.decision import (
    ExistingCredential,
    RegistrationPath,
    TemporaryAccessPass,
    UserContext,
    UserType,
)
from pkconf.tenant.rules import Cloud, RuleBook

from .builders import (
    DEFAULT_PROFILE,
    FLAG,
    ceremony,
    client_data_json,
    make_policy,
    make_response,
    profile,
    run,
    with_client_data,
    with_profiles,
)

YUBIKEY_5 = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
TITAN_V2 = "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3"
WINDOWS_HELLO = (
    "08987058-cadc-4b81-b6e1-30de50dcbe96",
    "9ddd1817-af5a-4672-a2b9-3e3dd95000a9",
    "6028b017-b1d4-4c02-b4b3-afcdafc96bb2",
)
AUTHENTICATOR_IOS = "90a3ccdf-635c-4729-a248-9b709135078f"
OTHER_PROFILE = "22222222-2222-2222-2222-222222222222"
SYNCED_FLAGS = FLAG.UP | FLAG.UV | FLAG.BE | FLAG.BS | FLAG.AT
PLATFORM = {"transports": ("internal",), "attachment": "platform"}
PREVIEW = RuleBook(date(2026, 3, 20))  # before Windows Hello GA, worldwide
GA = RuleBook(date(2026, 11, 29))


def _int(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _with_authenticator_extensions(response: dict, extensions: object) -> dict:
    """The response with `extensions` CBOR-encoded after the credential data, ED set."""
    att = cbor.decode(websafe_decode(response["response"]["attestationObject"]))
    auth_data = bytearray(att["authData"])
    auth_data[32] |= FLAG.ED
    att["authData"] = bytes(auth_data) + cbor.encode(extensions)
    response["response"]["attestationObject"] = websafe_encode(cbor.encode(att))
    return response


def member(**kw) -> UserContext:
    return UserContext(**{"user_id": "u1", "mfa_age_seconds": 60, **kw})


def assert_rejected(decision, family: str, reason: str) -> None:
    assert (decision.outcome, decision.family, decision.reason) == ("rejected", family, reason), (
        decision.to_json())


def assert_accepted(decision) -> None:
    assert decision.outcome == "accepted", decision.to_json()
    assert decision.family is None and decision.reason == "ACCEPTED"


class TestMethodState:
    def test_disabled_method_is_rejected_as_policy_scope(self):
        assert_rejected(run(make_policy(state="disabled")), "policy_scope", "METHOD_DISABLED")

    def test_enabled_method_with_defaults_accepts_a_verified_key(self):
        assert_accepted(run())


class TestExclusion:
    def test_excluded_user_is_rejected_even_when_included(self):
        policy = make_policy(excludeTargets=[{"id": "blocked", "targetType": "group"}])
        decision = run(policy, user=member(groups=frozenset({"blocked"})))
        assert_rejected(decision, "policy_scope", "USER_EXCLUDED")

    def test_exclusion_beats_an_explicit_include_of_the_same_group(self):
        policy = make_policy(
            excludeTargets=[{"id": "pilots", "targetType": "group"}],
            includeTargets=[{"id": "pilots", "targetType": "group",
                             "allowedPasskeyProfiles": [DEFAULT_PROFILE]}])
        decision = run(policy, user=member(groups=frozenset({"pilots"})))
        assert_rejected(decision, "policy_scope", "USER_EXCLUDED")

    def test_exclusion_of_another_group_does_not_touch_the_user(self):
        policy = make_policy(excludeTargets=[{"id": "blocked", "targetType": "group"}])
        assert_accepted(run(policy, user=member(groups=frozenset({"staff"}))))


class TestTargeting:
    PILOTS_ONLY = make_policy(includeTargets=[
        {"id": "pilots", "targetType": "group", "allowedPasskeyProfiles": [DEFAULT_PROFILE]}])

    def test_user_outside_every_target_is_rejected_as_not_targeted(self):
        decision = run(self.PILOTS_ONLY, user=member(groups=frozenset({"staff"})))
        assert_rejected(decision, "policy_scope", "USER_NOT_TARGETED")

    def test_member_of_a_targeted_group_is_in_scope(self):
        assert_accepted(run(self.PILOTS_ONLY, user=member(groups=frozenset({"pilots"}))))

    def test_user_target_by_object_id_is_in_scope(self):
        policy = make_policy(includeTargets=[
            {"id": "u1", "targetType": "user", "allowedPasskeyProfiles": [DEFAULT_PROFILE]}])
        assert_accepted(run(policy))

    def test_target_with_no_profiles_scopes_nothing_and_is_not_padded_with_the_default(self):
        policy = make_policy(includeTargets=[
            {"id": "all_users", "targetType": "group", "allowedPasskeyProfiles": []}])
        decision = run(policy)
        assert_rejected(decision, "policy_scope", "NO_PASSKEY_PROFILE")
        assert decision.to_json()["source"]["status"] == "inferred"


class TestSelfServiceSwitch:
    @pytest.mark.parametrize("path", list(RegistrationPath))
    def test_self_service_off_blocks_security_info_and_graph_provisioning(self, path):
        decision = run(make_policy(isSelfServiceRegistrationAllowed=False), path=path)
        assert_rejected(decision, "policy_scope", "SELF_SERVICE_DISABLED")


class TestGuests:
    @pytest.mark.parametrize("path", list(RegistrationPath))
    def test_guest_user_is_rejected_as_unsupported(self, path):
        decision = run(user=member(user_type=UserType.GUEST), path=path)
        assert_rejected(decision, "policy_scope", "GUEST_NOT_SUPPORTED")


class TestRuleOrder:
    """The first failing rule, in Entra's order, decides."""

    def test_disabled_method_is_reported_before_exclusion(self):
        policy = make_policy(state="disabled", excludeTargets=[{"id": "all_users"}])
        assert run(policy).reason == "METHOD_DISABLED"

    def test_exclusion_is_reported_before_guest_status(self):
        policy = make_policy(excludeTargets=[{"id": "all_users"}])
        assert run(policy, user=member(user_type=UserType.GUEST)).reason == "USER_EXCLUDED"

    def test_self_service_switch_is_reported_before_guest_status(self):
        policy = make_policy(isSelfServiceRegistrationAllowed=False)
        decision = run(policy, user=member(user_type=UserType.GUEST))
        assert decision.reason == "SELF_SERVICE_DISABLED"

    def test_guest_status_is_reported_before_stale_mfa(self):
        user = member(user_type=UserType.GUEST, mfa_age_seconds=3600)
        assert run(user=user).reason == "GUEST_NOT_SUPPORTED"

    def test_stale_mfa_is_reported_before_ceremony_problems(self):
        decision = run(user=member(mfa_age_seconds=3600), response=make_response(origin="x"))
        assert decision.reason == "MFA_STALE"

    def test_ceremony_problems_are_reported_before_profile_problems(self):
        policy = with_profiles(profile(types="deviceBound"))
        decision = run(policy, response=make_response(flags=SYNCED_FLAGS, origin="https://x"))
        assert decision.reason == "ORIGIN_MISMATCH"


class TestBootstrap:
    @pytest.mark.parametrize("age", [0, 299, 300])
    def test_mfa_within_five_minutes_allows_registration(self, age):
        assert_accepted(run(user=member(mfa_age_seconds=age)))

    @pytest.mark.parametrize("age", [301, 3600])
    def test_mfa_older_than_five_minutes_is_rejected_as_bootstrap(self, age):
        assert_rejected(run(user=member(mfa_age_seconds=age)), "bootstrap", "MFA_STALE")

    def test_no_mfa_at_all_is_rejected_as_mfa_required(self):
        decision = run(user=member(mfa_age_seconds=None))
        assert_rejected(decision, "bootstrap", "MFA_REQUIRED")

    @pytest.mark.parametrize("age", [0, 300, 599, 600])
    def test_one_time_tap_allows_registration_for_ten_minutes(self, age):
        tap = TemporaryAccessPass(is_usable_once=True, age_seconds=age)
        assert_accepted(run(user=member(mfa_age_seconds=None, tap=tap)))

    def test_one_time_tap_after_ten_minutes_is_rejected_as_tap_expired(self):
        tap = TemporaryAccessPass(is_usable_once=True, age_seconds=601)
        decision = run(user=member(mfa_age_seconds=None, tap=tap))
        assert_rejected(decision, "bootstrap", "TAP_EXPIRED")

    def test_multi_use_tap_window_is_reported_as_inferred_and_one_time_as_documented(self):
        multi = TemporaryAccessPass(is_usable_once=False, age_seconds=301)
        once = TemporaryAccessPass(is_usable_once=True, age_seconds=601)
        statuses = [run(user=member(mfa_age_seconds=None, tap=tap)).to_json()["source"]["status"]
                    for tap in (multi, once)]
        assert statuses == ["inferred", "documented"]

    def test_multi_use_tap_sign_in_counts_as_mfa_for_five_minutes(self):
        fresh = TemporaryAccessPass(is_usable_once=False, age_seconds=300)
        stale = TemporaryAccessPass(is_usable_once=False, age_seconds=301)
        assert_accepted(run(user=member(mfa_age_seconds=None, tap=fresh)))
        assert_rejected(run(user=member(mfa_age_seconds=None, tap=stale)), "bootstrap",
                        "MFA_STALE")

    @pytest.mark.parametrize("path", [RegistrationPath.SELF_SERVICE, RegistrationPath.GRAPH_ME])
    @pytest.mark.parametrize("age", [301, 601, 8 * 3600])
    def test_a_valid_multi_use_tap_is_never_called_expired(self, path, age):
        """Its 10 minutes "doesn't apply": past the MFA window the pass signs the user in again."""
        tap = TemporaryAccessPass(is_usable_once=False, age_seconds=age)
        decision = run(user=member(mfa_age_seconds=None, tap=tap), path=path)
        assert decision.reason != "TAP_EXPIRED" and "expired" not in decision.detail
        assert decision.status == "inferred" or decision.accepted

    @pytest.mark.parametrize(("tap", "blocker"), [
        (TemporaryAccessPass(is_usable_once=True, age_seconds=15 * 60), {}),
        (TemporaryAccessPass(is_usable_once=False, age_seconds=3600), {}),
        (TemporaryAccessPass(is_usable_once=True, age_seconds=60), {"in_tap_policy": False}),
        (TemporaryAccessPass(is_usable_once=True, age_seconds=60),
         {"registration_interrupt": True}),
    ])
    def test_fresh_mfa_bootstraps_despite_a_stale_or_blocked_tap(self, tap, blocker):
        assert_accepted(run(user=member(mfa_age_seconds=30, tap=tap, **blocker)))

    def test_a_fresh_one_time_tap_bootstraps_despite_stale_mfa(self):
        tap = TemporaryAccessPass(is_usable_once=True, age_seconds=120)
        assert_accepted(run(user=member(mfa_age_seconds=900, tap=tap)))

    def test_with_no_path_satisfied_the_tap_sign_in_is_what_is_reported(self):
        tap = TemporaryAccessPass(is_usable_once=True, age_seconds=601)
        assert_rejected(run(user=member(mfa_age_seconds=900, tap=tap)), "bootstrap",
                        "TAP_EXPIRED")

    @pytest.mark.parametrize(("blocker", "reason"), [
        ({"in_tap_policy": False}, "TAP_NOT_IN_POLICY"),
        ({"registration_interrupt": True}, "TAP_INTERRUPT_MODE"),
        ({"in_tap_policy": False, "registration_interrupt": True}, "TAP_NOT_IN_POLICY"),
    ])
    @pytest.mark.parametrize("once", [True, False])
    def test_a_tap_sign_in_needs_the_tap_policy_and_no_registration_interrupt(
            self, blocker, reason, once):
        tap = TemporaryAccessPass(is_usable_once=once, age_seconds=60)
        decision = run(user=member(mfa_age_seconds=None, tap=tap, **blocker))
        assert_rejected(decision, "bootstrap", reason)
        assert decision.status == "documented"

    @pytest.mark.parametrize("user", [
        member(conditional_access_unmet=True),
        member(conditional_access_unmet=True, mfa_age_seconds=None,
               tap=TemporaryAccessPass(is_usable_once=True, age_seconds=60)),
    ], ids=["fresh-mfa", "fresh-tap"])
    def test_unmet_conditional_access_on_register_security_info_blocks_every_path(self, user):
        assert_rejected(run(user=user), "bootstrap", "CONDITIONAL_ACCESS_UNMET")
        assert_accepted(run(user=user, path=RegistrationPath.PROVISIONING))

    @pytest.mark.parametrize(("age", "reason"), [
        (9 * 60, None), (600, None), (601, "GRAPH_SESSION_STALE"), (11 * 60, "GRAPH_SESSION_STALE"),
    ])
    @pytest.mark.parametrize("multi_use_tap", [False, True])
    def test_graph_me_needs_authentication_within_ten_minutes(self, age, reason, multi_use_tap):
        user = (member(mfa_age_seconds=None,
                       tap=TemporaryAccessPass(is_usable_once=False, age_seconds=age))
                if multi_use_tap else member(mfa_age_seconds=age))
        decision = run(user=user, path=RegistrationPath.GRAPH_ME)
        if reason is None:
            assert_accepted(decision)
        else:
            assert_rejected(decision, "bootstrap", reason)

    @pytest.mark.parametrize(("user", "reason"), [
        (member(mfa_age_seconds=None), "MFA_REQUIRED"),
        (member(conditional_access_unmet=True), "CONDITIONAL_ACCESS_UNMET"),
    ])
    def test_graph_me_applies_the_security_info_rules_by_inference(self, user, reason):
        decision = run(user=user, path=RegistrationPath.GRAPH_ME)
        assert_rejected(decision, "bootstrap", reason)
        assert decision.status == "inferred"

    def test_admin_provisioning_does_not_need_the_users_mfa(self):
        decision = run(user=member(mfa_age_seconds=None), path=RegistrationPath.PROVISIONING)
        assert_accepted(decision)


class TestCeremonyIntegrity:
    @pytest.mark.parametrize(
        ("response", "context", "reason"),
        [
            ({"type_": "webauthn.get"}, {}, "CLIENT_DATA_TYPE_INVALID"),
            ({"challenge": b"x" * 32}, {}, "CHALLENGE_MISMATCH"),
            ({}, {"challenge": None}, "CHALLENGE_MISMATCH"),
            ({}, {"expires_in": 0}, "CHALLENGE_EXPIRED"),
            ({}, {"expires_in": -1}, "CHALLENGE_EXPIRED"),
            ({}, {"used": True}, "CHALLENGE_REUSED"),
            ({"origin": "https://login.microsoftonline.com"}, {}, "ORIGIN_MISMATCH"),
            ({"origin": "https://login.microsoft.com:8443"}, {}, "ORIGIN_MISMATCH"),
            ({"rp_id": "microsoft.com"}, {}, "RP_ID_HASH_MISMATCH"),
            ({"flags": FLAG.UV | FLAG.AT}, {}, "USER_PRESENCE_MISSING"),
            ({"flags": FLAG.UP | FLAG.AT}, {}, "USER_VERIFICATION_MISSING"),
            ({"alg": -8}, {}, "ALGORITHM_UNSUPPORTED"),
            ({"alg": -35}, {}, "ALGORITHM_UNSUPPORTED"),
            ({"extensions": {"credProps": {"rk": False}}}, {}, "CREDENTIAL_NOT_DISCOVERABLE"),
            ({"flags": FLAG.UP | FLAG.UV | FLAG.AT | FLAG.BS}, {}, "AUTHENTICATOR_DATA_INVALID"),
        ],
    )
    def test_broken_ceremony_is_rejected_with_its_reason(self, response, context, reason):
        decision = run(response=make_response(**response), context=ceremony(**context))
        assert_rejected(decision, "ceremony", reason)

    def test_challenge_is_valid_until_just_before_its_expiry(self):
        assert_accepted(run(context=ceremony(expires_in=0.001)))

    def test_the_security_info_origin_is_not_one_of_the_rule_books_origins(self):
        """Only the emulator's page adds it, for its own requests (pkconf/emulator/pages.py)."""
        decision = run(response=make_response(origin="https://mysignins.microsoft.com"))
        assert_rejected(decision, "ceremony", "ORIGIN_MISMATCH")

    def test_rs256_credential_key_is_supported(self):
        assert_accepted(run(response=make_response(alg=-257)))

    def test_missing_cred_props_is_accepted_because_residency_is_unknown(self):
        assert_accepted(run(response=make_response(extensions={})))

    @pytest.mark.parametrize(("alg", "mangle"), [
        pytest.param(-7, lambda k: k.pop(1), id="no-key-type"),
        pytest.param(-7, lambda k: k.update({-2: b"\x01", -3: b"\x02"}), id="short-coordinates"),
        pytest.param(-7, lambda k: k.update({-3: bytes(32)}), id="point-off-the-curve"),
        pytest.param(-7, lambda k: k.update({-1: 2}), id="p384-under-es256"),
        # RFC 8017 §3.1: n is a product of odd primes, so odd; e is odd, 3 <= e < n
        pytest.param(-257, lambda k: k.update({-1: _int_bytes(_int(k[-1]) - 1)}),
                     id="rsa-even-modulus"),
        pytest.param(-257, lambda k: k.update({-2: k[-1]}), id="rsa-exponent-equal-to-modulus"),
        pytest.param(-257, lambda k: k.update({-2: _int_bytes(_int(k[-1]) + 2)}),
                     id="rsa-exponent-above-modulus"),
        pytest.param(-257, lambda k: k.update({-2: b"\x01"}), id="rsa-exponent-one"),
    ])
    def test_credential_key_no_sign_in_could_verify_is_rejected(self, alg, mangle):
        response = make_response(alg=alg)
        att = cbor.decode(websafe_decode(response["response"]["attestationObject"]))
        auth = AuthenticatorData(att["authData"])
        key = dict(auth.credential_data.public_key)
        mangle(key)
        cred = AttestedCredentialData.create(auth.credential_data.aaguid,
                                             auth.credential_data.credential_id, key)
        att["authData"] = AuthenticatorData.create(auth.rp_id_hash, auth.flags, 0, cred)
        response["response"]["attestationObject"] = websafe_encode(cbor.encode(att))
        assert_rejected(run(response=response), "ceremony", "CREDENTIAL_KEY_INVALID")

    @pytest.mark.parametrize("extensions", [[], ["credProtect", 2], 7, "credProtect", b"\x01"])
    def test_authenticator_extensions_that_are_not_a_cbor_map_are_rejected(self, extensions):
        """WebAuthn §6.1: with ED set, the extensions are a CBOR map."""
        decision = run(response=_with_authenticator_extensions(make_response(), extensions))
        assert_rejected(decision, "ceremony", "AUTHENTICATOR_DATA_INVALID")

    def test_authenticator_extensions_in_a_cbor_map_are_accepted(self):
        assert_accepted(run(response=_with_authenticator_extensions(
            make_response(), {"credProtect": 2})))

    def test_backup_state_with_backup_eligibility_is_accepted(self):
        assert_accepted(run(response=make_response(
            flags=FLAG.UP | FLAG.UV | FLAG.AT | FLAG.BE | FLAG.BS)))

    @pytest.mark.parametrize("members", [
        ('"crossOrigin":true',),
        ('"crossOrigin":true', '"topOrigin":"https://login.microsoftonline.evil"'),
        ('"topOrigin":"https://login.microsoftonline.evil"',),
        ('"crossOrigin":false', f'"topOrigin":"{rules.ORIGIN}"'),
    ])
    def test_a_response_made_in_a_cross_origin_frame_is_rejected(self, members):
        """WebAuthn §7.1 step 10: a topOrigin (or crossOrigin true) says the page was framed by
        another origin; Entra's registration is never framed ([INFERRED])."""
        response = with_client_data(make_response(), client_data_json(*members))
        assert_rejected(run(response=response), "ceremony", "CROSS_ORIGIN_NOT_ALLOWED")

    def test_a_same_origin_response_saying_so_is_accepted(self):
        response = with_client_data(make_response(), client_data_json('"crossOrigin":false'))
        assert_accepted(run(response=response))

    def test_credential_the_user_already_has_is_rejected_as_excluded(self):
        user = member(existing_credentials=(ExistingCredential(b"\x01" * 16),))
        decision = run(user=user, response=make_response(credential_id=b"\x01" * 16))
        assert_rejected(decision, "ceremony", "CREDENTIAL_ALREADY_REGISTERED")

    def test_another_existing_credential_does_not_block_a_new_one(self):
        user = member(existing_credentials=(ExistingCredential(b"\x02" * 16),))
        assert_accepted(run(user=user))


class TestPasskeyTypes:
    def test_synced_passkey_is_rejected_where_only_device_bound_is_allowed(self):
        decision = run(with_profiles(profile(types="deviceBound")),
                       response=make_response(flags=SYNCED_FLAGS, **PLATFORM))
        assert_rejected(decision, "policy_scope", "PASSKEY_TYPE_NOT_ALLOWED")
        assert decision.passkey_type == "synced"

    def test_device_bound_passkey_is_rejected_where_only_synced_is_allowed(self):
        decision = run(with_profiles(profile(types="synced")))
        assert_rejected(decision, "policy_scope", "PASSKEY_TYPE_NOT_ALLOWED")
        assert decision.passkey_type == "deviceBound"

    def test_backup_eligible_without_backup_state_counts_as_synced(self):
        flags = FLAG.UP | FLAG.UV | FLAG.BE | FLAG.AT
        decision = run(with_profiles(profile(types="deviceBound")),
                       response=make_response(flags=flags))
        assert decision.reason == "PASSKEY_TYPE_NOT_ALLOWED"
        assert decision.passkey_type == "synced"

    def test_synced_passkey_is_accepted_where_synced_is_allowed(self):
        decision = run(response=make_response(flags=SYNCED_FLAGS, **PLATFORM))
        assert_accepted(decision)
        assert decision.passkey_type == "synced"

    def test_attestation_excludes_synced_passkeys_whatever_the_types_say(self):
        """C1: "If attestation is enabled, only device-bound passkeys are allowed"."""
        policy = with_profiles(profile(attestation="registrationOnly"))
        decision = run(policy, response=make_response(flags=SYNCED_FLAGS, fmt="none",
                                                      att_stmt={}, **PLATFORM))
        assert_rejected(decision, "policy_scope", "PASSKEY_TYPE_NOT_ALLOWED")
        assert "synced passkeys are excluded" in decision.detail


class TestKeyRestrictions:
    @pytest.mark.parametrize(
        ("kind", "listed", "aaguid", "reason"),
        [
            ("allow", (YUBIKEY_5,), YUBIKEY_5, None),
            ("allow", (YUBIKEY_5,), TITAN_V2, "AAGUID_NOT_ALLOWED"),
            ("allow", (), YUBIKEY_5, "AAGUID_NOT_ALLOWED"),
            ("block", (YUBIKEY_5,), YUBIKEY_5, "AAGUID_BLOCKED"),
            ("block", (YUBIKEY_5,), TITAN_V2, None),
            ("block", (), YUBIKEY_5, None),
        ],
    )
    def test_enforced_list_decides_by_aaguid(self, kind, listed, aaguid, reason):
        policy = with_profiles(profile(enforced=True, kind=kind, aaguids=listed))
        decision = run(policy, response=make_response(aaguid=aaguid))
        if reason is None:
            assert_accepted(decision)
        else:
            assert_rejected(decision, "authenticator_governance", reason)
        assert decision.aaguid == aaguid

    @pytest.mark.parametrize("kind", ["allow", "block"])
    def test_list_that_is_not_enforced_restricts_nothing(self, kind):
        policy = with_profiles(profile(enforced=False, kind=kind, aaguids=(TITAN_V2,)))
        assert_accepted(run(policy, response=make_response(aaguid=YUBIKEY_5 if kind == "allow"
                                                           else TITAN_V2)))

    def test_unattested_aaguid_is_taken_as_claimed(self):
        """A 'none' statement claiming an allow-listed AAGUID passes: AAGUIDs are a guide."""
        policy = with_profiles(profile(enforced=True, aaguids=(YUBIKEY_5,)))
        decision = run(policy, response=make_response(aaguid=YUBIKEY_5, fmt="none"))
        assert_accepted(decision)
        assert decision.attestation_level == "notAttested"


class TestAttestationEnforcement:
    ENFORCED = with_profiles(profile(attestation="registrationOnly", types="deviceBound"))

    def test_none_attestation_is_rejected_where_attestation_is_enforced(self):
        decision = run(self.ENFORCED, response=make_response(fmt="none"))
        assert_rejected(decision, "authenticator_governance", "ATTESTATION_REQUIRED")

    @pytest.mark.parametrize("fmt", ["tpm", "android-key", "apple", "fido-u2f"])
    def test_formats_other_than_packed_are_not_accepted_where_enforced(self, fmt):
        decision = run(self.ENFORCED, response=make_response(fmt=fmt, att_stmt={"x": 1}))
        assert_rejected(decision, "authenticator_governance", "ATTESTATION_FORMAT_NOT_ACCEPTED")

    def test_malformed_packed_statement_is_rejected_where_enforced(self):
        decision = run(self.ENFORCED, response=make_response(fmt="packed", att_stmt={"alg": -7}))
        assert decision.outcome == "rejected"
        assert decision.family == "authenticator_governance"
        assert decision.reason == "ATTESTATION_STATEMENT_INVALID"

    @pytest.mark.parametrize("fmt", ["none", "tpm", "android-key", "x" * 32])
    def test_any_format_up_to_32_characters_passes_where_not_enforced(self, fmt):
        """packed must also have its form (test_engine_governance.py)."""
        assert_accepted(run(response=make_response(fmt=fmt, att_stmt={"x": 1})))

    def test_custom_format_over_32_characters_is_not_accepted(self):
        decision = run(response=make_response(fmt="x" * 33))
        assert_rejected(decision, "authenticator_governance", "ATTESTATION_FORMAT_NOT_ACCEPTED")


class TestWindowsHelloPreview:
    """Before Windows Hello passkeys were generally available in the tenant's cloud (S4)."""

    @pytest.mark.parametrize("aaguid", WINDOWS_HELLO)
    def test_windows_hello_registers_when_explicitly_allowed_without_attestation(self, aaguid):
        policy = with_profiles(profile(enforced=True, aaguids=(aaguid,)))
        response = make_response(aaguid=aaguid, alg=-257, **PLATFORM)
        assert_accepted(run(policy, response=response, book=PREVIEW))

    @pytest.mark.parametrize("aaguid", WINDOWS_HELLO)
    def test_windows_hello_is_blocked_when_key_restrictions_are_off(self, aaguid):
        decision = run(response=make_response(aaguid=aaguid, **PLATFORM), book=PREVIEW)
        assert_rejected(decision, "authenticator_governance", "WINDOWS_HELLO_NOT_ALLOWED")

    def test_windows_hello_is_blocked_by_an_allow_list_that_omits_it(self):
        policy = with_profiles(profile(enforced=True, aaguids=(YUBIKEY_5,)))
        decision = run(policy, response=make_response(aaguid=WINDOWS_HELLO[0], **PLATFORM),
                       book=PREVIEW)
        assert_rejected(decision, "authenticator_governance", "WINDOWS_HELLO_NOT_ALLOWED")

    def test_a_block_list_never_counts_as_explicitly_allowing_windows_hello(self):
        policy = with_profiles(profile(enforced=True, kind="block", aaguids=(YUBIKEY_5,)))
        decision = run(policy, response=make_response(aaguid=WINDOWS_HELLO[0], **PLATFORM),
                       book=PREVIEW)
        assert_rejected(decision, "authenticator_governance", "WINDOWS_HELLO_NOT_ALLOWED")

    def test_windows_hello_fails_where_attestation_is_enforced_even_if_allowed(self):
        policy = with_profiles(profile(attestation="registrationOnly", enforced=True,
                                       aaguids=(WINDOWS_HELLO[0],)))
        decision = run(policy, response=make_response(aaguid=WINDOWS_HELLO[0], fmt="tpm",
                                                      att_stmt={"x": 1}, **PLATFORM), book=PREVIEW)
        assert_rejected(decision, "authenticator_governance",
                        "WINDOWS_HELLO_ATTESTATION_ENFORCED")


class TestWindowsHelloGenerallyAvailable:
    """Since GA in the tenant's cloud (MC1282568): no allow-listing, the normal rules apply."""

    @pytest.mark.parametrize("aaguid", WINDOWS_HELLO)
    def test_windows_hello_registers_without_being_allow_listed(self, aaguid):
        decision = run(response=make_response(aaguid=aaguid, alg=-257, **PLATFORM), book=GA)
        assert_accepted(decision)
        assert (decision.as_of, decision.cloud) == (GA.as_of, GA.cloud)

    def test_an_allow_list_that_omits_windows_hello_rejects_it_as_any_other_aaguid(self):
        policy = with_profiles(profile(enforced=True, aaguids=(YUBIKEY_5,)))
        decision = run(policy, response=make_response(aaguid=WINDOWS_HELLO[0], **PLATFORM),
                       book=GA)
        assert_rejected(decision, "authenticator_governance", "AAGUID_NOT_ALLOWED")

    def test_a_block_list_naming_windows_hello_blocks_it(self):
        policy = with_profiles(profile(enforced=True, kind="block", aaguids=(WINDOWS_HELLO[0],)))
        decision = run(policy, response=make_response(aaguid=WINDOWS_HELLO[0], **PLATFORM),
                       book=GA)
        assert_rejected(decision, "authenticator_governance", "AAGUID_BLOCKED")

    def test_enforced_attestation_still_fails_windows_hello_as_an_inferred_rule(self):
        policy = with_profiles(profile(attestation="registrationOnly"))
        decision = run(policy, response=make_response(aaguid=WINDOWS_HELLO[0], fmt="tpm",
                                                      att_stmt={"x": 1}, **PLATFORM), book=GA)
        assert_rejected(decision, "authenticator_governance",
                        "WINDOWS_HELLO_ATTESTATION_ENFORCED")
        assert decision.version == "windows-hello-ga"
        assert decision.to_json()["source"]["status"] == "inferred"

    def test_government_clouds_keep_the_preview_rules_until_their_own_ga(self):
        decision = run(response=make_response(aaguid=WINDOWS_HELLO[0], **PLATFORM),
                       book=RuleBook(date(2026, 6, 20), Cloud.GCC))
        assert_rejected(decision, "authenticator_governance", "WINDOWS_HELLO_NOT_ALLOWED")
        assert decision.to_json()["source"]["until"] == "2026-07-31"

    def test_inside_the_rollout_window_the_decision_is_inferred_and_names_the_window(self):
        decision = run(response=make_response(aaguid=WINDOWS_HELLO[0], **PLATFORM),
                       book=RuleBook(date(2026, 5, 10)))
        assert_rejected(decision, "authenticator_governance", "WINDOWS_HELLO_NOT_ALLOWED")
        assert "2026-04-20 to 2026-06-15" in decision.detail
        assert decision.to_json()["source"]["status"] == "inferred"


class TestProfileUnion:
    def test_passkey_satisfying_one_scoped_profile_is_accepted(self):
        policy = with_profiles(profile(types="deviceBound"), profile(OTHER_PROFILE))
        decision = run(policy, response=make_response(flags=SYNCED_FLAGS, **PLATFORM))
        assert_accepted(decision)
        assert decision.matched_profiles == (OTHER_PROFILE,)

    def test_profile_order_does_not_change_the_decision(self):
        a, b = profile(types="deviceBound"), profile(OTHER_PROFILE)
        response = make_response(flags=SYNCED_FLAGS, **PLATFORM)
        first = run(with_profiles(a, b), response=response)
        second = run(with_profiles(b, a), response=response)
        assert first.outcome == second.outcome == "accepted"
        assert first.matched_profiles == second.matched_profiles == (OTHER_PROFILE,)

    def test_all_profiles_failing_alike_report_that_one_reason(self):
        policy = with_profiles(profile(types="deviceBound"),
                               profile(OTHER_PROFILE, types="deviceBound"))
        decision = run(policy, response=make_response(flags=SYNCED_FLAGS, **PLATFORM))
        assert_rejected(decision, "policy_scope", "PASSKEY_TYPE_NOT_ALLOWED")
        assert decision.profile_failures == {DEFAULT_PROFILE: "PASSKEY_TYPE_NOT_ALLOWED",
                                             OTHER_PROFILE: "PASSKEY_TYPE_NOT_ALLOWED"}

    def test_profiles_failing_differently_report_no_profile_satisfied_with_each_reason(self):
        policy = with_profiles(profile(types="synced"),
                               profile(OTHER_PROFILE, enforced=True, kind="block",
                                       aaguids=(YUBIKEY_5,)))
        decision = run(policy, response=make_response(aaguid=YUBIKEY_5))
        assert_rejected(decision, "authenticator_governance", "NO_PROFILE_SATISFIED")
        assert decision.profile_failures == {DEFAULT_PROFILE: "PASSKEY_TYPE_NOT_ALLOWED",
                                             OTHER_PROFILE: "AAGUID_BLOCKED"}

    def test_pilot_group_allow_profile_admits_what_the_all_users_profile_blocks(self):
        """[DOC S1/S2] the Authenticator rollout pair: block for all users, allow for pilots."""
        block = profile(enforced=True, kind="block", aaguids=(AUTHENTICATOR_IOS,))
        allow = profile(OTHER_PROFILE, enforced=True, kind="allow", aaguids=(AUTHENTICATOR_IOS,))
        policy = make_policy(passkeyProfiles=[block, allow], includeTargets=[
            {"id": "all_users", "targetType": "group", "allowedPasskeyProfiles": [DEFAULT_PROFILE]},
            {"id": "pilots", "targetType": "group", "allowedPasskeyProfiles": [OTHER_PROFILE]}])
        response = make_response(aaguid=AUTHENTICATOR_IOS, **PLATFORM)
        assert run(policy, response=response).reason == "AAGUID_BLOCKED"
        assert_accepted(run(policy, user=member(groups=frozenset({"pilots"})), response=response))


class TestPlatformPath:
    def test_windows_hello_fails_where_a_whfb_credential_exists_in_the_container(self):
        policy = with_profiles(profile(enforced=True, aaguids=(WINDOWS_HELLO[0],)))
        user = member(existing_credentials=(
            ExistingCredential(b"\x09" * 16, WINDOWS_HELLO[0], windows_hello_for_business=True),))
        decision = run(policy, user=user,
                       response=make_response(aaguid=WINDOWS_HELLO[0], **PLATFORM))
        assert_rejected(decision, "platform_path", "WINDOWS_HELLO_FOR_BUSINESS_CONFLICT")

    @pytest.mark.parametrize("fmt", ["tpm", "android-key", "apple"])
    def test_graph_provisioning_accepts_only_packed_or_none(self, fmt):
        decision = run(response=make_response(fmt=fmt, att_stmt={"x": 1}),
                       path=RegistrationPath.PROVISIONING)
        assert_rejected(decision, "platform_path", "PROVISIONING_FORMAT_NOT_SUPPORTED")

    def test_graph_provisioning_accepts_a_none_statement(self):
        assert_accepted(run(path=RegistrationPath.PROVISIONING))

    @pytest.mark.parametrize(("aaguid", "flags"), [
        (YUBIKEY_5, SYNCED_FLAGS),  # backup eligible: a synced passkey, whatever its AAGUID
        (AUTHENTICATOR_IOS, FLAG.UP | FLAG.UV | FLAG.AT),
        (WINDOWS_HELLO[2], FLAG.UP | FLAG.UV | FLAG.AT),
    ])
    def test_graph_provisioning_is_limited_to_security_keys(self, aaguid, flags):
        decision = run(with_profiles(profile(enforced=True, aaguids=(aaguid,))),
                       response=make_response(aaguid=aaguid, flags=flags),
                       path=RegistrationPath.PROVISIONING)
        assert_rejected(decision, "platform_path", "PROVISIONING_AUTHENTICATOR_NOT_SUPPORTED")

    def test_the_same_synced_passkey_registers_through_security_info(self):
        assert_accepted(run(response=make_response(flags=SYNCED_FLAGS)))

    def test_an_in_app_passkey_listing_hybrid_among_its_transports_is_not_cross_device(self):
        """Transports say what the authenticator can do later, not how this passkey came."""
        response = make_response(aaguid=AUTHENTICATOR_IOS, transports=("internal", "hybrid"),
                                 attachment="platform")
        assert_accepted(run(response=response))

    def test_unattested_authenticator_may_register_cross_device(self):
        response = make_response(aaguid=AUTHENTICATOR_IOS, transports=("hybrid",))
        assert_accepted(run(response=response))


class TestDecisionRecord:
    def test_decision_json_carries_exactly_the_documented_fields(self):
        decision = run(make_policy(state="disabled")).to_json()
        assert set(decision) == {"outcome", "family", "reason", "detail", "aaguid", "passkeyType",
                                 "attestationFormat", "attestationLevel", "matchedProfiles",
                                 "profileFailures", "source", "asOf", "cloud"}
        assert decision["source"]["rule"] == "METHOD_DISABLED"
        assert decision["source"]["status"] == "documented"
        assert decision["source"]["url"].startswith("https://learn.microsoft.com/")

    def test_accepted_decision_reports_the_facts_it_used(self):
        decision = run().to_json()
        assert decision == {**decision, "outcome": "accepted", "family": None,
                            "aaguid": YUBIKEY_5, "passkeyType": "deviceBound",
                            "attestationFormat": "none", "attestationLevel": "notAttested",
                            "matchedProfiles": [DEFAULT_PROFILE]}


class TestLegacyFormSnapshots:
    """A policy without passkeyProfiles is a snapshot from before the automatic migration
    (MC1221452): read as it was, and said so when the day is after the migration."""

    def _run(self, day: date, cloud: Cloud = Cloud.WORLDWIDE):
        legacy = {key: value for key, value in make_policy().items()
                  if key not in ("passkeyProfiles", "defaultPasskeyProfile")}
        legacy = {**legacy, "isAttestationEnforced": False,
                  "keyRestrictions": {"isEnforced": False, "enforcementType": "block",
                                      "aaGuids": []},
                  "includeTargets": [{"targetType": "group", "id": "all_users",
                                      "isRegistrationRequired": False}]}
        return run(legacy, book=RuleBook(day, cloud))

    def test_after_the_migration_the_decision_calls_the_policy_a_pre_migration_snapshot(self):
        decision = self._run(date(2026, 11, 29))
        assert_accepted(decision)
        assert "snapshot from before the migration" in decision.detail

    def test_before_the_migration_a_legacy_policy_is_simply_the_tenants_policy(self):
        decision = self._run(date(2026, 3, 1))
        assert_accepted(decision)
        assert "snapshot" not in decision.detail and "rollout" not in decision.detail

    def test_inside_the_migration_window_the_decision_names_the_window_and_is_inferred(self):
        decision = self._run(date(2026, 6, 10), Cloud.GCC_HIGH)
        assert "2026-06-01 to 2026-07-01" in decision.detail
        assert decision.to_json()["source"]["status"] == "inferred"
