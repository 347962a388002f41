"""The emulator-only scenario call: all of a case's setup in one request, or none of it.

The user comes in USER.json's vocabulary; the scenario derives the sign-in and the seeded
Windows Hello for Business credential from it, which the tenant's decision then shows.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from pkconf.paths import FIXTURES
from pkconf.tenant.decision import MAX_AGE_SECONDS
from tests.tenant.builders import client_data_json, make_response, nested, with_client_data

from .helpers import Tenant, error_of, reason_of

POLICY_PATH = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
PERMISSIVE = json.loads((FIXTURES / "policies" / "permissive.json").read_text())
WINDOWS_HELLO_HARDWARE = "08987058-cadc-4b81-b6e1-30de50dcbe96"


def _scenario(tenant: Tenant, **body: Any) -> dict[str, Any]:
    r = tenant.client.post("/_emulator/scenarios", json={"policy": PERMISSIVE, **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _register_as(tenant: Tenant, answer: dict[str, Any], **response: Any) -> httpx.Response:
    """Self-service registration with the scenario's session."""
    token = answer["token"]
    return tenant.register(None, make_response(challenge=tenant.challenge(token=token),
                                               **response), token=token)


def test_scenario_lays_out_groups_user_and_session(tenant: Tenant) -> None:
    body = _scenario(tenant, groups=["pilots"],
                     user={"groups": ["pilots"], "mfaAgeSeconds": 30})
    assert set(body) == {"userId", "groups", "token"} and set(body["groups"]) == {"pilots"}
    assert tenant.options(None, token=body["token"]).status_code == 200


@pytest.mark.parametrize(("user", "reason"), [
    ({"mfaAgeSeconds": 60}, None),
    ({"mfaAgeSeconds": 301}, "MFA_STALE"),
    ({}, "MFA_REQUIRED"),  # no MFA, no TAP: a password sign-in
    ({"tap": {"isUsableOnce": True, "ageSeconds": 120}}, None),
    ({"tap": {"isUsableOnce": True, "ageSeconds": 601}}, "TAP_EXPIRED"),
    ({"tap": {"isUsableOnce": False, "ageSeconds": 301}}, "MFA_STALE"),  # a valid pass
    # both sign-ins in one session: either one bootstraps
    ({"mfaAgeSeconds": 30, "tap": {"isUsableOnce": True, "ageSeconds": 900}}, None),
    ({"mfaAgeSeconds": 900, "tap": {"isUsableOnce": True, "ageSeconds": 120}}, None),
    ({"mfaAgeSeconds": 900, "tap": {"isUsableOnce": True, "ageSeconds": 601}}, "TAP_EXPIRED"),
    # the bootstrap policies travel with the user to the decision
    ({"tap": {"isUsableOnce": True, "ageSeconds": 60}, "inTapPolicy": False},
     "TAP_NOT_IN_POLICY"),
    ({"tap": {"isUsableOnce": True, "ageSeconds": 60}, "registrationInterrupt": True},
     "TAP_INTERRUPT_MODE"),
    ({"mfaAgeSeconds": 30, "conditionalAccessUnmet": True}, "CONDITIONAL_ACCESS_UNMET"),
    ({"userType": "Guest", "mfaAgeSeconds": 60}, "GUEST_NOT_SUPPORTED"),
])
def test_the_sign_in_follows_from_the_users_state(tenant: Tenant, user: dict,
                                                  reason: str | None) -> None:
    r = _register_as(tenant, _scenario(tenant, user=user))
    assert (None if r.status_code == 201 else reason_of(r)) == reason, r.text


@pytest.mark.parametrize(("session", "age", "reason"), [
    ({}, 540, "MFA_STALE"),  # the default session is Security info's: five minutes
    ({"client": "graph"}, 540, None),  # a Graph client's /me: ten minutes
    ({"client": "graph"}, 660, "GRAPH_SESSION_STALE"),
])
def test_a_graph_client_session_registers_on_the_graph_me_path(
        tenant: Tenant, session: dict, age: int, reason: str | None) -> None:
    r = _register_as(tenant, _scenario(tenant, user={"mfaAgeSeconds": age}, **session))
    assert (None if r.status_code == 201 else reason_of(r)) == reason, r.text


def test_the_sign_in_control_opens_a_graph_client_session(tenant: Tenant) -> None:
    user_id = _scenario(tenant)["userId"]
    r = tenant.client.post("/_emulator/signIn",
                           json={"userId": user_id, "method": "mfa", "client": "graph"})
    assert r.status_code == 201 and r.json()["client"] == "graph", r.text
    tenant.client.post("/_emulator/clock/advance", json={"seconds": 660})
    assert reason_of(_register_as(tenant, r.json())) == "GRAPH_SESSION_STALE"


