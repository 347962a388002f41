"""`pkconf discover`: observations of real cases (written as docs/graph-target.md §4 says) held
against the rule book: the verdicts, Entra's responses, the terminal table, the JSON, the
maintainer's Markdown (whose suggestions load as case sources), exit codes and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from conformance.cases import Case, load_case_file, load_cases, load_docs, load_users, patched
from pkconf.admin.discover import Verdict, discover, doc_id, read_observations
from pkconf.cli import main
from pkconf.tenant.rules import Reason, Status, rule

AT = "2026-11-29T13:00:00Z"
BLOCKED = {"code": "badRequest", "message": "The security key is not allowed.",
           "requestId": "0b6c4f7e-5a3d-4c1e-9f2a-1d2e3f4a5b6c", "date": "2026-11-29T13:00:01"}


@cache
def _graph_cases() -> tuple[Case, ...]:
    return tuple(c for c in load_cases() if c.ceremony == "graph")


def _case(test: Callable[[Case], bool]) -> Case:
    return next(c for c in _graph_cases() if test(c))


def documented(outcome: str) -> Case:
    """A Graph case expecting `outcome` whose rule and source are both documented."""
    return _case(lambda c: c.expect.outcome == outcome and c.source.status == "documented"
                 and rule(Reason(c.expect.reason)).status is Status.DOCUMENTED)


def inferred_rule() -> Case:
    return _case(lambda c: rule(Reason(c.expect.reason)).status is Status.INFERRED)


def inferred_source() -> Case:
    return _case(lambda c: c.source.status == "inferred"
                 and rule(Reason(c.expect.reason)).status is Status.DOCUMENTED)


def observation(case: Case, outcome: str | None = None, *, error: dict[str, str] | None = None,
                at: str = AT, version: Any = None, request_id: str = "req-1",
                **extra: Any) -> dict[str, Any]:
    """What a Graph-target run records for `case`: Entra answering `outcome` (default: as
    expected), with `error` as the envelope of a refusal."""
    outcome = outcome or case.expect.outcome.value
    of = rule(Reason(case.expect.reason))
    return {
        "schema": 1, "at": at, "tenant": "contoso-test", "graphUrl": "https://graph.microsoft.com",
        "case": case.case_id, "id": case.id, "profile": case.profile, "aaguid": None,
        "format": "packed", "passkeyType": "deviceBound", "variation": case.variation,
        "policyChanged": False, "asOf": at[:10], "cloud": "worldwide",
        "expected": case.expect.as_dict(),
        "source": {"fact": case.source.fact, "url": case.source.url,
                   "status": case.source.status},
        "rule": {"reason": str(of.reason), "status": str(of.status),
                 "version": of.version if version is None else version},
        "observed": {"status": 201 if outcome == "accepted" else 400, "outcome": outcome,
                     "error": error if outcome == "rejected" else None,
                     "method": {"id": "m1", "aaGuid": None, "model": None,
                                "attestationLevel": "attested", "passkeyType": "deviceBound"}
                     if outcome == "accepted" else None,
                     "decision": None},
        "excludeCredentialsEncoding": "base64url", "requestIds": [request_id],
        **extra,
    }


def write(path: Path, *observations: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in observations))
    return path


def verdicts(tmp_path: Path, *observations: dict[str, Any]) -> dict[str, Verdict]:
    found = discover(read_observations([str(write(tmp_path / "o.jsonl", *observations))]))
    return {o.id: v for f in found.rules for v in Verdict for o in f.verdicts[v]}


@pytest.mark.parametrize("outcome", ["accepted", "rejected"])
def test_the_expected_outcome_under_a_documented_rule_and_source_is_confirmed(tmp_path, outcome):
    case = documented(outcome)
    assert verdicts(tmp_path, observation(case, error=BLOCKED)) == {case.id: Verdict.CONFIRMED}


@pytest.mark.parametrize(("expected", "observed"), [("accepted", "rejected"),
                                                    ("rejected", "accepted")])
def test_an_observed_refusal_of_an_expected_acceptance_is_contradicted(tmp_path, expected,
                                                                      observed):
    """And an acceptance of an expected refusal: the outcome decides, whatever the rule."""
    case = documented(expected)
    assert verdicts(tmp_path, observation(case, observed, error=BLOCKED)) == {
        case.id: Verdict.CONTRADICTED}


@pytest.mark.parametrize("pick", [inferred_rule, inferred_source], ids=["rule", "source"])
def test_the_expected_outcome_of_an_inferred_rule_or_source_is_newly_observed(tmp_path, pick):
    case = pick()
    assert verdicts(tmp_path, observation(case, error=BLOCKED)) == {
        case.id: Verdict.NEWLY_OBSERVED}


def test_an_inferred_rule_that_entra_contradicts_is_contradicted_not_newly_observed(tmp_path):
    case = inferred_rule()
    assert verdicts(tmp_path, observation(case, "accepted")) == {case.id: Verdict.CONTRADICTED}


def test_each_distinct_graph_error_for_a_reason_is_newly_observed_once(tmp_path):
    """Microsoft documents no registration error codes (entra-facts §8): Entra's own words are
    the news, one per (HTTP status, code, message), however many cases drew them."""
    case = documented("rejected")
    other = {**BLOCKED, "message": "Attestation is required.", "requestId": "req-x"}
    found = discover(read_observations([str(write(
        tmp_path / "o.jsonl", observation(case, error=BLOCKED),
        observation(case, error={**BLOCKED, "requestId": "req-2"}),
        observation(case, error=other)))]))
    (findings,) = found.rules
    assert findings.new_errors == [(400, "badRequest", BLOCKED["message"]),
                                   (400, "badRequest", other["message"])]
    assert [len(seen) for seen in findings.responses.values()] == [2, 1]
    assert (found.new_errors, found.total(Verdict.CONFIRMED)) == (2, 3)


def test_a_refusal_before_the_registration_post_is_compared_by_its_outcome(tmp_path):
    """creationOptions refused: no POST status, Entra's error still recorded and shown."""
    case = documented("rejected")
    obs = patched(observation(case, error=BLOCKED), {"observed": {"status": None}}, "o")
    found = discover(read_observations([str(write(tmp_path / "o.jsonl", obs))]))
    (findings,) = found.rules
    assert findings.verdicts[Verdict.CONFIRMED][0].answer == "refused badRequest"
    assert findings.new_errors == [(None, "badRequest", BLOCKED["message"])]


