"""reports/results.jsonl → summary.json and the terminal table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pkconf.report.summary import ResultsError, load_results, render, summarize, write_summary

S2 = "https://learn.microsoft.com/entra/identity/authentication/how-to-authentication-passkey-profiles"


def case(
    case_id: str,
    profile: str,
    platform: str,
    status: str,
    expected: dict,
    actual: dict | str | None = "as expected",
    source: dict | None = None,
    message: str | None = None,
) -> dict:
    """One results.jsonl record in the conformance plugin's schema."""
    return {
        "id": f"{case_id}[{profile}/ctap]",
        "case_id": case_id,
        "title": case_id.lower(),
        "platform": platform,
        "profile": profile,
        "ceremony": "ctap",
        "expected": expected,
        "actual": expected if actual == "as expected" else actual,
        "status": status,
        "duration_ms": 1.5,
        "source": source,
        "message": message,
    }  # fmt: skip


BLOCKED = {"outcome": "rejected", "family": "authenticator_governance", "reason": "AAGUID_BLOCKED"}
EXCLUDED = {"outcome": "rejected", "family": "policy_scope", "reason": "USER_EXCLUDED"}
ACCEPTED = {"outcome": "accepted", "family": None, "reason": None}
RESULTS = [
    case("KR-BLOCK-004", "yubikey-5-nfc-iphone", "iphone", "passed", BLOCKED),
    case(
        "PS-EXCL-001", "windows-hello", "windows", "failed", EXCLUDED,
        actual=ACCEPTED,
        source={"fact": "§2 Exclusion wins", "url": S2, "status": "documented"},
        message="DECISION MISMATCH: expected rejected/USER_EXCLUDED, got accepted\nassert False",
    ),
    case("ACC-001", "yubikey-5-nfc-iphone", "iphone", "passed", ACCEPTED),
    case(
        "ACC-002", "pixel-8", "android", "broken", ACCEPTED,
        actual=None, message="RuntimeError: emulator did not answer",
    ),
    case("PS-GUEST-001", "windows-hello", "windows", "skipped", EXCLUDED, actual=None),
]  # fmt: skip


def jsonl(path: Path, records: list[dict], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail, encoding="utf-8")
    return path


def counts(total: int, passed: int = 0, failed: int = 0, broken: int = 0, skipped: int = 0):
    """A count row, written out in full so every expected table reads as the numbers it holds."""
    return dict(total=total, passed=passed, failed=failed, broken=broken, skipped=skipped)


@pytest.fixture
def summary(tmp_path: Path) -> dict:
    return summarize(load_results(jsonl(tmp_path / "results.jsonl", RESULTS)))


@pytest.mark.parametrize(
    ("table", "rows"),
    [
        ("totals", counts(5, passed=2, failed=1, broken=1, skipped=1)),
        (
            "by_family",
            {
                "accepted": counts(2, passed=1, broken=1),
                "authenticator_governance": counts(1, passed=1),
                "policy_scope": counts(2, failed=1, skipped=1),
            },
        ),
        (
            "by_platform",
            {
                "android": counts(1, broken=1),
                "iphone": counts(2, passed=2),
                "windows": counts(2, failed=1, skipped=1),
            },
        ),
        (
            "by_profile",
            {
                "pixel-8": counts(1, broken=1),
                "windows-hello": counts(2, failed=1, skipped=1),
                "yubikey-5-nfc-iphone": counts(2, passed=2),
            },
        ),
    ],
)
def test_summary_counts_statuses_per_family_platform_and_profile(summary, table, rows):
    assert summary[table] == rows


def test_summary_lists_failed_and_broken_cases_with_expected_actual_and_source(summary):
    assert [(f["id"], f["status"]) for f in summary["not_passed"]] == [
        ("PS-EXCL-001[windows-hello/ctap]", "failed"),
        ("ACC-002[pixel-8/ctap]", "broken"),
    ]
    failed = summary["not_passed"][0]
    assert failed["expected"] == EXCLUDED
    assert failed["actual"] == ACCEPTED
    assert failed["source"]["fact"] == "§2 Exclusion wins"


def test_truncated_last_line_is_ignored(tmp_path: Path):
    path = jsonl(tmp_path / "results.jsonl", RESULTS, tail='{"id": "KR-BLOCK-005[yubi')
    assert [r["case_id"] for r in load_results(path)] == [
        "KR-BLOCK-004", "PS-EXCL-001", "ACC-001", "ACC-002", "PS-GUEST-001",
    ]  # fmt: skip


def test_last_line_without_newline_still_counts_when_complete(tmp_path: Path):
    path = jsonl(tmp_path / "results.jsonl", RESULTS[:1], tail=json.dumps(RESULTS[1]))
    assert [r["case_id"] for r in load_results(path)] == ["KR-BLOCK-004", "PS-EXCL-001"]


