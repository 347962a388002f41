"""The per-case calls' cheaper paths (issue 13) answer as the plain ones did.

A scenario body seen before is not read again, but still lays out a fresh case and still meets
the stored policy as it is now; answers are starlette's JSON bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fido2 import cbor
from starlette.responses import JSONResponse

from pkconf.emulator.http import GraphJson
from pkconf.emulator.server import EmulatorServer
from pkconf.emulator.shapes import public_key
from pkconf.emulator.store import BootstrapScope, Standing, default_policy, iso
from pkconf.tenant.registration import parse_registration
from tests.tenant.builders import make_response

from .helpers import Tenant, error_of

BODY = {"policy": default_policy(), "groups": ["pilots"],
        "user": {"groups": ["pilots"], "mfaAgeSeconds": 60}}


def _post(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    r = tenant.client.post("/_emulator/scenarios", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_repeated_scenario_body_lays_out_a_fresh_case_each_time(
        emulator: EmulatorServer, tenant: Tenant) -> None:
    store = emulator.store
    assert store is not None
    first, second = _post(tenant, BODY), _post(tenant, BODY)
    assert first["userId"] != second["userId"] and first["token"] != second["token"]
    assert first["groups"]["pilots"] != second["groups"]["pilots"]
    for answer in (first, second):
        assert store.standing(answer["userId"]) == Standing(
            frozenset({answer["groups"]["pilots"]}), BootstrapScope(), 0)
        assert tenant.options(None, token=answer["token"]).status_code == 200
    stored = [body["includeTargets"] for _, body in store.policy_versions()[-2:]]
    assert stored == [default_policy()["includeTargets"]] * 2


def test_a_remembered_scenario_body_meets_the_stored_policy_as_it_is_now(
        emulator: EmulatorServer, tenant: Tenant) -> None:
    store = emulator.store
    assert store is not None
    _post(tenant, BODY)
    store.save_policy({**default_policy(), "id": "Other"})  # no PATCH can do this: the store can
    r = tenant.client.post("/_emulator/scenarios", json=BODY)
    assert r.status_code == 400
    assert error_of(r)["message"].startswith("policy.id must be 'Other'")


def test_a_refused_scenario_body_is_refused_every_time(tenant: Tenant) -> None:
    body = {**BODY, "policy": {**default_policy(), "state": "paused"}}
    answers = [tenant.client.post("/_emulator/scenarios", json=body) for _ in range(2)]
    assert [r.status_code for r in answers] == [400, 400]
    assert error_of(answers[0])["message"] == error_of(answers[1])["message"]


@pytest.mark.parametrize("content", [
    {"a": 1, "b": [True, None, 1.5], "c": {"d": "é ✓ \u2028 \"q\""}},
    [],
    "text",
])
def test_graph_json_answers_starlettes_json_bytes(content: Any) -> None:
    assert GraphJson(content).body == JSONResponse(content).body
    assert GraphJson(content).raw_headers == JSONResponse(content).raw_headers


def test_graph_json_refuses_nan_as_starlette_does() -> None:
    with pytest.raises(ValueError):
        JSONResponse(float("nan"))
    with pytest.raises(ValueError):
        GraphJson(float("nan"))


@pytest.mark.parametrize(("moment", "text"), [
    (datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC), "2027-01-02T03:04:05Z"),
    (datetime(2027, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))), "2027-01-02T03:04:05Z"),
    (datetime(2027, 1, 2, 3, 4, 5, 600, tzinfo=UTC), "2027-01-02T03:04:05.000600Z"),
])
def test_iso_writes_utc_with_a_z_whatever_the_offset(moment: datetime, text: str) -> None:
    assert iso(moment) == text


@pytest.mark.parametrize("alg", [-7, -257, -8])  # ES256 as fido2 writes it, RS256, a relabelled key
def test_the_stored_credential_key_is_fidos_encoding_of_it(alg: int) -> None:
    registration = parse_registration(make_response(alg=alg))
    data = registration.auth_data.credential_data
    assert data is not None
    assert public_key(registration) == cbor.encode(dict(data.public_key))
