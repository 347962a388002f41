"""A deliberately wrong expectation in a scratch copy of a case file fails, and says why."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.cases import CASES_DIR, load_case_file, load_users
from conformance.runner import DecisionMismatch, check, run_case
from pkconf.ceremonies.tenant import TenantApi
from pkconf.emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
RIGHT = 'expect = { outcome = "accepted" }'
WRONG = ('expect = { outcome = "rejected", family = "authenticator_governance", '
         'reason = "AAGUID_BLOCKED" }')


@pytest.fixture
def scratch_case(tmp_path: Path) -> Path:
    """key-restrictions.toml with KR-ALLOW-001 (a YubiKey on the allow list) expected blocked."""
    text = (CASES_DIR / "key-restrictions.toml").read_text()
    head, rest = text.split('id = "KR-ALLOW-001"', 1)
    assert RIGHT in rest.split("[[case]]", 1)[0], "KR-ALLOW-001 no longer expects acceptance"
    path = tmp_path / "key-restrictions.toml"
    path.write_text(head + 'id = "KR-ALLOW-001"' + rest.replace(RIGHT, WRONG, 1))
    return path


def test_wrong_expectation_fails_naming_case_expected_actual_and_source(scratch_case: Path):
    case = next(c for c in load_case_file(scratch_case, load_users())
                if c.case_id == "KR-ALLOW-001")
    with EmulatorServer() as server, TenantApi(server.base_url) as api:
        result = run_case(api, case)
    with pytest.raises(DecisionMismatch) as failure:
        check(case, result)
    message = str(failure.value)
    assert f"DECISION MISMATCH in {case.id}" in message
    assert "expected: rejected authenticator_governance AAGUID_BLOCKED" in message
    assert "actual:   accepted - ACCEPTED" in message
    assert "source:   entra-facts §1.2 fido2KeyRestrictions" in message
    assert "(documented) https://learn.microsoft.com/" in message


def test_the_unaltered_case_passes(scratch_case: Path):
    case = next(c for c in load_case_file(CASES_DIR / "key-restrictions.toml", load_users())
                if c.case_id == "KR-ALLOW-001")
    with EmulatorServer() as server, TenantApi(server.base_url) as api:
        check(case, run_case(api, case))


def test_pytest_run_over_the_scratch_copy_reports_the_mismatch(scratch_case: Path, tmp_path):
    """Through pytest itself, as a person running the suite would see it."""
    fixtures = tmp_path / "fixtures"
    (fixtures / "cases").mkdir(parents=True)
    (fixtures / "cases" / scratch_case.name).write_text(scratch_case.read_text())
    for name in ("policies", "mds", "pki"):
        (fixtures / name).symlink_to(ROOT / "fixtures" / name)
    for name in ("users.toml", "docs.toml"):
        (fixtures / name).symlink_to(ROOT / "fixtures" / name)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "conformance" / "test_cases.py"), "-q",
         "-p", "no:cacheprovider", "--rootdir", str(ROOT), "--case", "KR-ALLOW-001",
         "--ceremony", "ctap", "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PKCONF_FIXTURES": str(fixtures)})
    assert result.returncode == 1, result.stdout[-2000:]
    assert "DECISION MISMATCH in KR-ALLOW-001[yubikey-5-nfc-iphone/ctap]" in result.stdout
    assert "expected: rejected authenticator_governance AAGUID_BLOCKED" in result.stdout
    # one compact block per case: case, expected, actual, source, where defined; no traceback
    failures = result.stdout.split("= FAILURES =")[1].split("short test summary")[0]
    assert "Traceback" not in failures and "def " not in failures, failures
    blocks = [[line for line in b.splitlines() if line.strip("= ")]
              for b in re.split(r"\n_+ .* _+\n", failures)[1:]]
    assert blocks and all(len(b) == 5 and b[-1].strip().startswith("defined in:")
                          for b in blocks), failures
