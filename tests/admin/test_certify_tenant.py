"""`pkconf certify --target graph`: the authenticator provisioned on a tenant through Graph, each
answer compared with the in-process verdict, the tenant's policy read only unless changes are
allowed, and restored after them; without a tenant, the comparison and the report's sections."""

from __future__ import annotations

import html
import json
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from pkconf.admin.certify import (
    CURRENT_POLICY,
    TEST_PKI_ATTESTED,
    Certification,
    TenantResult,
    TenantSection,
    certify,
    plan,
    render_html,
    sample_profile,
)
from pkconf.authenticators.files import resolve_profile
from pkconf.ceremonies.ctap import Setup
from pkconf.ceremonies.graph_client import SECRET_ENV
from pkconf.ceremonies.result import CeremonyResult, TenantRefusal
from pkconf.cli import main
from pkconf.emulator.oauth import GRAPH_SCOPE
from pkconf.emulator.server import EmulatorServer
from pkconf.inputs import read_metadata, read_rule_book
from pkconf.tenant.decision import Decision, Outcome, RegistrationPath
from pkconf.tenant.rules import Reason

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "s3cret~certify-tenant"  # a test secret
FIDO2_POLICY = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
AUTHENTICATOR = "yubikey-5-usb"  # attested by the suite's test PKI, device-bound
PROVISIONING = [c for c in plan() if c.path is RegistrationPath.PROVISIONING]
ENFORCING = [c for c in PROVISIONING if c.attestation == "registrationOnly"]

ACCEPTED = Decision(Outcome.ACCEPTED, Reason.ACCEPTED, "accepted")
BLOCKED = Decision(Outcome.REJECTED, Reason.AAGUID_BLOCKED, "on the block list")
NOT_ALLOWED = Decision(Outcome.REJECTED, Reason.AAGUID_NOT_ALLOWED, "not on the allow list")
REFUSED = TenantRefusal(400, "invalidRequest", "The request is invalid.")


# --- the comparison, without a tenant --------------------------------------------------------

@pytest.mark.parametrize(("expected", "observed", "verdict"), [
    (ACCEPTED, ACCEPTED, "agrees"),
    (BLOCKED, BLOCKED, "agrees"),
    (BLOCKED, REFUSED, "agrees"),  # a real tenant names no reason: the outcome compares
    (ACCEPTED, REFUSED, "differs"),
    (BLOCKED, ACCEPTED, "differs"),
    (BLOCKED, NOT_ALLOWED, "differs"),  # the emulator names its reason: it must be the same
    (ACCEPTED, None, "skipped"),
])
def test_a_tenant_result_agrees_when_its_outcome_and_any_reason_it_names_match(
        expected: Decision, observed: Decision | TenantRefusal | None, verdict: str) -> None:
    result = TenantResult("c", expected, observed, skipped="" if observed else "why not")
    assert result.verdict == verdict
    assert result.to_json()["result"] == verdict


def test_a_tenant_result_keeps_the_graph_error_status_and_request_ids() -> None:
    ceremony = CeremonyResult(status=400, response={"error": {
        "code": "invalidRequest", "message": "The request is invalid.",
        "innerError": {"request-id": "r-2", "date": "2026-11-29T13:00:00"}}})
    ceremony.decision = REFUSED
    result = TenantResult.of("c", BLOCKED, ceremony, ["r-1", "r-2"], policy_changed=True)
    assert result.to_json() == {
        "configuration": "c", "result": "agrees", "expected": BLOCKED.to_json(),
        "tenant": {"status": 400, "outcome": "rejected", "decision": REFUSED.to_json(),
                   "error": {"code": "invalidRequest", "message": "The request is invalid."},
                   "requestIds": ["r-1", "r-2"], "policyChanged": True}}


def _section() -> TenantSection:
    return TenantSection("tenant-<1>", "https://graph.microsoft.com",
                         datetime(2026, 11, 29, 13, 0, tzinfo=UTC), True, [
                             TenantResult(CURRENT_POLICY, ACCEPTED, ACCEPTED, 201,
                                          request_ids=("req-a",)),
                             TenantResult("blocked", BLOCKED, ACCEPTED, 201,
                                          request_ids=("req-b",), policy_changed=True),
                             TenantResult("enforced", ACCEPTED, skipped=TEST_PKI_ATTESTED)])