def test_unicode_line_separator_inside_a_title_does_not_split_the_record(tmp_path: Path):
    record = case("ACC-003", "pixel-8", "android", "passed", ACCEPTED) | {"title": "a\u2028b"}
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert [r["title"] for r in load_results(path)] == ["a\u2028b"]


def test_rerun_case_counts_once_with_its_latest_status(tmp_path: Path):
    rerun = case("ACC-002", "pixel-8", "android", "passed", ACCEPTED)
    summary = summarize(load_results(jsonl(tmp_path / "results.jsonl", [*RESULTS, rerun])))
    assert summary["totals"] == counts(5, passed=3, failed=1, skipped=1)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"id": "A", "status": "passed"}\n{"id": "B", "sta\n{"id": "C"}\n', ":2: not JSON"),
        ('{"id": "A[x]", "status": "pas\n', ":1: not JSON"),
        ("[1, 2]\n", ":1: a case result is a JSON object"),
        ('{"status": "passed"}\n', ":1: missing case id"),
        ('{"id": "A[x]", "status": "xfailed"}\n', ":1: status 'xfailed'"),
        ('{"id": "A[x]", "status": "passed", "expected": "rejected"}\n', ":1: expected is"),
    ],
    ids=["corrupt-middle-line", "complete-garbage-last-line", "not-an-object", "no-id",
         "unknown-status", "flat-expected"],
)  # fmt: skip
def test_malformed_record_is_rejected_as_results_error(tmp_path: Path, content, problem):
    path = tmp_path / "results.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ResultsError, match=problem):
        load_results(path)


def test_missing_results_file_is_a_results_error(tmp_path: Path):
    with pytest.raises(ResultsError, match="cannot read results"):
        load_results(tmp_path / "nowhere.jsonl")


def test_write_summary_writes_json_that_reads_back_the_same(tmp_path: Path):
    out = tmp_path / "reports" / "summary.json"
    written = write_summary(RESULTS, out)
    assert json.loads(out.read_text(encoding="utf-8")) == written
    assert written["totals"] == counts(5, passed=2, failed=1, broken=1, skipped=1)


def test_render_opens_with_the_totals_line(summary):
    first = render(summary).splitlines()[0]
    assert first == "pkconf conformance: 5 cases: 2 passed, 1 failed, 1 broken, 1 skipped"


def test_render_prints_count_tables_in_fixed_columns(summary):
    lines = render(summary).splitlines()
    header, windows, governance = (
        "platform".ljust(60) + "   total  passed  failed  broken skipped",
        "windows".ljust(60) + "       2       0       1       0       1",
        "authenticator_governance".ljust(60) + "       1       1       0       0       0",
    )
    assert {header, windows, governance} <= set(lines)


def test_render_lists_each_case_that_did_not_pass_with_expected_actual_and_source(summary):
    text = render(summary)
    assert (
        "not passed (2)\n"
        "FAILED PS-EXCL-001[windows-hello/ctap]\n"
        "  expected rejected policy_scope/USER_EXCLUDED\n"
        "  actual   accepted\n"
        "  source   §2 Exclusion wins (documented)\n"
        f"           {S2}\n"
        "  message  DECISION MISMATCH: expected rejected/USER_EXCLUDED, got accepted\n"
        "BROKEN ACC-002[pixel-8/ctap]\n"
        "  expected accepted\n"
        "  actual   none\n"
        "  message  RuntimeError: emulator did not answer\n"
    ) in text


def test_render_fits_100_columns_except_documentation_urls():
    long_profile = "a-profile-name-much-longer-than-any-real-one-" * 3
    long_message = "DECISION MISMATCH: " + "x" * 200
    source = {"fact": "§2 Exclusion wins", "url": S2 + "#" + "y" * 40, "status": "documented"}
    results = [
        case("LONG-001", long_profile, "desktop", "failed", EXCLUDED,
             message=long_message, source=source),
    ]  # fmt: skip
    lines = render(summarize(results)).splitlines()
    assert [line for line in lines if len(line) > 100] == [f"           {source['url']}"]
    profile_row = next(line for line in lines if line.startswith("a-profile-name"))
    assert len(profile_row) == 100
    assert profile_row.endswith("… " + "       1       0       1       0       0")


def test_an_own_policy_summary_counts_decisions_per_user_class_and_never_says_passed():
    recorded = {"outcome": "recorded", "family": None, "reason": ""}
    results = [{**case(f"OWN-00{n}", "yubikey-5-usb", "usb", "passed", recorded, actual=got),
                "user": who, "policy": "mine.json", "detail": "why"}
               for n, who, got in ((1, "pilots", ACCEPTED), (2, "guest", EXCLUDED))]
    summary = summarize(results)
    assert {k: summary["decisions"][k] for k in ("total", "accepted", "rejected")} == \
        {"total": 2, "accepted": 1, "rejected": 1}
    text = render(summary)
    assert text.startswith("pkconf own policy: 2 decisions recorded under mine.json "
                           "(1 accepted, 1 rejected)")
    assert "user class guest: 0 accepted, 1 rejected" in text and "passed" not in text
