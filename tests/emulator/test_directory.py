"""Users, groups and memberships through the Graph-shaped directory endpoints."""

from __future__ import annotations

import pytest

from .helpers import Tenant, error_of


def test_created_user_reads_back_with_graph_shape(tenant: Tenant) -> None:
    user_id = tenant.user("megan@contoso.test")
    r = tenant.client.get(f"/v1.0/users/{user_id}")
    assert r.status_code == 200
    body = r.json()
    assert body["@odata.type"] == "#microsoft.graph.user"
    assert (body["id"], body["userPrincipalName"], body["displayName"], body["userType"]) == (
        user_id, "megan@contoso.test", "megan", "Member")


def test_guest_user_keeps_its_user_type(tenant: Tenant) -> None:
    user_id = tenant.user("guest_fabrikam.test#EXT#@contoso.test", user_type="Guest")
    assert tenant.client.get(f"/beta/users/{user_id}").json()["userType"] == "Guest"


def test_second_user_with_the_same_upn_is_refused(tenant: Tenant) -> None:
    tenant.user("alex@contoso.test")
    r = tenant.client.post("/v1.0/users", json={"userPrincipalName": "alex@contoso.test",
                                                "displayName": "Alex again"})
    assert r.status_code == 400
    assert "already in use" in error_of(r)["message"]


def test_group_membership_is_added_once_and_removed(tenant: Tenant) -> None:
    user_id, group_id = tenant.user(), tenant.group()
    assert tenant.add_member(group_id, user_id).status_code == 204
    assert tenant.add_member(group_id, user_id).status_code == 400
    path = f"/v1.0/groups/{group_id}/members/{user_id}/$ref"
    assert tenant.client.delete(path).status_code == 204
    assert tenant.client.delete(path).status_code == 404


def test_group_reads_back(tenant: Tenant) -> None:
    group_id = tenant.group("Security keys only")
    body = tenant.client.get(f"/v1.0/groups/{group_id}").json()
    assert (body["id"], body["displayName"]) == (group_id, "Security keys only")


@pytest.mark.parametrize("ref", [
    "https://graph.microsoft.com/v1.0/directoryObjects/{id}",
    "https://graph.microsoft.com/v1.0/users/{id}",
])
def test_membership_reference_accepts_directory_object_and_user_urls(tenant: Tenant,
                                                                     ref: str) -> None:
    user_id, group_id = tenant.user(), tenant.group()
    r = tenant.client.post(f"/v1.0/groups/{group_id}/members/$ref",
                           json={"@odata.id": ref.format(id=user_id)})
    assert r.status_code == 204
