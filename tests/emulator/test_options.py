"""`/_emulator/options`: excludeCredentials ids in each encoding real tenants send, and answers
without the emulator's decision annotations, as a real tenant answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pkconf.emulator.server import EmulatorServer

from .helpers import Tenant, error_of

DEFAULTS = {"excludeCredentialsEncoding": "base64url", "pageSize": 100, "annotations": True,
            "policyWritesPerMinute": None}


@pytest.fixture
def options(tenant: Tenant) -> Iterator[httpx.Client]:
    yield tenant.client
    assert tenant.client.put("/_emulator/options", json={}).json() == DEFAULTS


def _exclude_ids(tenant: Tenant, user: str) -> list[str]:
    r = tenant.options(user)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["publicKey"]["excludeCredentials"]]


@pytest.mark.parametrize(("encoding", "expected"), [
    # 16 bytes: two '=' of padding; 17 bytes: one
    ("base64url", ["--------------------_w", "AAAAAAAAAAAAAAAAAAAAAAA"]),
    ("base64", ["++++++++++++++++++++/w==", "AAAAAAAAAAAAAAAAAAAAAAA="]),
    ("base64url-padding-digit", ["--------------------_w2", "AAAAAAAAAAAAAAAAAAAAAAA1"]),
])
def test_exclude_credentials_ids_come_in_the_chosen_encoding(options: httpx.Client,
                                                             tenant: Tenant, encoding: str,
                                                             expected: list[str]) -> None:
    user = tenant.user()
    for credential_id in (b"\xfb\xef\xbe" * 5 + b"\xff", b"\x00" * 17):
        assert tenant.provision(user, credential_id=credential_id).status_code == 201
    r = options.put("/_emulator/options", json={"excludeCredentialsEncoding": encoding})
    assert r.json()["excludeCredentialsEncoding"] == encoding
    assert _exclude_ids(tenant, user) == expected


def test_without_annotations_answers_carry_no_decision(options: httpx.Client,
                                                       tenant: Tenant) -> None:
    assert options.put("/_emulator/options", json={"annotations": False}).status_code == 200
    user = tenant.user()
    accepted = tenant.provision(user)
    assert accepted.status_code == 201
    assert not any(key.startswith("@pkconf") for key in accepted.json())
    refused = tenant.provision(user)  # the same credential id again
    assert refused.status_code == 400
    assert set(error_of(refused)["innerError"]) == {"date", "request-id", "client-request-id"}


def test_options_put_replaces_the_whole_setting(options: httpx.Client) -> None:
    options.put("/_emulator/options", json={"pageSize": 5, "annotations": False})
    r = options.put("/_emulator/options", json={"pageSize": 7})
    assert r.json() == {**DEFAULTS, "pageSize": 7}
    assert options.get("/_emulator/options").json() == r.json()


def test_reset_returns_the_options_to_the_starts(options: httpx.Client) -> None:
    options.put("/_emulator/options", json={"pageSize": 5})
    assert options.post("/_emulator/reset").status_code == 204
    assert options.get("/_emulator/options").json() == DEFAULTS


@pytest.mark.parametrize("body", [
    {"excludeCredentialsEncoding": "hex"}, {"pageSize": 0}, {"pageSize": 1000},
    {"annotations": "no"}, {"policyWritesPerMinute": 0}, {"colour": "blue"},
])
def test_an_unusable_option_is_refused(options: httpx.Client, body: dict[str, Any]) -> None:
    r = options.put("/_emulator/options", json=body)
    assert r.status_code == 400
    assert error_of(r)["code"] == "invalidRequest"


def test_a_faithful_emulator_starts_and_resets_without_annotations() -> None:
    with EmulatorServer(faithful=True) as server, \
            httpx.Client(base_url=server.base_url) as client:
        assert client.post("/_emulator/reset").status_code == 204
        assert client.get("/_emulator/options").json() == {**DEFAULTS, "annotations": False}