@pytest.mark.parametrize(("version", "book", "named"), [
    ("original", {"asOf": "2026-11-29"}, "original"),  # the version it names
    (1, {"asOf": "2026-03-01"}, "original"),  # one the book does not know: the run's book's
    (1, {"asOf": "2026-11-29"}, "windows-hello-ga"),
    (1, {"asOf": "2026-06-20", "cloud": "gcc"}, "original"),  # GA came later to GCC
    (1, {"asOf": None, "at": "2026-03-01T09:00:00Z"}, "original"),  # no book: its day's
])
def test_the_rule_is_the_version_named_else_the_one_in_force_in_the_runs_rule_book(
        tmp_path, version, book, named):
    """Windows Hello's enforced-attestation rule has a version before its GA and one after."""
    obs = patched(observation(documented("rejected"), version=version), {
        "expected": {"reason": "WINDOWS_HELLO_ATTESTATION_ENFORCED"},
        "rule": {"reason": "WINDOWS_HELLO_ATTESTATION_ENFORCED"}, **book}, "observation")
    (findings,) = discover(read_observations([str(write(tmp_path / "o.jsonl", obs))])).rules
    assert (findings.rule.reason, findings.rule.version) == (
        Reason.WINDOWS_HELLO_ATTESTATION_ENFORCED, named)


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["discover", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def mixed(tmp_path) -> Path:
    """One confirmed acceptance, one contradicted refusal, one newly observed inferred rule
    refused with Entra's error code and message."""
    return write(tmp_path / "observations.jsonl",
                 observation(documented("accepted"), request_id="req-ok"),
                 observation(documented("rejected"), "accepted", request_id="req-contra"),
                 observation(inferred_rule(), error=BLOCKED))


def test_the_table_shows_each_rule_its_verdicts_and_entras_responses(capsys, mixed, tmp_path):
    code, out, _ = _run(capsys, str(mixed), "--out", str(tmp_path / "d.md"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (f"3 observations in {mixed}: 1 confirmed, 1 contradicted, "
                        "1 newly observed; 1 Graph error responses newly observed")
    inferred = rule(Reason(inferred_rule().expect.reason))
    heading = next(i for i, line in enumerate(lines) if line.startswith(f"{inferred.reason}  "))
    assert lines[heading] == (f"{inferred.reason}  inferred  version {inferred.version}: "
                              "0 confirmed, 0 contradicted, 1 newly observed; "
                              "1 Graph error responses newly observed")
    assert lines[heading + 1].split() == ["HTTP", "code", "message", "cases", "request-id",
                                          "date"]
    assert lines[heading + 2].split() == ["400", "badRequest", *BLOCKED["message"].split(), "1",
                                          BLOCKED["requestId"], BLOCKED["date"]]
    assert "201   -     -        1      req-contra  2026-11-29T13:00:00Z" in out
    assert out.endswith(f"evidence for the rule book: {tmp_path / 'd.md'}\n")


@pytest.mark.parametrize(("fail_on", "contradicted", "code"), [
    ([], True, 0), (["--fail-on", "contradicted"], True, 1),
    (["--fail-on", "contradicted"], False, 0)])
def test_fail_on_contradicted_exits_1_only_when_something_is_contradicted(
        capsys, tmp_path, fail_on, contradicted, code):
    case = documented("accepted")
    path = write(tmp_path / "o.jsonl",
                 observation(case, "rejected" if contradicted else None, error=BLOCKED))
    assert _run(capsys, str(path), "--out", str(tmp_path / "d.md"), *fail_on)[0] == code


def test_json_holds_the_totals_and_each_rules_observations_and_responses(capsys, mixed,
                                                                          tmp_path):
    code, out, _ = _run(capsys, str(mixed), "--json", "--out", str(tmp_path / "d.md"))
    report = json.loads(out)
    assert (code, report["observations"], report["tenants"]) == (0, 3, ["contoso-test"])
    assert report["totals"] == {"confirmed": 1, "contradicted": 1, "newly observed": 1,
                                "newErrors": 1}
    by_reason = {r["reason"]: r for r in report["rules"]}
    contra = by_reason[str(documented("rejected").expect.reason)]["contradicted"]
    assert [(o["id"], o["expected"], o["observed"], o["requestId"]) for o in contra] == [
        (documented("rejected").id, "rejected", "accepted", "req-contra")]
    (response,) = by_reason[str(inferred_rule().expect.reason)]["responses"]
    assert response == {"status": 400, "code": "badRequest", "message": BLOCKED["message"],
                        "new": True, "count": 1,
                        "examples": [{"requestId": BLOCKED["requestId"],
                                      "date": BLOCKED["date"], "id": inferred_rule().id}]}


def test_the_markdowns_suggested_evidence_loads_as_an_observed_case_source(capsys, mixed,
                                                                             tmp_path):
    """A maintainer pastes the docs.toml entry and a source line, copies the file where it
    says: the case loads with status observed, citing the observation file."""
    md_path = tmp_path / "d.md"
    assert _run(capsys, str(mixed), "--out", str(md_path))[0] == 0
    md = md_path.read_text()
    doc = doc_id("observations.jsonl")
    entry = (f'{doc} = {{ url = "fixtures/observations/observations.jsonl", '
             'cite = "observation" }')
    inferred = inferred_rule()
    source = next(line for line in md.splitlines()
                  if line.startswith("source = ") and inferred.id in line)
    assert entry in md and f"| 400 | badRequest | {BLOCKED['message']} | 1 |" in md
    assert "Copy `" in md and "Contradicted:" in md and documented("rejected").id in md
    repo = tmp_path / "repo"
    (repo / "fixtures" / "observations").mkdir(parents=True)
    (repo / "fixtures" / "observations" / "observations.jsonl").write_text(mixed.read_text())
    (repo / "fixtures" / "docs.toml").write_text(f"[docs]\n{entry}\n")
    row = repo / "scratch.toml"
    row.write_text(f'area = "scratch"\n[[case]]\nid = "{inferred.case_id}"\ntitle = "t"\n'
                   f'policy = "{inferred.policy_name}"\nprofiles = ["{inferred.profile}"]\n'
                   'expect = { outcome = "accepted" }\n' + source + "\n")
    (case,) = load_case_file(row, load_users(), load_docs(repo / "fixtures" / "docs.toml"))
    assert (case.source.url, case.source.status) == (
        "fixtures/observations/observations.jsonl", "observed")


def test_an_observation_file_in_the_repository_is_cited_where_it_is(capsys, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setattr("pkconf.commands.discover.CHECKOUT", tmp_path)
    (tmp_path / "reports").mkdir()
    path = write(tmp_path / "reports" / "o.jsonl", observation(inferred_rule(), error=BLOCKED))
    assert _run(capsys, str(path), "--out", str(tmp_path / "d.md"))[0] == 0
    md = (tmp_path / "d.md").read_text()
    assert 'OBS_O = { url = "reports/o.jsonl", cite = "observation" }' in md
    assert "Copy `" not in md


@pytest.mark.parametrize("marker", [
    {"graphUrl": "https://127.0.0.1:8443/v1.0"},
    {"observed": {"decision": {"outcome": "accepted", "reason": "ACCEPTED"}}},
], ids=["loopback", "decision"])
def test_observations_the_emulator_answered_are_flagged_as_no_evidence(capsys, tmp_path,
                                                                        marker):
    path = write(tmp_path / "o.jsonl",
                 patched(observation(documented("accepted")), marker, "observation"))
    out = _run(capsys, str(path), "--out", str(tmp_path / "d.md"))[1]
    assert out.splitlines()[1].startswith("note: the emulator answered these observations")
    assert "they are no evidence about Entra" in (tmp_path / "d.md").read_text()


GOOD = json.dumps(observation(documented("accepted")))


@pytest.mark.parametrize(("lines", "message"), [
    ([GOOD, "{not json"], "o.jsonl:2: not a JSON line: "),
    ([json.dumps({**json.loads(GOOD), "schema": 2})],
     "o.jsonl:1: schema 2 is not one pkconf reads (1)"),
    (["", json.dumps({k: v for k, v in json.loads(GOOD).items() if k != "schema"})],
     "o.jsonl:2: schema null is not one pkconf reads (1)"),
    ([GOOD, "[1, 2]"], "o.jsonl:2: an observation is a JSON object"),
    ([json.dumps({**json.loads(GOOD), "observed": {"status": "201", "outcome": "accepted"}})],
     'o.jsonl:1: observed.status must be int, not "201"'),
    ([json.dumps({**json.loads(GOOD), "expected": {"outcome": "accepted", "reason": "NOPE"}})],
     "o.jsonl:1: expected.reason 'NOPE' is no reason of the rule book"),
    ([json.dumps({**json.loads(GOOD), "at": "yesterday"})],
     "o.jsonl:1: at/asOf: Invalid isoformat string: 'yesterday'"),
    ([json.dumps({**json.loads(GOOD), "cloud": "china"})],
     "o.jsonl:1: cloud 'china' is not one of worldwide, gcc, gcchigh, dod"),
    ([json.dumps({**json.loads(GOOD), "expected": {"outcome": "client-error",
                                                   "reason": "ACCEPTED"}})],
     "o.jsonl:1: expected.outcome 'client-error' is not one of accepted, rejected"),
    (["", "  "], "o.jsonl: holds no observations"),
], ids=["json", "schema", "no-schema", "not-object", "status-type", "reason", "at", "cloud",
        "outcome", "empty"])
def test_a_bad_observation_line_is_one_line_naming_file_and_line_with_exit_2(
        capsys, tmp_path, lines, message):
    path = tmp_path / "o.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = _run(capsys, str(path), "--out", str(tmp_path / "d.md"))
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert err.startswith(f"pkconf discover: {tmp_path}/{message}")
    assert not (tmp_path / "d.md").exists()


def test_a_missing_observation_file_is_one_line_with_exit_2(capsys, tmp_path):
    code, _, err = _run(capsys, str(tmp_path / "absent.jsonl"), "--out", str(tmp_path / "d.md"))
    assert (code, err) == (2, f"pkconf discover: cannot read observations "
                              f"{tmp_path / 'absent.jsonl'}: No such file or directory\n")


def test_several_files_are_read_together_and_each_is_named(capsys, tmp_path, mixed):
    second = write(tmp_path / "second.jsonl", observation(inferred_source()))
    code, out, _ = _run(capsys, str(mixed), str(second), "--out", str(tmp_path / "d.md"))
    assert code == 0 and out.startswith(f"4 observations in {mixed}, {second}: 1 confirmed, "
                                        "1 contradicted, 2 newly observed")
    assert f"{doc_id(str(second))} = " in (tmp_path / "d.md").read_text()
