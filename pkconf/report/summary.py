"""The run at a glance: reports/results.jsonl counted into summary.json and a terminal table.

An own-policy run (`--policy`) compares nothing, so its cases' "passed" says only that the
harness worked: its summary and table are the decisions, per user class and profile, instead.

The conformance plugin appends one JSON line per case, from several xdist workers, so the file
can end in a half-written line when a run is cut short; that line is dropped, not fatal. A case
written twice (a rerun appended to the same file) counts once, with its latest result.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .columns import aligned

STATUSES = ("passed", "failed", "broken", "skipped")
NOT_PASSED = ("failed", "broken")
WIDTH = 100
FAILURE_FIELDS = ("id", "title", "status", "expected", "actual", "source", "message")
RECORDED = "recorded"  # the expected outcome of an own-policy case
DECIDED = ("accepted", "rejected")


class ResultsError(ValueError):
    """results.jsonl is missing or holds a record that is not a case result."""


def load_results(path: Path) -> list[dict[str, Any]]:
    """The case records in file order; a truncated last line is ignored."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"cannot read results from {path}: {exc}") from exc
    lines = text.split("\n")  # not splitlines(): JSON strings may hold U+2028 and friends
    by_id: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines):
                break  # no newline after it: the writer was interrupted mid-line
            raise ResultsError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        _check(record, f"{path}:{number}")
        by_id.pop(record["id"], None)  # a rerun moves the case to its latest position
        by_id[record["id"]] = record
    return list(by_id.values())


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals, per-family/platform/profile status counts, and the cases that did not pass."""
    summary: dict[str, Any] = {"totals": _count(results)}
    for table, _, row_of in TABLES:
        groups: dict[str, list[dict[str, Any]]] = {}
        for record in results:
            groups.setdefault(row_of(record), []).append(record)
        summary[table] = {key: _count(groups[key]) for key in sorted(groups)}
    summary["not_passed"] = [_failure(r) for r in results if r["status"] in NOT_PASSED]
    if recorded := [r for r in results if (r.get("expected") or {}).get("outcome") == RECORDED]:
        summary["decisions"] = _decisions(recorded)
    return summary


def _decisions(records: list[dict[str, Any]]) -> dict[str, Any]:
    """What an own-policy run decided: counts, counts per user class, and one row per case
    in user class, profile and path order."""
    rows = [{"userClass": r.get("user") or "unknown", "profile": r["profile"],
             "ceremony": r["ceremony"], "outcome": _outcome(r),
             "family": (r.get("actual") or {}).get("family"),
             "reason": (r.get("actual") or {}).get("reason"),
             "detail": r.get("detail") or _first_line(r.get("message")),
             "policy": r.get("policy")}
            for r in sorted(records, key=lambda r: (str(r.get("case_id")), r["profile"],
                                                    r["ceremony"]))]
    by_class: dict[str, dict[str, int]] = {}
    for row in rows:
        tally = by_class.setdefault(row["userClass"], {"total": 0, **dict.fromkeys(DECIDED, 0)})
        tally["total"] += 1
        if row["outcome"] in DECIDED:
            tally[row["outcome"]] += 1
    totals = Counter(row["outcome"] for row in rows)
    return {"total": len(rows), **{o: totals[o] for o in DECIDED},
            "by_user_class": by_class, "rows": rows}


def _outcome(record: dict[str, Any]) -> str:
    """The tenant's outcome, or the harness status when no decision came back."""
    return str((record.get("actual") or {}).get("outcome") or record["status"])


def _first_line(text: str | None) -> str:
    return (text or "").strip().partition("\n")[0]


def write_summary(results: list[dict[str, Any]], path: Path) -> dict[str, Any]:
    """Summarize and write the summary as JSON (reports/summary.json); returns the summary."""
    summary = summarize(results)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary


