"""The emulator-only scenario call: all of a case's setup in one request, or none of it."""

from __future__ import annotations

import pytest

from .helpers import Tenant, error_of

POLICY_PATH = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"


def test_scenario_lays_out_groups_user_and_session(tenant: Tenant) -> None:
    r = tenant.client.post("/_emulator/scenarios", json={
        "groups": ["pilots"], "user": {"memberOf": ["pilots"]},
        "signIn": {"method": "mfa", "ageSeconds": 30}})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"userId", "groups", "token"} and set(body["groups"]) == {"pilots"}
    me = tenant.options(None, token=body["token"])
    assert me.status_code == 200


@pytest.mark.parametrize("bad", [
    {"existingCredentials": [{"aaGuid": "not-a-guid"}]},
    {"signIn": {"method": "magic"}},
    {"policy": {"state": "paused"}},
    {"policy": {"includeTargets": [{"id": ["g"], "allowedPasskeyProfiles": []}]}},
])
def test_a_refused_scenario_changes_nothing(tenant: Tenant, bad: dict) -> None:
    before = tenant.client.get(POLICY_PATH).json()
    body = {"groups": ["g"], "policy": {**before, "state": "disabled"}, **bad}
    r = tenant.client.post("/_emulator/scenarios", json=body)
    assert r.status_code == 400, r.text
    assert error_of(r)["code"] == "invalidRequest"
    assert tenant.client.get(POLICY_PATH).json() == before
