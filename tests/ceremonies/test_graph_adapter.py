"""The graph target's pieces that need no tenant: id encodings, policy comparison, the restore
file, Retry-After, and the options that guard a real tenant."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from pkconf.ceremonies.graph_client import (
    MAX_WAIT_SECONDS,
    GraphError,
    GraphSettings,
    _retry_after,
    graph_settings,
)
from pkconf.ceremonies.graph_target import (
    RestoreFile,
    decode_credential_id,
    policy_model,
    retarget,
    writable,
)
from pkconf.ceremonies.tenant import TenantError
from pkconf.paths import package_dir

RAW = bytes(range(1, 33))  # 32 bytes: base64url without padding is 43 characters
URL = base64.urlsafe_b64encode(RAW).rstrip(b"=").decode()


def _policy(name: str = "strict.json") -> dict[str, Any]:
    policies = package_dir("pkconf_fixtures") / "policies"
    path = policies / name if (policies / name).exists() else next(policies.glob("*.json"))
    return json.loads(path.read_text())


def _digit_form(raw: bytes) -> str:
    """.NET's UrlTokenEncode: base64url without padding, then the count of '=' removed."""
    padded = base64.urlsafe_b64encode(raw).decode()
    return padded.rstrip("=") + str(len(padded) - len(padded.rstrip("=")))


@pytest.mark.parametrize(("raw", "text", "encoding"), [
    (RAW, URL, "base64url"),
    (RAW, base64.b64encode(RAW).decode(), "base64"),
    (RAW[:27], _digit_form(RAW[:27]), "base64url-padding-digit"),  # 36 + "0": 37 characters
    (RAW[:31], _digit_form(RAW[:31]), "base64url-padding-digit"),  # 42 + "2": not canonical
])
def test_exclude_credentials_ids_are_read_in_each_encoding_tenants_use(
        raw: bytes, text: str, encoding: str) -> None:
    assert decode_credential_id(text) == (raw, encoding)


def test_an_id_valid_in_two_encodings_is_read_as_the_known_credential_it_names() -> None:
    """32 bytes in the digit form are 44 characters that also read as plain base64url."""
    text = _digit_form(RAW)
    assert decode_credential_id(text, frozenset({RAW})) == (RAW, "base64url-padding-digit")
    assert decode_credential_id(text)[1] == "base64url"  # unknown: the documented reading


def test_an_id_in_no_known_encoding_is_a_tenant_error() -> None:
    with pytest.raises(TenantError, match="no known encoding"):
        decode_credential_id("not base64!")


def test_policies_compare_by_meaning_not_by_spelling() -> None:
    policy = _policy()
    reordered = dict(reversed(list(policy.items())))
    assert policy_model(reordered) == policy_model(policy)
    assert policy_model({**policy, "@odata.context": "https://graph/$metadata#x"}) == \
        policy_model(policy)
    assert policy_model({**policy, "state": "disabled"}) != policy_model(policy)
    assert policy_model({"state": 3}) is None


def test_group_names_in_targets_become_the_tenants_group_ids() -> None:
    policy = {"includeTargets": [{"id": "all_users"}, {"id": "SG-Pilot"}],
              "excludeTargets": [{"id": "SG-Out"}]}
    assert retarget(policy, {"SG-Pilot": "g1", "SG-Out": "g2"}) == {
        "includeTargets": [{"id": "all_users"}, {"id": "g1"}], "excludeTargets": [{"id": "g2"}]}


def test_a_restore_file_keeps_the_policy_as_a_patch_body_and_never_a_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PKCONF_CLIENT_SECRET", "s3cret-value")
    settings = GraphSettings(tenant="t1", client_id="app1", authority="https://login.example/t1")
    restore = RestoreFile(tmp_path / "restore.json")
    restore.save(settings, {**_policy(), "@odata.context": "ctx"})
    body = restore.read()
    assert body["policy"] == writable(_policy()) and "@odata.context" not in body["policy"]
    assert restore.settings() == settings
    assert "s3cret-value" not in restore.path.read_text()


@pytest.mark.parametrize(("content", "says"), [
    ("{", "is not JSON"), ('{"schema": 1}', "not a pkconf restore file"),
])
def test_a_damaged_restore_file_is_refused_in_one_line(tmp_path: Path, content: str,
                                                       says: str) -> None:
    path = tmp_path / "restore.json"
    path.write_text(content)
    with pytest.raises(TenantError, match=says):
        RestoreFile(path).read()


@pytest.mark.parametrize(("header", "seconds"), [
    ("7", 7.0), ("0", 0.0), ("100000", MAX_WAIT_SECONDS), ("soon", 4.0),
])
def test_retry_after_is_honoured_in_seconds_and_capped(header: str, seconds: float) -> None:
    response = httpx.Response(429, headers={"Retry-After": header})
    assert _retry_after(response, attempt=2) == seconds


def test_retry_after_as_an_http_date_waits_until_then() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= _retry_after(httpx.Response(503, headers={"Retry-After": when}), 0) <= 30


@pytest.mark.parametrize(("given", "says"), [
    ({}, "needs --tenant and --client-id"),
    ({"--tenant": "t", "--client-id": "c", "--certificate": "/no/such.pem"}, "no such file"),
    ({"--tenant": "t", "--client-id": "c", "--graph-url": "http://127.0.0.1"}, "https://"),
])
def test_graph_settings_refuse_missing_or_unusable_options(given: dict[str, str],
                                                           says: str) -> None:
    with pytest.raises(GraphError, match=says):
        graph_settings(given.get)


def test_a_token_for_a_national_cloud_asks_that_clouds_graph() -> None:
    us = GraphSettings(tenant="t", client_id="c", graph_url="https://graph.microsoft.us")
    local = GraphSettings(tenant="t", client_id="c", graph_url="https://127.0.0.1:8443")
    assert (us.scope, local.scope) == ("https://graph.microsoft.us/.default",
                                       "https://graph.microsoft.com/.default")
    assert us.authority_url == "https://login.microsoftonline.com/t"