def test_windows_hello_for_business_seeds_its_credential(tenant: Tenant) -> None:
    hello = {"aaguid": WINDOWS_HELLO_HARDWARE, "attachment": "platform",
             "transports": ("internal",)}
    plain = _scenario(tenant, user={"mfaAgeSeconds": 60})
    assert _register_as(tenant, plain, **hello).status_code == 201
    whfb = _scenario(tenant, user={"mfaAgeSeconds": 60, "windowsHelloForBusiness": True})
    assert reason_of(_register_as(tenant, whfb, **hello)) == \
        "WINDOWS_HELLO_FOR_BUSINESS_CONFLICT"


@pytest.mark.parametrize(("bad", "message"), [
    ({"user": {"tap": {"isUsableOnce": "yes", "ageSeconds": 1}}},
     "user.tap must be null or {isUsableOnce: bool, ageSeconds}"),
    ({"user": {"mfaAgeSeconds": -1}}, "user.mfaAgeSeconds must be a number from 0"),
    ({"user": {"mfaAgeSeconds": MAX_AGE_SECONDS + 1}}, "user.mfaAgeSeconds must be a number from"),
    ({"user": {"tap": {"isUsableOnce": True, "ageSeconds": MAX_AGE_SECONDS + 1}}},
     "user.tap.ageSeconds must be a number from 0"),
    ({"user": {"platformCredentials": 10**20}}, "user.platformCredentials must be an integer"),
    ({"user": {"groups": ["other"]}}, "user.groups must name groups listed in groups"),
    ({"user": {"id": "u1"}}, "user.id: the scenario creates a fresh user"),
    ({"user": {"signIn": {"method": "mfa"}}}, "user.signIn is unknown"),
    ({"user": ["Member"]}, "user must be a JSON object"),
    ({"user": {"inTapPolicy": "no"}}, "user.inTapPolicy must be true or false"),
    ({"client": "teams"}, "client must be one of security-info, graph"),
    ({"policy": {"state": "paused"}}, "state"),
    ({"policy": {"includeTargets": [{"id": ["g"], "allowedPasskeyProfiles": []}]}},
     "includeTargets"),
    ({"ruleBook": {"asOf": "soon"}}, "ruleBook.asOf must be a date YYYY-MM-DD or null"),
    ({"ruleBook": "2026-03-20"}, "ruleBook must be an object {asOf, cloud}"),
])
def test_a_refused_scenario_changes_nothing(tenant: Tenant, bad: dict, message: str) -> None:
    before = tenant.client.get(POLICY_PATH).json()
    body = {"groups": ["g"], "policy": {**before, "state": "disabled"}, **bad}
    r = tenant.client.post("/_emulator/scenarios", json=body)
    assert r.status_code == 400, r.text
    error = error_of(r)
    assert error["code"] == "invalidRequest" and message in error["message"]
    assert tenant.client.get(POLICY_PATH).json() == before
    assert tenant.client.get("/_emulator/ruleBook").json() == {"asOf": None, "cloud": "worldwide"}


@pytest.mark.parametrize(("policy", "message"), [
    ({k: v for k, v in PERMISSIVE.items() if k != "id"}, "id"),
    ({k: v for k, v in PERMISSIVE.items() if k != "@odata.type"}, "@odata.type"),
    ({**PERMISSIVE, "id": "Sms"}, "id"),
    ({**PERMISSIVE, "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration"},
     "@odata.type"),
])
def test_a_scenario_policy_is_the_fido2_configuration_a_patch_would_keep(
        tenant: Tenant, policy: dict, message: str) -> None:
    """PATCH keeps the stored id and @odata.type: a scenario that stored a policy without them
    would make the next PATCH fail, so it is refused as PATCH would refuse a bad body."""
    r = tenant.client.post("/_emulator/scenarios", json={"policy": policy})
    assert r.status_code == 400, r.text
    assert message in error_of(r)["message"]
    patched = tenant.client.patch(POLICY_PATH, json={"state": "enabled"})
    assert patched.status_code == 204, patched.text


@pytest.mark.parametrize(("members", "message"), [
    ((f'"x":{nested(5_000)}',), "nests too deeply"),  # under the body cap, over the stack
    (('"type":"webauthn.get"', '"type":"webauthn.create"'), "'type' twice"),
    (('"x":NaN',), "NaN is not JSON"),
    (('"tokenBinding":{"status":"present"}',), "tokenBinding.id"),
    (('"crossOrigin":"false"',), "crossOrigin must be true or false"),
])
def test_an_unreadable_client_data_json_is_a_400_not_a_500(
        tenant: Tenant, members: tuple[str, ...], message: str) -> None:
    token = _scenario(tenant, user={"mfaAgeSeconds": 60})["token"]
    raw = client_data_json(*members, challenge=tenant.challenge(token=token))
    r = tenant.register(None, with_client_data(make_response(), raw), token=token)
    assert r.status_code == 400, r.text
    assert message in error_of(r)["message"]
