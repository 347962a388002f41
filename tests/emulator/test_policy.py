"""The fido2 policy resource: default, PATCH merge, validation with JSON paths, versions."""

from __future__ import annotations

from .helpers import FIDO2_POLICY, Tenant, error_of

ATTESTED_PROFILE = {
    "id": "11111111-1111-1111-1111-111111111111", "name": "Attested keys",
    "passkeyTypes": "deviceBound", "attestationEnforcement": "registrationOnly",
    "keyRestrictions": {"isEnforced": False, "enforcementType": "block", "aaGuids": []},
}


def test_fresh_tenant_policy_is_enabled_with_one_default_profile(tenant: Tenant) -> None:
    body = tenant.client.get(FIDO2_POLICY).json()
    assert body["@odata.type"] == "#microsoft.graph.fido2AuthenticationMethodConfiguration"
    assert (body["id"], body["state"], body["isSelfServiceRegistrationAllowed"]) == (
        "Fido2", "enabled", True)
    [profile] = body["passkeyProfiles"]
    assert profile["passkeyTypes"] == "deviceBound,synced"
    assert profile["attestationEnforcement"] == "disabled"
    assert profile["keyRestrictions"]["isEnforced"] is False
    assert body["includeTargets"] == [{"id": "all_users", "targetType": "group",
                                       "isRegistrationRequired": False,
                                       "allowedPasskeyProfiles": [profile["id"]]}]
    assert body["defaultPasskeyProfile"] == profile["id"]


def test_patch_merges_top_level_properties_and_returns_204_without_body(tenant: Tenant) -> None:
    r = tenant.patch_policy(isSelfServiceRegistrationAllowed=False)
    assert (r.status_code, r.content) == (204, b"")
    body = tenant.client.get("/beta/policies/authenticationMethodsPolicy/"
                             "authenticationMethodConfigurations/fido2").json()
    assert body["isSelfServiceRegistrationAllowed"] is False
    assert body["state"] == "enabled"  # untouched


def test_patch_cannot_change_the_configuration_id(tenant: Tenant) -> None:
    assert tenant.patch_policy(id="Other").status_code == 204
    assert tenant.client.get(FIDO2_POLICY).json()["id"] == "Fido2"


def test_invalid_patch_lists_every_problem_with_its_json_path(tenant: Tenant) -> None:
    bad_profile = {**ATTESTED_PROFILE, "passkeyTypes": "deviceBound,roaming",
                   "attestationEnforcement": "always"}
    r = tenant.patch_policy(state="on", passkeyProfiles=[bad_profile])
    assert r.status_code == 400
    error = error_of(r)
    targets = {d["target"] for d in error["details"]}
    assert {"$.state", "$.passkeyProfiles[0].passkeyTypes",
            "$.passkeyProfiles[0].attestationEnforcement"} <= targets
    assert "$.state" in error["message"]
    assert "$.passkeyProfiles[0].attestationEnforcement" in error["message"]


def test_invalid_patch_leaves_the_policy_unchanged(tenant: Tenant) -> None:
    before = tenant.client.get(FIDO2_POLICY).json()
    assert tenant.patch_policy(state="paused").status_code == 400
    assert tenant.client.get(FIDO2_POLICY).json() == before


def test_passkey_profiles_cannot_be_turned_off_once_enabled(tenant: Tenant) -> None:
    r = tenant.patch_policy(passkeyProfiles=None)
    assert r.status_code == 400
    assert error_of(r)["details"][0]["target"] == "$.passkeyProfiles"


def test_every_patch_keeps_a_policy_version(emulator, tenant: Tenant) -> None:
    default = tenant.client.get(FIDO2_POLICY).json()["passkeyProfiles"][0]
    assert tenant.patch_policy(passkeyProfiles=[default, ATTESTED_PROFILE]).status_code == 204
    assert tenant.patch_policy(state="disabled").status_code == 204
    versions = emulator.store.policy_versions()
    assert [n for n, _ in versions] == [1, 2, 3]
    assert [len(body["passkeyProfiles"]) for _, body in versions] == [1, 2, 2]
    assert [body["state"] for _, body in versions] == ["enabled", "enabled", "disabled"]


def test_patch_accepts_unknown_future_value_as_graph_clients_may_send_it(tenant: Tenant) -> None:
    future = {**ATTESTED_PROFILE, "attestationEnforcement": "unknownFutureValue"}
    default = tenant.client.get(FIDO2_POLICY).json()["passkeyProfiles"][0]
    assert tenant.patch_policy(passkeyProfiles=[default, future]).status_code == 204
    stored = tenant.client.get(FIDO2_POLICY).json()["passkeyProfiles"][1]
    assert stored["attestationEnforcement"] == "unknownFutureValue"  # kept as sent
