"""The graph target end to end against the emulator speaking Graph's protocol: msal tokens,
throttling, paging, excludeCredentials encodings, a case laid out and cleaned up, the policy
restored after a normal end, Ctrl-C and a crash, and no secret in anything a run writes."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies.ctap import Setup
from pkconf.ceremonies.graph import register
from pkconf.ceremonies.graph_client import GraphAuthError, GraphClient, GraphSettings
from pkconf.ceremonies.graph_target import (
    ENCODINGS,
    FIDO2_POLICY,
    GraphTenant,
    RestoreFile,
    policy_model,
)
from pkconf.cli import main
from pkconf.emulator.server import EmulatorServer
from pkconf.paths import package_dir
from pkconf.tenant.decision import Decision

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "graph-target-test-secret~Zq81"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # msal signs RS256/PS256
_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pkconf graph-target test app")])
CERT = (x509.CertificateBuilder().subject_name(_NAME).issuer_name(_NAME)
        .public_key(KEY.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=7)).sign(KEY, hashes.SHA256()))
KEY_PEM = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
CERT_PEM = CERT.public_bytes(serialization.Encoding.PEM).decode()


def _policy(name: str) -> dict[str, Any]:
    return json.loads((package_dir("pkconf_fixtures") / "policies" / name).read_text())


@pytest.fixture(scope="module")
def control(tls_emulator: EmulatorServer, tls_ca_file: Path) -> Iterator[httpx.Client]:
    """The emulator's own controls (not Graph)."""
    with httpx.Client(base_url=f"{tls_emulator.base_url}/_emulator", timeout=10,
                      verify=ssl.create_default_context(cafile=tls_ca_file)) as client:
        yield client


