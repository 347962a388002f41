"""Temporary Access Pass: creation, sign-in windows, one-time consumption, registration age."""

from __future__ import annotations

import pytest

from tests.tenant.builders import make_response

from .helpers import Tenant, error_of, reason_of


def test_new_tap_shows_its_pass_once_with_documented_defaults(tenant: Tenant) -> None:
    r = tenant.tap(tenant.user())
    assert r.status_code == 201
    body = r.json()
    assert body["@odata.type"] == "#microsoft.graph.temporaryAccessPassAuthenticationMethod"
    assert len(body["temporaryAccessPass"]) == 8
    assert (body["lifetimeInMinutes"], body["isUsableOnce"], body["isUsable"],
            body["methodUsabilityReason"]) == (60, False, True, "EnabledByPolicy")


@pytest.mark.parametrize("lifetime", [9, 43201, 0, -1])
def test_tap_lifetime_outside_10_to_43200_minutes_is_refused(tenant: Tenant,
                                                             lifetime: int) -> None:
    r = tenant.tap(tenant.user(), lifetimeInMinutes=lifetime)
    assert r.status_code == 400
    assert "lifetimeInMinutes" in error_of(r)["message"]


def test_tap_starting_later_is_not_yet_usable(tenant: Tenant) -> None:
    user_id = tenant.user()
    r = tenant.tap(user_id, startDateTime="2999-01-01T00:00:00Z")
    assert (r.json()["isUsable"], r.json()["methodUsabilityReason"]) == (False, "NotYetValid")
    signed_in = tenant.sign_in(user_id, "tap", temporaryAccessPass=r.json()["temporaryAccessPass"])
    assert signed_in.status_code == 401
    assert "NotYetValid" in error_of(signed_in)["message"]


def test_one_time_tap_is_consumed_by_its_first_sign_in(tenant: Tenant) -> None:
    user_id = tenant.user()
    secret = tenant.tap(user_id, isUsableOnce=True).json()["temporaryAccessPass"]
    assert tenant.sign_in(user_id, "tap", temporaryAccessPass=secret).status_code == 201
    again = tenant.sign_in(user_id, "tap", temporaryAccessPass=secret)
    assert again.status_code == 401
    assert "OneTimeUsed" in error_of(again)["message"]


def test_multi_use_tap_signs_in_more_than_once(tenant: Tenant) -> None:
    user_id = tenant.user()
    secret = tenant.tap(user_id).json()["temporaryAccessPass"]
    statuses = [tenant.sign_in(user_id, "tap", temporaryAccessPass=secret).status_code
                for _ in range(2)]
    assert statuses == [201, 201]


def test_expired_tap_is_refused_at_sign_in(tenant: Tenant) -> None:
    user_id = tenant.user()
    secret = tenant.tap(user_id, lifetimeInMinutes=10).json()["temporaryAccessPass"]
    tenant.advance(600)
    r = tenant.sign_in(user_id, "tap", temporaryAccessPass=secret)
    assert r.status_code == 401
    assert "Expired" in error_of(r)["message"]


@pytest.mark.parametrize(("secret", "status"), [("WRONG123", 401), ("", 400)])
def test_wrong_pass_does_not_sign_in(tenant: Tenant, secret: str, status: int) -> None:
    user_id = tenant.user()
    tenant.tap(user_id)
    assert tenant.sign_in(user_id, "tap", temporaryAccessPass=secret).status_code == status


def test_another_users_pass_does_not_sign_in(tenant: Tenant) -> None:
    alice, bob = tenant.user("alice@contoso.test"), tenant.user("bob@contoso.test")
    secret = tenant.tap(alice).json()["temporaryAccessPass"]
    assert tenant.sign_in(bob, "tap", temporaryAccessPass=secret).status_code == 401


@pytest.mark.parametrize(("minutes_later", "status"), [(10, 201), (11, 403)])
def test_one_time_tap_registration_must_finish_within_ten_minutes(tenant: Tenant,
                                                                  minutes_later: int,
                                                                  status: int) -> None:
    user_id = tenant.user()
    secret = tenant.tap(user_id, isUsableOnce=True).json()["temporaryAccessPass"]
    token = tenant.token(user_id, "tap", temporaryAccessPass=secret)
    tenant.advance(minutes_later * 60)
    r = tenant.register(None, make_response(challenge=tenant.challenge(token=token)), token=token)
    assert r.status_code == status
    if status == 403:
        assert reason_of(r) == "TAP_EXPIRED"


def test_sign_in_can_be_backdated_but_not_future_dated(tenant: Tenant) -> None:
    user_id = tenant.user()
    tenant.client.put("/_emulator/clock", json={"now": "2026-03-01T12:00:00Z"})
    past = tenant.sign_in(user_id, "mfa", at="2026-03-01T11:50:00Z")
    assert (past.status_code, past.json()["signedInDateTime"]) == (201, "2026-03-01T11:50:00Z")
    assert tenant.sign_in(user_id, "mfa", at="2026-03-01T12:00:01Z").status_code == 400
