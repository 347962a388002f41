"""Graph's lists: `@odata.nextLink` pages (absolute, `$skiptoken`), `$top`, and the
`startswith` filters the graph target cleans its leftovers with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .helpers import Tenant, error_of


@pytest.fixture
def paged(tenant: Tenant) -> Iterator[Tenant]:
    """A tenant whose lists come two to a page."""
    assert tenant.client.put("/_emulator/options", json={"pageSize": 2}).status_code == 200
    yield tenant
    assert tenant.client.put("/_emulator/options", json={}).status_code == 200


def _all_pages(client: httpx.Client, path: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Every item by following nextLinks, and the links followed."""
    items, links = [], []
    page = client.get(path).json()
    items += page["value"]
    while "@odata.nextLink" in page:
        links.append(page["@odata.nextLink"])
        page = client.get(links[-1]).json()  # absolute: it works as it comes
        items += page["value"]
    return items, links


def _fill(tenant: Tenant, kind: str) -> tuple[str, list[str]]:
    """Five users, groups or passkeys of one user; the list's path and the ids in order."""
    if kind == "users":
        return "/v1.0/users", [tenant.user(f"u{i}@contoso.test") for i in range(5)]
    if kind == "groups":
        return "/v1.0/groups", [tenant.group(f"pkconf-run-{i}") for i in range(5)]
    user = tenant.user()
    ids = []
    for i in range(5):
        r = tenant.provision(user, credential_id=bytes([i + 1]) * 16)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return f"/v1.0/users/{user}/authentication/fido2Methods", ids


@pytest.mark.parametrize("kind", ["users", "groups", "fido2Methods"])
def test_a_list_comes_in_pages_linked_by_absolute_next_links(paged: Tenant, kind: str) -> None:
    path, ids = _fill(paged, kind)
    items, links = _all_pages(paged.client, path)
    assert [i["id"] for i in items] == ids
    assert len(links) == 2
    assert all(link.startswith(f"{paged.client.base_url}{path}?") and "%24skiptoken=" in link
               for link in links)


def test_default_page_holds_a_hundred(tenant: Tenant) -> None:
    _, ids = _fill(tenant, "groups")
    page = tenant.client.get("/v1.0/groups").json()
    assert ([g["id"] for g in page["value"]], "@odata.nextLink" in page) == (ids, False)


def test_top_sets_the_page_size_and_the_next_link_keeps_it(tenant: Tenant) -> None:
    _, ids = _fill(tenant, "users")
    first = tenant.client.get("/v1.0/users", params={"$top": "3"}).json()
    assert [u["id"] for u in first["value"]] == ids[:3]
    assert "%24top=3" in first["@odata.nextLink"]
    rest = tenant.client.get(first["@odata.nextLink"]).json()
    assert ([u["id"] for u in rest["value"]], "@odata.nextLink" in rest) == (ids[3:], False)


@pytest.mark.parametrize(("path", "filter_", "expected"), [
    ("/v1.0/groups", "startswith(displayName,'pkconf-')", ["pkconf-a", "PKCONF-b"]),
    ("/v1.0/groups", "startswith(displayName,'it''s')", ["it's"]),
    ("/v1.0/groups", "startswith(displayName,'pkconf_')", ["pkconf_"]),  # _ is no wildcard
    ("/v1.0/users", "startswith(userPrincipalName,'pkconf-')", ["pkconf-1@contoso.test"]),
    ("/v1.0/users", "startswith(displayName,'zz')", []),
])
def test_startswith_filter_selects_by_prefix_ignoring_case(tenant: Tenant, path: str,
                                                           filter_: str,
                                                           expected: list[str]) -> None:
    for name in ("pkconf-a", "other", "PKCONF-b", "it's", "pkconf_"):
        tenant.group(name)
    for upn in ("pkconf-1@contoso.test", "alex@contoso.test"):
        tenant.user(upn)
    r = tenant.client.get(path, params={"$filter": filter_})
    assert r.status_code == 200, r.text
    key = "displayName" if "groups" in path else "userPrincipalName"
    assert [item[key] for item in r.json()["value"]] == expected


@pytest.mark.parametrize(("path", "params"), [
    ("/v1.0/groups", {"$filter": "startswith(mailNickname,'x')"}),
    ("/v1.0/groups", {"$filter": "displayName eq 'x'"}),
    ("/v1.0/users", {"$top": "0"}),
    ("/v1.0/users", {"$top": "abc"}),
    ("/v1.0/users", {"$skiptoken": "bm90LW91cnM"}),
])
def test_an_unsupported_query_is_a_clean_400(tenant: Tenant, path: str,
                                             params: dict[str, str]) -> None:
    r = tenant.client.get(path, params=params)
    assert r.status_code == 400
    assert error_of(r)["code"] in ("Request_UnsupportedQuery", "invalidRequest")