@pytest.fixture(autouse=True)
def app(control: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The suite's application, registered with a secret and a certificate, on a fresh tenant."""
    assert control.post("/reset").status_code == 204
    r = control.post("/applications", json={"clientId": CLIENT_ID, "secret": SECRET,
                                             "certificate": CERT_PEM})
    assert r.status_code == 201, r.text
    monkeypatch.setenv("PKCONF_CLIENT_SECRET", SECRET)
    yield
    control.delete("/applications")
    control.delete("/faults")
    control.put("/options", json={"excludeCredentialsEncoding": "base64url", "pageSize": 100,
                                  "annotations": True})


@pytest.fixture
def settings(tls_emulator: EmulatorServer, tls_ca_file: Path) -> GraphSettings:
    return GraphSettings(tenant=tls_emulator.identity.tenant_id, client_id=CLIENT_ID,
                         graph_url=tls_emulator.base_url, authority=tls_emulator.authority,
                         ca_file=tls_ca_file)


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def client(settings: GraphSettings, slept: list[float]) -> Iterator[GraphClient]:
    with GraphClient(settings, sleep=slept.append) as graph:
        yield graph


def test_msal_gets_a_token_with_the_secret_and_graph_answers_with_request_ids(
        client: GraphClient) -> None:
    domains = list(client.pages("/domains"))
    assert any(d.get("isDefault") for d in domains)
    assert client.exchanges[-1].request_id and client.exchanges[-1].status == 200


def test_msal_gets_a_token_with_a_certificate_assertion(
        settings: GraphSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PKCONF_CLIENT_SECRET")
    pem = tmp_path / "app.pem"
    pem.write_text(KEY_PEM + CERT_PEM)
    with GraphClient(replace(settings, certificate=pem)) as graph:
        assert graph.json("GET", FIDO2_POLICY)["id"].lower() == "fido2"


def test_a_wrong_secret_is_one_line_naming_azure_ads_code(
        client: GraphClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PKCONF_CLIENT_SECRET", "not-the-secret")
    with pytest.raises(GraphAuthError, match="AADSTS7000215") as refused:
        client.json("GET", "/domains")
    assert "\n" not in str(refused.value) and "not-the-secret" not in str(refused.value)


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_is_retried_after_the_seconds_graph_asks(
        client: GraphClient, control: httpx.Client, slept: list[float], status: int) -> None:
    r = control.post("/faults", json={"status": status, "count": 2, "retryAfter": 3,
                                      "path": "/domains"})
    assert r.status_code in (200, 201, 204), r.text
    assert list(client.pages("/domains"))
    assert slept == [3.0, 3.0]
    assert [e.status for e in client.exchanges] == [status, status, 200]


def test_a_collection_is_read_to_its_last_page(client: GraphClient,
                                               control: httpx.Client) -> None:
    assert control.put("/options", json={"pageSize": 2}).status_code == 200
    for n in range(5):
        client.json("POST", "/groups", expect=(201,), json={
            "displayName": f"pkconf-paging-{n}", "mailEnabled": False, "securityEnabled": True,
            "mailNickname": f"paging{n}"})
    found = list(client.pages("/groups", {"$filter": "startswith(displayName,'pkconf-paging')"}))
    assert sorted(g["displayName"] for g in found) == [f"pkconf-paging-{n}" for n in range(5)]
    assert sum(e.method == "GET" for e in client.exchanges) == 3  # 2 + 2 + 1


def _case_policy() -> dict[str, Any]:
    """A policy that names a group, as case policies do."""
    policy = _policy("pilots-only.json")
    assert any(t["id"] != "all_users" for t in policy["includeTargets"])
    return policy


def _leftovers(client: GraphClient) -> list[str]:
    users = client.pages("/users", {"$filter": "startswith(userPrincipalName,'pkconf-')"})
    groups = client.pages("/groups", {"$filter": "startswith(displayName,'pkconf-')"})
    return [u["userPrincipalName"] for u in users] + [g["displayName"] for g in groups]


def test_a_case_is_laid_out_decided_and_cleaned_up_and_the_policy_put_back(
        client: GraphClient, tmp_path: Path) -> None:
    original = client.json("GET", FIDO2_POLICY)
    restore = tmp_path / "restore.json"
    tenant = GraphTenant(client, allow_policy_changes=True, restore_file=restore,
                         write_interval=0)
    tenant.start()
    policy = _case_policy()
    pilots = sorted(t["id"] for t in policy["includeTargets"] if t["id"] != "all_users")
    result = register(tenant, PROFILES["yubikey-5-usb"],
                      Setup(policy, replace(Setup().user, groups=frozenset(pilots))))
    assert isinstance(result.decision, Decision) and result.decision.accepted
    assert restore.exists()  # saved before the first PATCH
    assert policy_model(client.json("GET", FIDO2_POLICY)) != policy_model(original)
    assert len(tenant.request_ids()) >= 5
    tenant.close()
    assert policy_model(client.json("GET", FIDO2_POLICY)) == policy_model(original)
    assert not restore.exists()
    assert _leftovers(client) == []


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_exclude_credentials_ids_in_any_tenant_encoding_are_read_and_recorded(
        client: GraphClient, control: httpx.Client, encoding: str) -> None:
    assert control.put("/options", json={"excludeCredentialsEncoding": encoding}
                       ).status_code == 200
    tenant = GraphTenant(client)
    tenant.start()
    result = register(tenant, PROFILES["yubikey-5-usb"], Setup(None),
                      variation="replayed-credential")
    assert result.options is not None and result.options["publicKey"]["excludeCredentials"]
    assert tenant.case.encoding == encoding
    tenant.close()
    assert _leftovers(client) == []


# --- pkconf run --target graph as a user runs it --------------------------------------------------

def _graph_args(tls_emulator: EmulatorServer, tls_ca_file: Path) -> list[str]:
    """Where the tenant is and who the app is, as a user gives them."""
    return ["--graph-url", tls_emulator.base_url, "--authority", tls_emulator.authority,
            "--tenant", tls_emulator.identity.tenant_id, "--client-id", CLIENT_ID,
            "--ca-file", str(tls_ca_file)]


def _run_args(tls_emulator: EmulatorServer, tls_ca_file: Path, reports: Path,
              *more: str) -> list[str]:
    return [sys.executable, "-m", "pkconf", "run", "--target", "graph", "--no-matrix",
            "--no-html", *_graph_args(tls_emulator, tls_ca_file), "--reports", str(reports),
            "--policy-write-interval", "0", *more]


def _changes(tls_emulator: EmulatorServer) -> tuple[str, ...]:
    tenant = tls_emulator.identity.tenant_id
    return ("--allow-policy-changes", "--i-own-this-test-tenant", tenant)


def test_a_run_writes_observations_and_no_secret_token_or_key_anywhere(
        tls_emulator: EmulatorServer, tls_ca_file: Path, client: GraphClient,
        tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = subprocess.run(_run_args(tls_emulator, tls_ca_file, reports, *_changes(tls_emulator),
                                    "--case", "GP-*"),
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PKCONF_CLIENT_SECRET": SECRET})
    assert done.returncode in (0, 1), done.stderr[-2000:]
    observations = [json.loads(line) for line in
                    (reports / "observations.jsonl").read_text().splitlines()]
    assert observations and all(o["requestIds"] for o in observations)
    assert {o["observed"]["outcome"] for o in observations} == {"accepted", "rejected"}
    tokens = list(tls_emulator.identity._tokens)  # every token the run was issued
    assert tokens
    secrets = [SECRET, *tokens]
    written = [p for p in reports.rglob("*") if p.is_file()]
    for text in (done.stdout, done.stderr, *(p.read_text(errors="replace") for p in written)):
        for secret in secrets:
            assert secret not in text
    assert _leftovers(client) == []


def _wait_for(condition: Any, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("stop", ["crash", "ctrl-c"])
def test_the_policy_is_put_back_after_ctrl_c_and_by_tenant_restore_after_a_crash(
        tls_emulator: EmulatorServer, tls_ca_file: Path, client: GraphClient, tmp_path: Path,
        stop: str) -> None:
    original = policy_model(client.json("GET", FIDO2_POLICY))
    reports = tmp_path / "reports"
    restore = reports / f"tenant-restore-{tls_emulator.identity.tenant_id}.json"
    env = {**os.environ, "PKCONF_CLIENT_SECRET": SECRET}
    run = subprocess.Popen(_run_args(tls_emulator, tls_ca_file, reports, *_changes(tls_emulator),
                                     "--case", "KR-*"),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        _wait_for(lambda: restore.exists()
                  and policy_model(client.json("GET", FIDO2_POLICY)) != original)
        run.send_signal(signal.SIGKILL if stop == "crash" else signal.SIGINT)
        output, _ = run.communicate(timeout=120)
    finally:
        run.kill()
    if stop == "crash":
        assert policy_model(client.json("GET", FIDO2_POLICY)) != original
        assert RestoreFile(restore).read()["tenant"] == tls_emulator.identity.tenant_id
        again = subprocess.run(_run_args(tls_emulator, tls_ca_file, reports,
                                         *_changes(tls_emulator)),
                               capture_output=True, text=True, env=env, timeout=120)
        assert again.returncode == 2 and "pkconf tenant restore" in again.stderr
        assert len(again.stderr.strip().splitlines()) == 1
        restored = subprocess.run([sys.executable, "-m", "pkconf", "tenant", "restore",
                                   str(restore)], capture_output=True, text=True, env=env,
                                  timeout=120)
        assert restored.returncode == 0, restored.stderr
        assert "policy restored" in restored.stdout
        cleanup = subprocess.run([sys.executable, "-m", "pkconf", "tenant", "cleanup",
                                  *_graph_args(tls_emulator, tls_ca_file)],
                                 capture_output=True, text=True, env=env, timeout=120)
        assert cleanup.returncode == 0, cleanup.stderr
        assert _leftovers(client) == []  # the killed run's user and groups, deleted
    else:
        assert "policy restored" in output
    assert policy_model(client.json("GET", FIDO2_POLICY)) == original
    assert not restore.exists()


@pytest.mark.parametrize(("profile", "policy", "says", "code"), [
    ("yubikey-5-usb", "permissive.json", "ACCEPTED by the tenant  201", 0),
    ("google-password-manager", "kr-allow-yubikey.json", "REJECTED by the tenant  400", 1),
])
def test_decide_on_a_tenant_prints_what_it_answered_and_its_request_ids(
        tls_emulator: EmulatorServer, tls_ca_file: Path, control: httpx.Client, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], profile: str, policy: str, says: str,
        code: int) -> None:
    """As a real tenant answers (no reasons of ours): the outcome, what was created, the ids."""
    assert control.put("/options", json={"annotations": False}).status_code == 200
    user = tmp_path / "user.json"
    user.write_text("{}")
    policy_file = package_dir("pkconf_fixtures") / "policies" / policy
    assert main(["decide", "--target", "graph", *_graph_args(tls_emulator, tls_ca_file),
                 "--policy", str(policy_file), "--user", str(user), "--profile", profile,
                 "--allow-policy-changes", "--i-own-this-test-tenant",
                 tls_emulator.identity.tenant_id, "--restore-file",
                 str(tmp_path / "restore.json")]) == code
    out = capsys.readouterr().out
    assert out.startswith(says) and "request ids: " in out, out
    assert ("aaGuid=cb69481e-8ff7-4039-93ec-0a2729a154a8" in out) == (code == 0), out
    assert "rule:" not in out  # no rule of ours is claimed for what the tenant decided
