"""Origins: the rule book's, plus the Security-info pages' own for the requests they make."""

from __future__ import annotations

import pytest

from pkconf.hosts import PAGES_ORIGIN
from pkconf.tenant.rules import ORIGIN
from tests.tenant.builders import make_response

from .helpers import Tenant, reason_of


def _register(tenant: Tenant, origin: str, request_origin: str | None) -> str:
    """Self-service registration of a response made for `origin`, posted with the Origin
    header `request_origin`; the decision's reason."""
    user_id = tenant.user()
    token = tenant.token(user_id)
    credential = make_response(origin=origin, challenge=tenant.challenge(token=token))
    headers = {"Authorization": f"Bearer {token}",
               **({"Origin": request_origin} if request_origin else {})}
    r = tenant.client.post("/v1.0/me/authentication/fido2Methods",
                           json={"publicKeyCredential": credential}, headers=headers)
    return "ACCEPTED" if r.status_code == 201 else reason_of(r)


@pytest.mark.parametrize(("origin", "request_origin", "reason"), [
    pytest.param(PAGES_ORIGIN, PAGES_ORIGIN, "ACCEPTED", id="the-pages-own-request"),
    pytest.param(PAGES_ORIGIN, None, "ORIGIN_MISMATCH", id="another-client"),
    pytest.param(PAGES_ORIGIN, ORIGIN, "ORIGIN_MISMATCH", id="a-login-page-request"),
    pytest.param(ORIGIN, None, "ACCEPTED", id="the-rule-books-origin-from-anywhere"),
    pytest.param(ORIGIN, PAGES_ORIGIN, "ACCEPTED", id="the-rule-books-origin-from-the-pages"),
])
def test_the_pages_origin_is_accepted_only_on_the_requests_the_pages_make(
        tenant: Tenant, origin: str, request_origin: str | None, reason: str) -> None:
    assert _register(tenant, origin, request_origin) == reason


def test_the_rp_lists_the_pages_origin_as_a_related_origin(tenant: Tenant) -> None:
    assert tenant.client.get("/.well-known/webauthn").json() == {"origins": [PAGES_ORIGIN]}