def render(summary: dict[str, Any]) -> str:
    """A fixed-width text report for the terminal; only documentation URLs may pass 100 columns."""
    totals = summary["totals"]
    if decisions := summary.get("decisions"):
        blocks = [_decision_tables(decisions)]
    else:
        counts = ", ".join(f"{totals[s]} {s}" for s in STATUSES)
        blocks = [f"pkconf conformance: {totals['total']} cases: {counts}"]
        blocks += [_table(column, summary[table]) for table, column, _ in TABLES]
    failures = summary["not_passed"]
    if failures:
        lines = [f"not passed ({len(failures)})"]
        for failure in failures:
            lines += _failure_lines(failure)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _decision_tables(decisions: dict[str, Any]) -> str:
    """The counts line, then per user class each profile with its decisions beneath, the paths
    that decided alike on one row, so the columns fit the width before the detail is cut."""
    policy = decisions["rows"][0]["policy"]
    blocks = [f"pkconf own policy: {decisions['total']} decisions recorded under {policy} "
              f"({decisions['accepted']} accepted, {decisions['rejected']} rejected)"]
    for label, tally in decisions["by_user_class"].items():
        merged: dict[tuple[str, ...], list[str]] = {}  # (profile, decision...) -> paths
        for row in decisions["rows"]:
            if row["userClass"] == label:
                said = (row["profile"], row["outcome"], row["family"] or "-",
                        row["reason"] or "-", row["detail"] or "")
                merged.setdefault(said, []).append(row["ceremony"])
        table = aligned(("    path", "outcome", "family", "reason", "detail"),
                        [(f"    {', '.join(paths)}", *said[1:])
                         for said, paths in merged.items()])
        lines = [f"user class {label}: {tally['accepted']} accepted, "
                 f"{tally['rejected']} rejected", table[0]]
        shown = ""
        for (profile, *_), line in zip(merged, table[1:], strict=True):
            if profile != shown:
                lines.append(f"  {profile}")
                shown = profile
            lines.append(line)
        blocks.append("\n".join(_cut(line, WIDTH) for line in lines))
    return "\n\n".join(blocks)


def _check(record: Any, where: str) -> None:
    if not isinstance(record, dict):
        raise ResultsError(f"{where}: a case result is a JSON object")
    if not isinstance(record.get("id"), str) or not record["id"]:
        raise ResultsError(f"{where}: missing case id")
    if record.get("status") not in STATUSES:
        raise ResultsError(f"{where}: status {record.get('status')!r} is not one of {STATUSES}")
    for key in ("expected", "actual", "source"):
        if record.get(key) is not None and not isinstance(record[key], dict):
            raise ResultsError(f"{where}: {key} is a JSON object or null")


def _count(records: list[dict[str, Any]]) -> dict[str, int]:
    tally = Counter(r["status"] for r in records)
    return {"total": len(records), **{s: tally[s] for s in STATUSES}}


def family(record: dict[str, Any]) -> str:
    """The expected family, or the expected outcome when there is none: the report's epics."""
    expected = record.get("expected") or {}
    return str(expected.get("family") or expected.get("outcome") or "unknown")


def _field(name: str) -> Callable[[dict[str, Any]], str]:
    return lambda record: str(record.get(name) or "unknown")


# summary key, column title, the row a case counts in
TABLES: tuple[tuple[str, str, Callable[[dict[str, Any]], str]], ...] = (
    ("by_family", "family", family),
    ("by_platform", "platform", _field("platform")),
    ("by_profile", "profile", _field("profile")),
)


def _failure(record: dict[str, Any]) -> dict[str, Any]:
    return {key: record.get(key) for key in FAILURE_FIELDS}


def _table(column: str, rows: dict[str, dict[str, int]]) -> str:
    """One count table; long names are cut so a row always fits the width."""
    name_width = WIDTH - 8 * (len(STATUSES) + 1)
    header = f"{column:<{name_width}}" + "".join(f"{h:>8}" for h in ("total", *STATUSES))
    lines = [header]
    for name, counts in rows.items():
        cells = "".join(f"{counts[h]:>8}" for h in ("total", *STATUSES))
        lines.append(f"{_cut(name, name_width - 1):<{name_width}}{cells}")
    return "\n".join(lines)


def _failure_lines(failure: dict[str, Any]) -> list[str]:
    source = failure.get("source") or {}
    lines = [
        _cut(f"{failure['status'].upper()} {failure['id']}", WIDTH),
        _cut(f"  expected {decision_text(failure.get('expected'))}", WIDTH),
        _cut(f"  actual   {decision_text(failure.get('actual'))}", WIDTH),
    ]
    if source:
        fact = f"{source.get('fact', '?')} ({source.get('status', '?')})"
        lines.append(_cut(f"  source   {fact}", WIDTH))
        if source.get("url"):
            lines.append(f"           {source['url']}")
    message = (failure.get("message") or "").strip()
    if message:
        lines.append(_cut(f"  message  {message.splitlines()[0]}", WIDTH))
    return lines


def decision_text(decision: dict[str, Any] | None) -> str:
    """`rejected authenticator_governance/AAGUID_BLOCKED`, `accepted`, or `none` when absent."""
    if not decision:
        return "none"
    why = "/".join(str(decision[k]) for k in ("family", "reason") if decision.get(k))
    return f"{decision.get('outcome', '?')} {why}".strip()


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
