"""`pkconf report --merge` and `--history`, the JUnit it writes, and the light Allure results.

Shards are reports folders as `pkconf run --shard I/N` leaves them: results.jsonl, a pytest
junit.xml and allure-results/ with one result per case and allure-pytest's fixture containers.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from pkconf.cli import main
from pkconf.report.allure_results import compact, says_nothing
from pkconf.report.html import ALLURE_TOOLS
from pkconf.report.junit import case_id, write_junit
from pkconf.report.summary import ResultsError

FAMILIES = {"KR": "authenticator_governance", "PS": "policy_scope", "AC": None}
PLATFORMS = ("security-key", "windows", "iphone")
TRIVIAL = {"befores": [{"name": "case", "status": "passed", "start": 1, "stop": 2}],
           "afters": [{"name": "case::<lambda>", "start": 2, "stop": 3}]}


def record(n: int, status: str = "passed") -> dict[str, Any]:
    prefix = list(FAMILIES)[n % 3]
    family = FAMILIES[prefix]
    decided = {"outcome": "rejected" if family else "accepted", "family": family,
               "reason": "WHY" if family else "ACCEPTED"}
    return {"id": f"{prefix}-{n:03}[key-{n % 2}/ctap]", "case_id": f"{prefix}-{n:03}",
            "title": f"case {n}", "platform": PLATFORMS[n % 3], "profile": f"key-{n % 2}",
            "ceremony": "ctap", "status": status, "expected": decided,
            "actual": decided if status == "passed" else {"outcome": "accepted"},
            "source": {"fact": "§2", "url": "https://learn.microsoft.com", "status": "documented"}}


def shard(folder: Path, records: list[dict[str, Any]]) -> Path:
    """A reports folder as `pkconf run` leaves it."""
    results = folder / "allure-results"
    results.mkdir(parents=True)
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    suite = ET.Element("testsuite", name="pytest", tests=str(len(records)), time="1.5")
    for r in records:
        case = ET.SubElement(suite, "testcase", classname="conformance.test_cases",
                             name=f"test_entra_decides_as_documented[{r['id']}]", time="0.01")
        if r["status"] == "failed":
            ET.SubElement(case, "failure", message="DECISION MISMATCH")
        uuid = f"{folder.name}-{r['id']}".replace("/", "-")
        (results / f"{uuid}-result.json").write_text(json.dumps({
            "uuid": uuid, "name": r["title"], "status": r["status"], "historyId": r["id"],
            "fullName": f"conformance#{r['id']}", "start": 1, "stop": 2,
            "labels": [{"name": "epic", "value": r["expected"]["family"] or "accepted"}],
            "statusDetails": {"message": "DECISION MISMATCH"} if r["status"] != "passed" else {},
        }))
        (results / f"{uuid}-container.json").write_text(json.dumps({
            "uuid": f"c-{uuid}", "children": [uuid], **TRIVIAL}))
    root = ET.Element("testsuites", name="pytest tests")
    root.append(suite)
    ET.ElementTree(root).write(folder / "junit.xml", encoding="utf-8", xml_declaration=True)
    return folder


RECORDS = [record(n, "failed" if n == 4 else "passed") for n in range(10)]


@pytest.fixture
def merged(tmp_path: Path) -> Path:
    """Two shards (every other case) merged without HTML."""
    one = shard(tmp_path / "results-ctap-1", RECORDS[0::2])
    two = shard(tmp_path / "results-ctap-2", RECORDS[1::2])
    out = tmp_path / "merged"
    assert main(["report", "--reports", str(out), "--merge", str(one), str(two),
                 "--no-html"]) == 0
    return out


def test_merged_shards_total_what_the_unsharded_run_totals(merged: Path, tmp_path: Path):
    whole = shard(tmp_path / "unsharded", RECORDS)
    assert main(["report", "--reports", str(whole), "--no-html"]) == 0
    unsharded = json.loads((whole / "summary.json").read_text())
    together = json.loads((merged / "summary.json").read_text())
    assert together == unsharded
    assert together["totals"] == {"total": 10, "passed": 9, "failed": 1, "broken": 0,
                                  "skipped": 0}


def test_merged_report_is_a_reports_folder_of_its_own(merged: Path):
    lines = (merged / "results.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(r["id"] for r in RECORDS)
    names = {p.name for p in (merged / "allure-results").iterdir()}
    assert sum(n.endswith("-result.json") for n in names) == 10
    assert not any(n.endswith("-container.json") for n in names)  # they said nothing
    assert {"environment.properties", "executor.json"} <= names


def test_merged_junit_is_one_suite_of_family_platform_classes_named_by_case(merged: Path):
    suite = ET.parse(merged / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("time")) == ("10", "1", "3.000")
    cases = {(c.get("classname"), c.get("name")) for c in suite.iter("testcase")}
    assert ("authenticator_governance.security-key", "KR-000[key-0/ctap]") in cases
    assert ("policy_scope.windows", "PS-001[key-1/ctap]") in cases
    assert ("accepted.iphone", "AC-002[key-0/ctap]") in cases
    assert len(cases) == 10


def test_a_testcase_without_a_case_record_keeps_pytest_s_names(tmp_path: Path):
    folder = shard(tmp_path / "run", RECORDS[:2])
    write_junit([folder / "junit.xml"], RECORDS[:1], folder / "junit.xml")
    names = [c.get("name") for c in ET.parse(folder / "junit.xml").getroot().iter("testcase")]
    assert names == ["KR-000[key-0/ctap]", "test_entra_decides_as_documented[PS-001[key-1/ctap]]"]


def test_rewriting_a_rewritten_junit_changes_nothing(merged: Path):
    once = (merged / "junit.xml").read_bytes()
    assert main(["report", "--reports", str(merged), "--no-html"]) == 0
    assert (merged / "junit.xml").read_bytes() == once


def test_a_shard_given_twice_counts_each_case_once(tmp_path: Path):
    one = shard(tmp_path / "results-ctap-1", RECORDS[:4])
    assert main(["report", "--reports", str(tmp_path / "out"), "--merge", str(one), str(one),
                 "--no-html"]) == 0
    suite = ET.parse(tmp_path / "out" / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "4"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["totals"]["total"] == 4


@pytest.mark.parametrize(("name", "found"), [
    ("test_entra_decides_as_documented[KR-001[yubikey-5-usb/ctap]]", "KR-001[yubikey-5-usb/ctap]"),
    ("test_report_tree", None),
])  # fmt: skip
def test_the_case_id_is_the_testcase_s_parametrize_id(name, found):
    assert case_id(name) == found


def test_unreadable_junit_is_a_results_error(tmp_path: Path):
    (tmp_path / "junit.xml").write_text("<testsuites>")
    with pytest.raises(ResultsError, match="cannot read JUnit XML"):
        write_junit([tmp_path / "junit.xml"], [], tmp_path / "out.xml")


@pytest.mark.parametrize(("fixtures", "nothing"), [
    (TRIVIAL, True),
    ({"befores": [{"name": "emulator", "status": "broken",
                   "statusDetails": {"message": "no port"}}]}, False),
    ({"befores": [{"name": "tenant", "status": "passed",
                   "attachments": [{"name": "log", "source": "x.txt"}]}]}, False),
    ({"afters": [{"name": "browser", "status": "passed", "steps": [{"name": "close"}]}]}, False),
])  # fmt: skip
def test_a_container_says_nothing_only_when_every_fixture_passed_bare(fixtures, nothing):
    assert says_nothing({"uuid": "c", **fixtures}) is nothing


def test_compacting_drops_only_the_containers_that_say_nothing(tmp_path: Path):
    folder = shard(tmp_path / "run", RECORDS[:3])
    broken = tmp_path / "run" / "allure-results" / "kept-container.json"
    broken.write_text(json.dumps({"befores": [{"name": "emulator", "status": "broken"}]}))
    assert compact(tmp_path / "run" / "allure-results") == 3
    left = sorted(p.name for p in (folder / "allure-results").iterdir())
    assert "kept-container.json" in left and len(left) == 4


@pytest.mark.parametrize(("args", "said"), [
    (["--merge", "{tmp}/absent"], "no reports folder at {tmp}/absent"),
    (["--merge", "{tmp}/empty"], "cannot read results from {tmp}/empty/results.jsonl"),
    (["--merge", "{tmp}/blank"], "no case results in {tmp}/blank/results.jsonl"),
    (["--reports", "{tmp}/blank"], "no case results in {tmp}/blank/results.jsonl"),
    (["--reports", "{tmp}/blank", "--merge", "{tmp}/blank"],
     "--reports {tmp}/blank is one of the --merge folders"),
    (["--history", "{tmp}/blank/results.jsonl", "--reports", "{tmp}/blank"],
     "--history {tmp}/blank/results.jsonl is not a folder"),
])  # fmt: skip
def test_unusable_input_is_one_line_and_exit_2(tmp_path, capsys, args, said):
    (tmp_path / "empty").mkdir()
    (tmp_path / "blank").mkdir()
    (tmp_path / "blank" / "results.jsonl").write_text("\n")
    argv = ["report", "--reports", str(tmp_path / "out"),
            *[a.format(tmp=tmp_path) for a in args], "--no-html"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pkconf report: {said.format(tmp=tmp_path)}")
    assert err.count("\n") == 1


def embedded_results(page: Path) -> list[dict[str, Any]]:
    """The test results a single-file Allure report embeds (base64 JSON per result)."""
    data = re.findall(r'd\("data/test-results/[^"]+","([^"]*)"\)', page.read_text())
    return [json.loads(base64.b64decode(value)) for value in data]


def test_history_keeps_each_run_so_the_next_report_shows_the_case_s_past(tmp_path: Path):
    if shutil.which("node") is None or not (ALLURE_TOOLS / "node_modules").is_dir():
        pytest.skip("Allure 3 is not installed: run scripts/install-system-deps.sh (needs npm)")
    history = tmp_path / "history"
    for night in ("first", "second"):
        shutil.rmtree(tmp_path / "run", ignore_errors=True)
        shard(tmp_path / "run", RECORDS[3:5])  # one pass, one failure
        assert main(["report", "--reports", str(tmp_path / "run"),
                     "--history", str(history)]) == 0
        if night == "first":
            [failure] = embedded_results(tmp_path / "run" / "html" / "index.html")
            assert failure["history"] == []
    assert len((history / "history.jsonl").read_text().splitlines()) == 2
    [failure] = embedded_results(tmp_path / "run" / "html" / "index.html")  # passes left out
    assert failure["status"] == "failed"
    assert [h["status"] for h in failure["history"]] == ["failed"]
