"""`pkconf lint`: every finding code on a policy made to show it (fixtures/lint/expected.toml),
and the exit codes: 0 without an error-level finding, 1 with one, 2 for no policy at all."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pkconf.admin.lint import CATALOG, Lint, Source, lint
from pkconf.cli import main
from pkconf.paths import FIXTURES
from pkconf.tenant.rules import Cloud, RuleBook

LINT = FIXTURES / "lint"
EXPECTED = tomllib.loads((LINT / "expected.toml").read_text())
CASES = EXPECTED["case"]
SYNCED = LINT / "synced-attested.json"


def _book(case: dict[str, Any]) -> RuleBook:
    return RuleBook(date.fromisoformat(case.get("as_of", EXPECTED["as_of"])),
                    Cloud(case.get("cloud", Cloud.WORLDWIDE)))


def _id(case: dict[str, Any]) -> str:
    return "@".join([case["policy"], *(case[k] for k in ("as_of", "cloud") if k in case)])


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_each_policy_gives_exactly_its_expected_findings_in_order(case: dict[str, Any]) -> None:
    found = lint(json.loads((LINT / case["policy"]).read_text()), _book(case))
    assert [[f.code, f.path, f.severity] for f in found] == case["findings"]


def test_every_code_has_a_case_and_every_fixture_a_case_and_one_policy_is_clean() -> None:
    codes = {finding[0] for case in CASES for finding in case["findings"]}
    assert codes == set(Lint)
    assert {case["policy"] for case in CASES} == {p.name for p in LINT.glob("*.json")}
    assert any(not case["findings"] for case in CASES)


@pytest.mark.parametrize("code", list(Lint))
def test_every_code_follows_a_fact_and_its_documentation(code: Lint) -> None:
    _, source = CATALOG[code]
    cited = source if isinstance(source, Source) else Source.of(RuleBook(date(2026, 12, 1))
                                                                .rule(source))
    assert cited.fact.startswith("§")
    assert cited.url.startswith("https://learn.microsoft.com/")


def test_synced_passkeys_under_enforced_attestation_are_flagged_with_their_path(capsys):
    assert main(["lint", str(SYNCED), "--as-of", "2026-12-01"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("warning"))
    assert row.split()[1:3] == ["LINT-SYNCED-ATTESTED", "$.passkeyProfiles[1].passkeyTypes"]
    assert "synced passkeys are excluded" in row
    assert "§0 Attestation excludes synced passkeys (documented)" in row


def test_json_output_carries_the_rule_each_finding_follows(capsys):
    assert main(["lint", str(SYNCED), "--as-of", "2026-12-01", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["asOf"], report["cloud"]) == ("2026-12-01", "worldwide")
    [finding] = report["findings"]
    assert finding["source"] == {
        "fact": "§2 Passkey types; §0 Attestation excludes synced passkeys",
        "url": "https://learn.microsoft.com/entra/identity/authentication/"
               "concept-authentication-passkeys-fido2",
        "status": "documented", "rule": "PASSKEY_TYPE_NOT_ALLOWED", "version": "original"}


@pytest.mark.parametrize(("policy", "as_of", "code"), [
    ("clean.json", "2026-12-01", 0),
    ("synced-attested.json", "2026-12-01", 0),  # a warning
    ("allow-list-unattested.json", "2026-12-01", 0),  # advice
    ("missing-profile.json", "2026-12-01", 1),
    ("too-large.json", "2026-12-01", 1),
    ("windows-hello-attested.json", "2026-04-01", 1),  # before GA: documented to fail
    ("windows-hello-attested.json", "2026-12-01", 0),  # since GA: kept by inference, a warning
])
def test_an_error_level_finding_and_only_that_exits_1(capsys, policy, as_of, code):
    assert main(["lint", str(LINT / policy), "--as-of", as_of]) == code


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "is not JSON"),
    ("[1, 2]", "is not a JSON object, so not a passkey (FIDO2) policy"),
    ('{"@odata.type": "#microsoft.graph.user", "id": "u1"}',
     "is not a fido2AuthenticationMethodConfiguration (@odata.type '#microsoft.graph.user')"),
    ('{"displayName": "x"}', "is not a fido2AuthenticationMethodConfiguration (none of its "
                             "fields)"),
    ('{"authenticationMethodConfigurations": [{"id": "Sms"}]}', "has no fido2 entry"),
])
def test_json_that_is_no_policy_is_one_line_with_exit_2(tmp_path: Path, capsys, text, message):
    path = tmp_path / "policy.json"
    path.write_text(text)
    assert main(["lint", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"pkconf lint: policy {path} ")
    assert message in captured.err and captured.err.count("\n") == 1
