"""Injected throttling and outages, and the fido2 policy's own write throttle and size limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pkconf.emulator.faults import WriteThrottle

from .helpers import FIDO2_POLICY, Tenant, error_of


@pytest.fixture
def faults(tenant: Tenant) -> Iterator[httpx.Client]:
    """The emulator's client with every fault and option back to its start afterwards."""
    yield tenant.client
    assert tenant.client.delete("/_emulator/faults").status_code == 204
    assert tenant.client.put("/_emulator/options", json={}).status_code == 200


@pytest.mark.parametrize(("status", "code"), [(429, "TooManyRequests"),
                                              (503, "serviceNotAvailable")])
def test_the_next_count_matching_requests_get_the_fault_with_retry_after(
        faults: httpx.Client, status: int, code: int) -> None:
    r = faults.post("/_emulator/faults", json={"status": status, "count": 2, "retryAfter": 7})
    assert r.status_code == 201, r.text
    for _ in range(2):
        r = faults.get(FIDO2_POLICY, headers={"client-request-id": "abc"})
        assert (r.status_code, r.headers["Retry-After"]) == (status, "7")
        error = error_of(r)
        assert error["code"] == code
        assert error["innerError"]["client-request-id"] == "abc"
        assert error["innerError"]["request-id"] == r.headers["request-id"]
    assert faults.get(FIDO2_POLICY).status_code == 200
    assert faults.get("/_emulator/faults").json()["value"] == []


def test_a_fault_meets_only_its_method_and_path(faults: httpx.Client, tenant: Tenant) -> None:
    faults.post("/_emulator/faults", json={"status": 429, "count": 1, "method": "post",
                                           "path": r"/fido2Methods$"})
    user = tenant.user()
    assert tenant.options(user).status_code == 200  # a GET under the same path: untouched
    r = tenant.client.post(f"/v1.0/users/{user}/authentication/fido2Methods", json={})
    assert (r.status_code, r.headers["Retry-After"]) == (429, "1")
    assert tenant.client.post(f"/v1.0/users/{user}/authentication/fido2Methods",
                              json={}).status_code == 400  # spent: the request goes through


def test_the_emulators_controls_are_never_faulted(faults: httpx.Client) -> None:
    faults.post("/_emulator/faults", json={"status": 503, "count": 5, "path": ".*"})
    assert faults.get("/_emulator/health").status_code == 200
    assert faults.delete("/_emulator/faults").status_code == 204
    assert faults.get(FIDO2_POLICY).status_code == 200


@pytest.mark.parametrize("body", [
    {"status": 500}, {"status": 429, "count": 0}, {"status": 429, "retryAfter": -1},
    {"status": 429, "path": "("}, {"count": 1}, {"status": "429"},
])
def test_an_unusable_fault_is_refused(faults: httpx.Client, body: dict[str, Any]) -> None:
    r = faults.post("/_emulator/faults", json=body)
    assert r.status_code == 400
    assert error_of(r)["code"] == "invalidRequest"


def test_policy_writes_over_the_per_minute_limit_are_throttled(faults: httpx.Client,
                                                               tenant: Tenant) -> None:
    assert faults.put("/_emulator/options", json={"policyWritesPerMinute": 2}).status_code == 200
    assert [tenant.patch_policy(state="enabled").status_code for _ in range(2)] == [204, 204]
    r = tenant.patch_policy(state="enabled")
    assert r.status_code == 429
    assert error_of(r)["code"] == "TooManyRequests"
    assert 1 <= int(r.headers["Retry-After"]) <= 60


def test_the_write_throttle_forgets_writes_older_than_a_minute() -> None:
    now = [0.0]
    throttle = WriteThrottle(clock=lambda: now[0])
    assert [throttle.admit(2) for _ in range(3)] == [None, None, 60]
    now[0] = 30.0
    assert throttle.admit(2) == 30
    now[0] = 60.0
    assert throttle.admit(2) is None
    assert throttle.admit(None) is None  # no limit: every write passes, none is counted
    assert [throttle.admit(2) for _ in range(2)] == [None, None]


def test_policy_is_not_throttled_by_default(tenant: Tenant) -> None:
    assert {tenant.patch_policy(state="enabled").status_code for _ in range(15)} == {204}


def test_a_policy_over_20_kb_is_refused_and_not_stored(tenant: Tenant) -> None:
    before = tenant.client.get(FIDO2_POLICY).json()
    profile = before["passkeyProfiles"][0]
    aaguids = [f"{i:08x}-0000-4000-8000-000000000000" for i in range(600)]
    big = {**profile, "keyRestrictions": {"isEnforced": True, "enforcementType": "allow",
                                          "aaGuids": aaguids}}
    r = tenant.patch_policy(passkeyProfiles=[big])
    assert r.status_code == 400
    assert "at most 20 KB" in error_of(r)["message"]
    assert tenant.client.get(FIDO2_POLICY).json() == before
