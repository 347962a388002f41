"""creationOptions: the webauthnCredentialCreationOptions Graph hands out, v1.0 and beta."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fido2.utils import websafe_decode

from .helpers import Tenant, error_of


def test_v1_options_carry_the_documented_public_key_shape(tenant: Tenant) -> None:
    user_id = tenant.user("adele@contoso.test")
    body = tenant.options(user_id).json()
    assert body["@odata.type"] == "#microsoft.graph.webauthnCredentialCreationOptions"
    pk = body["publicKey"]
    assert pk["rp"] == {"id": "login.microsoft.com", "name": "Microsoft"}
    assert (pk["user"]["name"], pk["user"]["displayName"]) == ("adele@contoso.test", "adele")
    assert websafe_decode(pk["user"]["id"]) == user_id.encode()
    assert pk["pubKeyCredParams"] == [{"type": "public-key", "alg": -7},
                                      {"type": "public-key", "alg": -257}]
    assert pk["authenticatorSelection"] == {"requireResidentKey": True,
                                            "userVerification": "required"}
    assert (pk["attestation"], pk["extensions"], pk["excludeCredentials"]) == ("direct", {}, [])


def test_challenge_is_32_random_bytes_in_unpadded_base64url(tenant: Tenant) -> None:
    user_id = tenant.user()
    first, second = (tenant.options(user_id).json()["publicKey"]["challenge"] for _ in range(2))
    assert "=" not in first
    assert len(websafe_decode(first)) == 32
    assert first != second


def test_v1_challenge_times_out_after_five_minutes(tenant: Tenant) -> None:
    user_id = tenant.user()
    now = datetime.fromisoformat(tenant.client.get("/_emulator/clock").json()["now"])
    expires = datetime.fromisoformat(tenant.options(user_id).json()["challengeTimeoutDateTime"])
    assert expires - now == timedelta(minutes=5)


@pytest.mark.parametrize("minutes", [5, 10, 43200])
def test_beta_challenge_timeout_is_taken_from_the_function_parameter(tenant: Tenant,
                                                                     minutes: int) -> None:
    user_id = tenant.user()
    now = datetime.fromisoformat(tenant.client.get("/_emulator/clock").json()["now"])
    r = tenant.options(user_id, version="beta",
                       call=f"creationOptions(challengeTimeoutInMinutes={minutes})")
    assert r.status_code == 200
    expires = datetime.fromisoformat(r.json()["challengeTimeoutDateTime"])
    assert expires - now == timedelta(minutes=minutes)


@pytest.mark.parametrize("call", [
    "creationOptions(challengeTimeoutInMinutes=4)",
    "creationOptions(challengeTimeoutInMinutes=43201)",
    "creationOptions(challengeTimeoutInMinutes=-5)",
    "creationOptions(challengeTimeoutInMinutes=ten)",
    "creationOptions(challengeTimeoutInMinutes=99999999999999999999)",
    "creationOptions(timeout=10)",
    "creationOptions(",
])
def test_beta_challenge_timeout_outside_5_to_43200_is_a_bad_request(tenant: Tenant,
                                                                    call: str) -> None:
    r = tenant.options(tenant.user(), version="beta", call=call)
    assert r.status_code == 400
    assert error_of(r)["code"] == "invalidRequest"


def test_v1_refuses_a_custom_challenge_timeout(tenant: Tenant) -> None:
    r = tenant.options(tenant.user(), call="creationOptions(challengeTimeoutInMinutes=10)")
    assert r.status_code == 400
    assert "v1.0" in error_of(r)["message"]


def test_exclude_credentials_lists_the_users_registered_passkeys(tenant: Tenant) -> None:
    user_id = tenant.user()
    assert tenant.provision(user_id, credential_id=b"\x07" * 16).status_code == 201
    [excluded] = tenant.options(user_id).json()["publicKey"]["excludeCredentials"]
    assert excluded == {"type": "public-key", "id": "BwcHBwcHBwcHBwcHBwcHBw", "transports": []}


def test_self_service_options_need_a_signed_in_session(tenant: Tenant) -> None:
    r = tenant.options()
    assert r.status_code == 401
    assert error_of(r)["code"] == "unauthenticated"


def test_self_service_options_are_for_the_signed_in_user(tenant: Tenant) -> None:
    user_id = tenant.user("lidia@contoso.test")
    r = tenant.options(token=tenant.token(user_id))
    assert r.status_code == 200
    assert r.json()["publicKey"]["user"]["name"] == "lidia@contoso.test"


def test_beta_does_not_serve_self_service(tenant: Tenant) -> None:
    token = tenant.token(tenant.user())
    assert tenant.options(version="beta", token=token).status_code == 400
