"""Fuzzing the emulator's endpoints in process (starlette's TestClient over `create_app` and
an in-memory `Store`). Invariant: every answer is below 500; the app raises nothing; no request
hangs (harness.py).

Registrations start from a response built for a challenge the emulator just issued (fmt none,
so any change to it is judged as far as the decision goes), then one part is replaced or its
bytes edited. Policy writes, scenarios and any route with any body complete the surface.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from fido2.utils import websafe_decode, websafe_encode
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Mount, Route

from pkconf.emulator.app import create_app
from pkconf.emulator.store import Store
from pkconf.paths import FIXTURES
from tests.emulator.helpers import FIDO2_POLICY
from tests.tenant.builders import make_response

from . import harness
from .harness import fuzz
from .strategies import edit, edits, json_values, leaves, replaced

with warnings.catch_warnings():  # starlette would rather have httpx2; the project has httpx
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# path parameter text: printable (httpx refuses control characters before the app sees them)
SEGMENT_ALPHABET = "".join(c for c in map(chr, range(33, 0x300))
                           if c.isprintable() and c not in "/?#%")
CONTENT_TYPES = ("application/json", "text/plain", "application/x-www-form-urlencoded", "")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    store = Store()
    with TestClient(create_app(store), raise_server_exceptions=False) as test_client:
        yield test_client
    store.close()


@pytest.fixture(scope="module")
def user_id(client: TestClient) -> str:
    r = client.post("/v1.0/users", json={"userPrincipalName": "fuzz@contoso.test",
                                         "displayName": "fuzz"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _paths(routes: list[BaseRoute], prefix: str = "") -> list[str]:
    out: list[str] = []
    for route in routes:
        if isinstance(route, Mount):
            out += _paths(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            out.append(prefix + route.path)
    return out


PATHS = sorted(set(_paths(list(create_app(Store()).routes))))  # every route the app has


def _checked(target: str, status: int, text: str) -> None:
    if status >= 500:
        harness.server_errors[target] += 1
    assert status < 500, text[:500]


@st.composite
def registrations(draw: st.DrawFn, challenge: bytes) -> Any:
    """A response to `challenge`, then one part of it replaced or edited."""
    response = make_response(challenge=challenge)
    match draw(st.sampled_from(("value", "clientDataJSON", "attestationObject", "as-is"))):
        case "value":
            path = draw(st.sampled_from(leaves(response)))
            return replaced(response, path, draw(json_values))
        case "as-is":
            return response
        case part:
            raw = websafe_decode(response["response"][part])
            response["response"][part] = websafe_encode(edit(raw, draw(edits)))
            return response


@fuzz("emulator: POST fido2Methods", http=True, data=st.data(), wrap=st.booleans())
def test_a_hostile_registration_is_answered_below_500(client: TestClient, user_id: str,
                                                      data: st.DataObject, wrap: bool) -> None:
    options = client.get(f"/v1.0/users/{user_id}/authentication/fido2Methods/creationOptions")
    _checked("emulator: POST fido2Methods", options.status_code, options.text)
    challenge = websafe_decode(options.json()["publicKey"]["challenge"])
    credential = data.draw(registrations(challenge))
    body = {"publicKeyCredential": credential} if wrap else credential
    r = client.post(f"/v1.0/users/{user_id}/authentication/fido2Methods", json=body)
    _checked("emulator: POST fido2Methods", r.status_code, r.text)


@st.composite
def policy_bodies(draw: st.DrawFn) -> Any:
    """A fixture policy with one value replaced, a part of one, or any JSON."""
    policy = json.loads(draw(st.sampled_from(sorted((FIXTURES / "policies").glob("*.json"))))
                        .read_text())
    match draw(st.sampled_from(("value", "part", "any"))):
        case "value":
            return replaced(policy, draw(st.sampled_from(leaves(policy))), draw(json_values))
        case "part":
            keys = draw(st.lists(st.sampled_from(sorted(policy)), unique=True))
            return {k: policy[k] for k in keys}
    return draw(json_values)


@fuzz("emulator: PATCH fido2 policy", http=True, body=policy_bodies())
def test_a_hostile_policy_write_is_answered_below_500(client: TestClient, body: Any) -> None:
    r = client.patch(FIDO2_POLICY, json=body)
    _checked("emulator: PATCH fido2 policy", r.status_code, r.text)
    after = client.patch(FIDO2_POLICY, json={"state": "enabled"})  # the next write still works
    _checked("emulator: PATCH fido2 policy", after.status_code, after.text)


@fuzz("emulator: POST scenarios", http=True, policy=policy_bodies(), user=st.dictionaries(
    st.sampled_from(("userType", "groups", "mfaAgeSeconds", "tap", "windowsHelloForBusiness",
                     "inTapPolicy", "platformCredentials")), json_values, max_size=4),
    groups=json_values | st.lists(st.text(max_size=8), max_size=3), extra=json_values)
def test_a_hostile_scenario_is_answered_below_500(client: TestClient, policy: Any, user: Any,
                                                  groups: Any, extra: Any) -> None:
    body = {"policy": policy, "user": user, "groups": groups, "other": extra}
    r = client.post("/_emulator/scenarios", json=body)
    _checked("emulator: POST scenarios", r.status_code, r.text)
    after = client.patch(FIDO2_POLICY, json={"state": "enabled"})  # issue 14, fault 3
    _checked("emulator: POST scenarios", after.status_code, after.text)


@fuzz("emulator: any route", http=True, data=st.data(), method=st.sampled_from(METHODS),
      segment=st.text(SEGMENT_ALPHABET, min_size=1, max_size=24),
      body=json_values.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=200),
      content_type=st.sampled_from(CONTENT_TYPES))
def test_any_request_to_any_route_is_answered_below_500(
        client: TestClient, data: st.DataObject, method: str, segment: str, body: bytes,
        content_type: str) -> None:
    """Every route of the app (its path parameters filled with any text), any method, any
    body, any content type; the paths come from the app itself, so new routes join."""
    template = data.draw(st.sampled_from(PATHS))
    path = "/".join(segment if part.startswith("{") else part for part in template.split("/"))
    headers = {"content-type": content_type} if content_type else {}
    r = client.request(method, path, content=body, headers=headers)
    _checked("emulator: any route", r.status_code, r.text)