def test_the_tenant_section_counts_agreements_differences_and_skips() -> None:
    section = _section()
    assert section.summary_line() == "tenant: 1 agree, 1 differ (1 skipped)"
    body = section.to_json()
    assert (body["id"], body["graphUrl"], body["at"], body["policyChanges"]) == (
        "tenant-<1>", "https://graph.microsoft.com", "2026-11-29T13:00:00+00:00", True)
    assert (body["agree"], body["differ"], body["skipped"]) == (1, 1, 1)
    assert [r["result"] for r in body["results"]] == ["agrees", "differs", "skipped"]
    assert body["results"][2]["skipped"] == TEST_PKI_ATTESTED


@pytest.fixture(scope="module")
def certification() -> Certification:
    """An in-process certification, to which a test attaches a tenant section."""
    now = datetime.now(UTC)
    return certify(sample_profile(resolve_profile(AUTHENTICATOR), now),
                   read_metadata(None, None), read_rule_book(None, None), now)


def test_the_report_has_a_tenant_section_only_after_a_run_on_a_tenant(
        certification: Certification) -> None:
    assert "tenant" not in certification.to_json()
    assert "On tenant" not in render_html(certification)
    with_tenant = Certification(certification.sample, certification.checks,
                                certification.verdicts, certification.book, tenant=_section())
    assert with_tenant.to_json()["tenant"] == _section().to_json()
    page = render_html(with_tenant)
    assert "<h2>On tenant tenant-&lt;1&gt;</h2>" in page
    assert "tenant: 1 agree, 1 differ (1 skipped)" in page
    assert all(rid in page for rid in ("req-a", "req-b"))
    assert html.escape(TEST_PKI_ATTESTED) in page


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "says"), [
    (["--device"], "a physical key could be provisioned on a tenant too"),
    (["--responses", "."], "captured responses"),
    (["--authenticator", AUTHENTICATOR], "--tenant and --client-id"),
    (["--authenticator", AUTHENTICATOR, "--tenant", "t1", "--client-id", "app",
      "--allow-policy-changes"], "--i-own-this-test-tenant t1"),
])
def test_what_cannot_run_on_a_tenant_is_one_line_and_exit_2(
        argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["certify", *argv, "--target", "graph"]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err


# --- end to end, against the emulator speaking Graph ----------------------------------------

@pytest.fixture
def graph(tls_emulator: EmulatorServer, tls_ca_file: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """The suite's application registered (its secret in the environment, as a user sets it),
    and a client holding its token, to look at the tenant as the run left it."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with httpx.Client(base_url=tls_emulator.base_url, timeout=10,
                      verify=ssl.create_default_context(cafile=tls_ca_file)) as client:
        r = client.post("/_emulator/applications", json={"clientId": CLIENT_ID,
                                                         "secret": SECRET})
        assert r.status_code == 201, r.text
        token = client.post(f"/{tls_emulator.identity.tenant_id}/oauth2/v2.0/token", data={
            "grant_type": "client_credentials", "client_id": CLIENT_ID,
            "client_secret": SECRET, "scope": GRAPH_SCOPE}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client
        assert client.post("/_emulator/reset").status_code == 204
        assert client.delete("/_emulator/applications").status_code == 204


def _certify(tls_emulator: EmulatorServer, tls_ca_file: Path, reports: Path,
             *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["certify", "--authenticator", AUTHENTICATOR, "--target", "graph",
                 "--tenant", tls_emulator.identity.tenant_id, "--client-id", CLIENT_ID,
                 "--graph-url", tls_emulator.base_url, "--authority", tls_emulator.authority,
                 "--ca-file", str(tls_ca_file), "--reports", str(reports), *extra])
    return code, json.loads((reports / "certification.json").read_text())


def _allow(tls_emulator: EmulatorServer, restore: Path) -> list[str]:
    return ["--allow-policy-changes", "--i-own-this-test-tenant", tls_emulator.identity.tenant_id,
            "--restore-file", str(restore), "--policy-write-interval", "0"]


def _leftovers(graph: httpx.Client) -> list[Any]:
    return [*graph.get("/v1.0/groups").json()["value"],
            *[u for u in graph.get("/v1.0/users").json()["value"]
              if u["displayName"].startswith("pkconf-")]]


def test_a_read_only_run_provisions_under_the_tenants_policy_and_leaves_it_as_it_was(
        tls_emulator: EmulatorServer, tls_ca_file: Path, graph: httpx.Client, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = graph.get(FIDO2_POLICY).json()
    code, report = _certify(tls_emulator, tls_ca_file, tmp_path)
    assert code == 0
    assert graph.get(FIDO2_POLICY).json() == before
    tenant = report["tenant"]
    assert (tenant["id"], tenant["graphUrl"], tenant["policyChanges"]) == (
        tls_emulator.identity.tenant_id, tls_emulator.base_url, False)
    [result] = tenant["results"]
    assert (result["configuration"], result["result"]) == (CURRENT_POLICY, "agrees")
    assert result["tenant"]["status"] == 201 and result["tenant"]["policyChanged"] is False
    assert result["tenant"]["requestIds"]
    assert "tenant: 1 agree, 0 differ" in capsys.readouterr().out
    assert "On tenant" in (tmp_path / "certification.html").read_text()
    assert _leftovers(graph) == []


@pytest.mark.parametrize("annotations", [True, False], ids=["emulator", "faithful"])
def test_with_policy_changes_each_provisioning_configuration_runs_and_the_policy_is_restored(
        tls_emulator: EmulatorServer, tls_ca_file: Path, graph: httpx.Client, tmp_path: Path,
        annotations: bool) -> None:
    """Whether or not the tenant names its reasons (a real one does not), its answers agree with
    the in-process verdicts; enforced attestation of a test-PKI statement is skipped."""
    assert graph.put("/_emulator/options", json={"annotations": annotations}).status_code \
        == 200
    before = graph.get(FIDO2_POLICY).json()
    restore = tmp_path / "restore.json"
    code, report = _certify(tls_emulator, tls_ca_file, tmp_path / "out",
                            *_allow(tls_emulator, restore))
    assert code == 0
    assert graph.get(FIDO2_POLICY).json() == before
    assert not restore.exists()
    results = {r["configuration"]: r for r in report["tenant"]["results"]}
    assert list(results) == [CURRENT_POLICY, *(c.name for c in PROVISIONING)]
    skipped = {name for name, r in results.items() if r["result"] == "skipped"}
    assert skipped == {c.name for c in ENFORCING}
    assert all(results[name]["skipped"] == TEST_PKI_ATTESTED for name in skipped)
    ran = [r for r in results.values() if r["result"] != "skipped"]
    assert [r["result"] for r in ran] == ["agrees"] * len(ran)
    in_process = {c["name"]: c["accepted"] for c in report["configurations"]}
    assert all((r["tenant"]["status"] == 201) is in_process[name]
               for name, r in results.items() if name in in_process and r["tenant"])
    assert {r["tenant"]["policyChanged"] for r in ran[1:]} == {True}
    assert {r["tenant"]["status"] for r in ran} >= {201, 400, 403}
    assert (report["tenant"]["agree"], report["tenant"]["differ"]) == (len(ran), 0)
    assert _leftovers(graph) == []


def test_a_tenant_not_on_passkey_profiles_is_not_moved_onto_them(
        tls_emulator: EmulatorServer, tls_ca_file: Path, graph: httpx.Client,
        tmp_path: Path) -> None:
    """Opting in to passkey profiles cannot be undone (entra-facts §2): on a legacy tenant every
    configuration is skipped with that reason, and only its own policy runs."""
    legacy = {key: value for key, value in graph.get(FIDO2_POLICY).json().items()
              if key not in ("passkeyProfiles", "defaultPasskeyProfile")}
    legacy |= {"isAttestationEnforced": False, "keyRestrictions": {
        "isEnforced": False, "enforcementType": "block", "aaGuids": []},
        "includeTargets": [{"id": "all_users", "targetType": "group",
                            "isRegistrationRequired": False}]}
    assert graph.post("/_emulator/scenarios", json=Setup(legacy).body()).status_code == 201
    before = graph.get(FIDO2_POLICY).json()
    code, report = _certify(tls_emulator, tls_ca_file, tmp_path / "out",
                            *_allow(tls_emulator, tmp_path / "restore.json"))
    assert code == 0 and graph.get(FIDO2_POLICY).json() == before
    current, *configurations = report["tenant"]["results"]
    assert current["result"] == "agrees" and current["tenant"]["policyChanged"] is False
    assert {r["result"] for r in configurations} == {"skipped"}
    assert all("cannot be undone" in r["skipped"] for r in configurations
               if r["configuration"] not in {c.name for c in ENFORCING})
