"""POST fido2Methods: the decision engine behind Graph, for provisioning and self-service."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from fido2.webauthn import AuthenticatorData

from tests.tenant.builders import make_response

from .helpers import Tenant, error_of, reason_of

FLAG = AuthenticatorData.FLAG
WINDOWS_HELLO = "08987058-cadc-4b81-b6e1-30de50dcbe96"
YUBIKEY = "cb69481e-8ff7-4039-93ec-0a2729a154a8"


def test_provisioned_passkey_is_created_with_graph_shape(tenant: Tenant) -> None:
    user_id = tenant.user()
    now = tenant.client.get("/_emulator/clock").json()["now"]
    credential = make_response(challenge=tenant.challenge(user_id), credential_id=b"\x05" * 16)
    r = tenant.register(user_id, credential, display_name="Adele's YubiKey")
    assert r.status_code == 201, r.text
    method = r.json()
    assert method.pop("@pkconf.decision")["reason"] == "ACCEPTED"  # the suite's annotation
    assert method == {
        "@odata.type": "#microsoft.graph.fido2AuthenticationMethod",
        "id": "BQUFBQUFBQUFBQUFBQUFBQ",
        "displayName": "Adele's YubiKey",
        "createdDateTime": now,
        "aaGuid": YUBIKEY,
        "model": None,
        "attestationCertificates": [],
        "attestationLevel": "notAttested",
        "passkeyType": "deviceBound",
    }


def test_registered_passkey_is_listed_read_and_deleted(tenant: Tenant) -> None:
    user_id = tenant.user()
    method_id = tenant.provision(user_id, credential_id=b"\x06" * 16).json()["id"]
    base = f"/v1.0/users/{user_id}/authentication/fido2Methods"
    assert [m["id"] for m in tenant.client.get(base).json()["value"]] == [method_id]
    assert tenant.client.get(f"{base}/{method_id}").json()["aaGuid"] == YUBIKEY
    assert tenant.client.delete(f"{base}/{method_id}").status_code == 204
    assert tenant.client.get(f"{base}/{method_id}").status_code == 404
    assert tenant.client.get(base).json()["value"] == []


def test_backup_eligible_passkey_is_recorded_as_synced(tenant: Tenant) -> None:
    user_id = tenant.user()
    token = tenant.token(user_id)
    credential = make_response(challenge=tenant.challenge(token=token),
                               flags=FLAG.UP | FLAG.UV | FLAG.AT | FLAG.BE)
    r = tenant.register(None, credential, token=token)
    assert r.status_code == 201, r.text
    assert r.json()["passkeyType"] == "synced"


def test_synced_passkey_cannot_be_provisioned_by_an_admin(tenant: Tenant) -> None:
    r = tenant.provision(tenant.user(), flags=FLAG.UP | FLAG.UV | FLAG.AT | FLAG.BE)
    assert r.status_code == 400
    assert reason_of(r) == "PROVISIONING_AUTHENTICATOR_NOT_SUPPORTED"


def test_refusal_carries_the_decision_in_the_inner_error(tenant: Tenant) -> None:
    tenant.patch_policy(state="disabled")
    r = tenant.provision(tenant.user())
    assert r.status_code == 403
    error = error_of(r)
    assert error["code"] == "accessDenied"
    decision = error["innerError"]["pkconfDecision"]
    assert (decision["outcome"], decision["family"], decision["reason"]) == (
        "rejected", "policy_scope", "METHOD_DISABLED")
    assert error["message"] == decision["detail"]


@pytest.mark.parametrize(("response", "reason"), [
    ({"origin": "https://evil.example"}, "ORIGIN_MISMATCH"),
    ({"type_": "webauthn.get"}, "CLIENT_DATA_TYPE_INVALID"),
    ({"flags": FLAG.UP | FLAG.AT}, "USER_VERIFICATION_MISSING"),
    ({"rp_id": "login.microsoftonline.com"}, "RP_ID_HASH_MISMATCH"),
])
def test_ceremony_faults_are_bad_requests(tenant: Tenant, response: dict,
                                          reason: str) -> None:
    r = tenant.provision(tenant.user(), **response)
    assert r.status_code == 400
    assert error_of(r)["code"] == "invalidRequest"
    assert reason_of(r) == reason


def test_a_challenge_is_consumed_even_by_a_rejected_attempt(tenant: Tenant) -> None:
    user_id = tenant.user()
    challenge = tenant.challenge(user_id)
    first = tenant.register(user_id, make_response(challenge=challenge, origin="https://x.test"))
    assert reason_of(first) == "ORIGIN_MISMATCH"
    second = tenant.register(user_id, make_response(challenge=challenge))
    assert reason_of(second) == "CHALLENGE_REUSED"


@pytest.mark.parametrize(("seconds", "status"), [(299, 201), (300, 400)])
def test_v1_challenge_expires_five_minutes_after_issue(tenant: Tenant, seconds: int,
                                                       status: int) -> None:
    user_id = tenant.user()
    challenge = tenant.challenge(user_id)
    tenant.advance(seconds)
    r = tenant.register(user_id, make_response(challenge=challenge))
    assert r.status_code == status
    if status == 400:
        assert reason_of(r) == "CHALLENGE_EXPIRED"


def test_another_users_challenge_counts_as_never_issued(tenant: Tenant) -> None:
    alice, bob = tenant.user("alice@contoso.test"), tenant.user("bob@contoso.test")
    r = tenant.register(bob, make_response(challenge=tenant.challenge(alice)))
    assert reason_of(r) == "CHALLENGE_MISMATCH"


def test_guest_cannot_register(tenant: Tenant) -> None:
    r = tenant.provision(tenant.user("guest@fabrikam.test", user_type="Guest"))
    assert (r.status_code, reason_of(r)) == (403, "GUEST_NOT_SUPPORTED")


def test_excluded_group_membership_blocks_and_its_removal_unblocks(tenant: Tenant) -> None:
    user_id, group_id = tenant.user(), tenant.group("No passkeys")
    tenant.add_member(group_id, user_id)
    assert tenant.patch_policy(excludeTargets=[{"id": group_id, "targetType": "group"}]
                               ).status_code == 204
    assert reason_of(tenant.provision(user_id)) == "USER_EXCLUDED"
    tenant.client.delete(f"/v1.0/groups/{group_id}/members/{user_id}/$ref")
    assert tenant.provision(user_id).status_code == 201


def test_device_bound_only_profile_refuses_a_synced_passkey(tenant: Tenant) -> None:
    policy = tenant.client.get("/v1.0/policies/authenticationMethodsPolicy/"
                               "authenticationMethodConfigurations/fido2").json()
    profile = {**policy["passkeyProfiles"][0], "passkeyTypes": "deviceBound"}
    assert tenant.patch_policy(passkeyProfiles=[profile]).status_code == 204
    r = tenant.provision(tenant.user(), flags=FLAG.UP | FLAG.UV | FLAG.AT | FLAG.BE)
    assert (r.status_code, reason_of(r)) == (403, "PASSKEY_TYPE_NOT_ALLOWED")  # policy scope: 403


def test_registering_the_same_credential_twice_is_refused(tenant: Tenant) -> None:
    user_id = tenant.user()
    assert tenant.provision(user_id, credential_id=b"\x09" * 16).status_code == 201
    r = tenant.provision(user_id, credential_id=b"\x09" * 16)
    assert reason_of(r) == "CREDENTIAL_ALREADY_REGISTERED"


def test_seeded_existing_credential_is_excluded_and_refused(tenant: Tenant) -> None:
    user_id = tenant.user()
    seeded = tenant.client.post(f"/_emulator/users/{user_id}/credentials",
                                json={"credentialId": "CgoKCgoKCgoKCgoKCgoKCg", "aaGuid": YUBIKEY})
    assert seeded.status_code == 201
    excluded = tenant.options(user_id).json()["publicKey"]["excludeCredentials"]
    assert [c["id"] for c in excluded] == ["CgoKCgoKCgoKCgoKCgoKCg"]
    assert reason_of(tenant.provision(user_id, credential_id=b"\x0a" * 16)) == (
        "CREDENTIAL_ALREADY_REGISTERED")


def test_windows_hello_passkey_conflicts_with_an_existing_whfb_credential(tenant: Tenant) -> None:
    policy = tenant.client.get("/v1.0/policies/authenticationMethodsPolicy/"
                               "authenticationMethodConfigurations/fido2").json()
    profile = {**policy["passkeyProfiles"][0], "keyRestrictions": {
        "isEnforced": True, "enforcementType": "allow", "aaGuids": [WINDOWS_HELLO]}}
    assert tenant.patch_policy(passkeyProfiles=[profile]).status_code == 204
    user_id = tenant.user()
    assert tenant.client.post(f"/_emulator/users/{user_id}/credentials", json={
        "credentialId": "d2hmYi1rZXk", "windowsHelloForBusiness": True}).status_code == 201
    r = tenant.provision(user_id, aaguid=WINDOWS_HELLO, transports=("internal",),
                         attachment="platform")
    assert (r.status_code, reason_of(r)) == (400, "WINDOWS_HELLO_FOR_BUSINESS_CONFLICT")
    # a WHfB key is not a fido2 method: Graph neither lists nor excludes it
    assert tenant.client.get(f"/v1.0/users/{user_id}/authentication/fido2Methods"
                             ).json()["value"] == []
    assert tenant.options(user_id).json()["publicKey"]["excludeCredentials"] == []


def test_self_service_with_fresh_mfa_is_accepted(tenant: Tenant) -> None:
    user_id = tenant.user()
    token = tenant.token(user_id, "mfa")
    r = tenant.register(None, make_response(challenge=tenant.challenge(token=token)), token=token)
    assert r.status_code == 201, r.text
    for who, headers in ((f"users/{user_id}", {}), ("me", {"Authorization": f"Bearer {token}"})):
        listed = tenant.client.get(f"/v1.0/{who}/authentication/fido2Methods", headers=headers)
        assert [m["id"] for m in listed.json()["value"]] == [r.json()["id"]]


def test_concurrent_attempts_on_one_challenge_register_once(tenant: Tenant) -> None:
    user_id = tenant.user()
    challenge = tenant.challenge(user_id)
    attempts = [make_response(challenge=challenge, credential_id=bytes([i]) * 16)
                for i in range(1, 5)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda c: tenant.register(user_id, c), attempts))
    assert sorted(r.status_code for r in responses) == [201, 400, 400, 400]
    assert {reason_of(r) for r in responses if r.status_code == 400} == {"CHALLENGE_REUSED"}


@pytest.mark.parametrize(("method", "age", "reason"), [
    ("mfa", 301, "MFA_STALE"),
    ("password", 0, "MFA_REQUIRED"),
])
def test_self_service_needs_mfa_within_five_minutes(tenant: Tenant, method: str, age: int,
                                                    reason: str) -> None:
    token = tenant.token(tenant.user(), method)
    tenant.advance(age)
    r = tenant.register(None, make_response(challenge=tenant.challenge(token=token)), token=token)
    assert (r.status_code, reason_of(r)) == (403, reason)


def test_self_service_registration_without_a_session_is_unauthenticated(tenant: Tenant) -> None:
    r = tenant.register(None, make_response(), token="not-a-session")
    assert (r.status_code, error_of(r)["code"]) == (401, "unauthenticated")
