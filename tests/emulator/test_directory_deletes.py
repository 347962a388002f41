"""The directory as the graph target uses it: Graph's real bodies, the default domain, deletes
that take what hangs off them, and request ids on every answer."""

from __future__ import annotations

from typing import Any

import pytest

from pkconf.emulator.oauth import DEFAULT_DOMAIN
from pkconf.emulator.server import EmulatorServer

from .helpers import Tenant, error_of

PASSWORD = "Never-Echo-Me-9!"  # a test user's password
GRAPH_USER = {"accountEnabled": True, "displayName": "pkconf test user",
              "mailNickname": "pkconf-user-1",
              "userPrincipalName": f"pkconf-user-1@{DEFAULT_DOMAIN}",
              "passwordProfile": {"forceChangePasswordNextSignIn": False, "password": PASSWORD}}
GRAPH_GROUP = {"displayName": "pkconf-run-1", "mailEnabled": False,
               "mailNickname": "pkconf-run-1", "securityEnabled": True}


def test_the_tenant_has_one_verified_default_domain(tenant: Tenant) -> None:
    domains = tenant.client.get("/v1.0/domains").json()["value"]
    assert [(d["id"], d["isDefault"], d["isVerified"]) for d in domains] == [
        (DEFAULT_DOMAIN, True, True)]


def test_graphs_user_body_creates_the_user_and_never_echoes_the_password(
        emulator: EmulatorServer, tenant: Tenant) -> None:
    r = tenant.client.post("/v1.0/users", json=GRAPH_USER)
    assert r.status_code == 201, r.text
    assert r.json()["userPrincipalName"] == GRAPH_USER["userPrincipalName"]
    assert PASSWORD not in r.text
    assert PASSWORD not in tenant.client.get(f"/v1.0/users/{r.json()['id']}").text
    assert emulator.store is not None
    assert not any(PASSWORD in line for line in emulator.store._db.iterdump())


def test_graphs_group_body_creates_a_security_group(tenant: Tenant) -> None:
    r = tenant.client.post("/v1.0/groups", json=GRAPH_GROUP)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["displayName"], body["mailEnabled"], body["securityEnabled"]) == (
        "pkconf-run-1", False, True)


@pytest.mark.parametrize(("path", "field", "value"), [
    ("/v1.0/users", "accountEnabled", "yes"),
    ("/v1.0/users", "passwordProfile", {"password": 1234}),
    ("/v1.0/users", "passwordProfile", "secret"),
    ("/v1.0/groups", "securityEnabled", 1),
    ("/v1.0/groups", "mailNickname", ["x"]),
])
def test_a_mistyped_graph_body_is_a_400_naming_the_field(tenant: Tenant, path: str, field: str,
                                                         value: Any) -> None:
    body = {**(GRAPH_USER if path.endswith("users") else GRAPH_GROUP), field: value}
    r = tenant.client.post(path, json=body)
    assert r.status_code == 400
    assert error_of(r)["message"].startswith(field)
    assert PASSWORD not in r.text


def test_deleting_a_user_takes_their_passkeys_and_memberships(emulator: EmulatorServer,
                                                              tenant: Tenant) -> None:
    user, group = tenant.user(), tenant.group()
    assert tenant.add_member(group, user).status_code == 204
    assert tenant.provision(user).status_code == 201
    assert tenant.client.delete(f"/v1.0/users/{user}").status_code == 204
    assert tenant.client.get(f"/v1.0/users/{user}").status_code == 404
    assert emulator.store is not None
    assert (emulator.store.credentials(user), emulator.store.groups_of(user)) == ([], frozenset())
    assert tenant.client.get(f"/v1.0/users/{user}/authentication/fido2Methods").status_code == 404
    assert tenant.client.delete(f"/v1.0/users/{user}").status_code == 404


def test_deleting_a_group_takes_its_memberships_not_its_members(emulator: EmulatorServer,
                                                                tenant: Tenant) -> None:
    user, group = tenant.user(), tenant.group()
    assert tenant.add_member(group, user).status_code == 204
    assert tenant.client.delete(f"/v1.0/groups/{group}").status_code == 204
    assert tenant.client.get(f"/v1.0/groups/{group}").status_code == 404
    assert emulator.store is not None
    assert emulator.store.groups_of(user) == frozenset()
    assert tenant.client.get(f"/v1.0/users/{user}").status_code == 200
    assert tenant.client.delete(f"/v1.0/groups/{group}").status_code == 404


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/v1.0/domains", 200),
    ("POST", "/v1.0/groups", 201),
    ("GET", "/v1.0/users/nobody", 404),
    ("GET", "/_emulator/health", 200),
    ("GET", "/no/such/resource", 404),
])
def test_every_answer_carries_request_ids_echoing_the_clients(tenant: Tenant, method: str,
                                                              path: str, status: int) -> None:
    r = tenant.client.request(method, path, json=GRAPH_GROUP if method == "POST" else None,
                              headers={"client-request-id": "pkconf-42"})
    assert r.status_code == status
    assert r.headers["client-request-id"] == "pkconf-42"
    assert len(r.headers["request-id"]) == 36
    if status >= 400:
        assert error_of(r)["innerError"]["request-id"] == r.headers["request-id"]


def test_request_ids_are_fresh_per_request_and_made_up_when_the_client_sends_none(
        tenant: Tenant) -> None:
    first, second = (tenant.client.get("/v1.0/domains") for _ in range(2))
    assert first.headers["request-id"] != second.headers["request-id"]
    assert first.headers["client-request-id"] != second.headers["client-request-id"]
