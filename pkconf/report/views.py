"""The by-profile and by-platform trees: light single-file pages built from results.jsonl.

The Allure report (index.html) is the by-family tree with each failure's evidence and the trends
across runs; a second Allure view would embed every result again (each awesome view of a full
run weighs tens of MB). These pages carry one table row per case (status, case, title,
expected, actual, source) under nested <details>, so a vendor finds every case of an
authenticator in one place and a platform owner every case of a platform path, in ~2 MB and
without scripts. A group with a case that did not pass is open and marked; the rest start
closed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from .summary import NOT_PASSED, STATUSES, TABLES, decision_text

# the view's file -> its tree's levels, outermost first (summary.TABLES' columns)
TREES = {"by-profile": ("profile", "family", "platform"),
         "by-platform": ("platform", "family", "profile")}
GROUP_OF: dict[str, Callable[[dict[str, Any]], str]] = {column: row_of
                                                         for _, column, row_of in TABLES}
STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
details{margin-left:1.2em}summary{cursor:pointer;padding:2px 0}
summary .n{color:#666;margin-left:.6em}.bad>summary{color:#b00020;font-weight:600}
table{border-collapse:collapse;margin:.3em 0 .6em 1.2em}
td,th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}
.passed{color:#1a7f37}.failed,.broken{color:#b00020;font-weight:600}.skipped{color:#888}
nav a{margin-right:1em}
"""


def write_views(results: Sequence[dict[str, Any]], out_dir: Path) -> dict[str, Path]:
    """One page per tree in TREES, in out_dir; returns view -> file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = {}
    for view, levels in TREES.items():
        page = out_dir / f"{view}.html"
        page.write_text(_page(view, levels, results), encoding="utf-8")
        pages[view] = page
    return pages


def _page(view: str, levels: Sequence[str], results: Sequence[dict[str, Any]]) -> str:
    title = f"pkconf conformance {view.replace('-', ' ')}"
    links = [f'<a href="{name}">{label}</a>' for name, label in
             (("index.html", "by family (Allure: evidence, trends)"),
              ("by-profile.html", "by profile"), ("by-platform.html", "by platform"))]
    body = _groups(list(results), levels)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1><nav>{''.join(links)}</nav>"
            f"<p>{escape(_counts(results))} · {' › '.join(levels)}</p>{body}</body></html>\n")


def _groups(records: list[dict[str, Any]], levels: Sequence[str]) -> str:
    """The records under each value of the first level, sorted, nested down the levels."""
    if not levels:
        return _table(records)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        grouped.setdefault(GROUP_OF[levels[0]](record), []).append(record)
    parts = []
    for name in sorted(grouped):
        members = grouped[name]
        bad = any(r["status"] in NOT_PASSED for r in members)
        attributes = ' class="bad" open' if bad else ""
        parts.append(f"<details{attributes}><summary>{escape(name)}"
                     f'<span class="n">{escape(_counts(members))}</span></summary>'
                     f"{_groups(members, levels[1:])}</details>")
    return "".join(parts)


def _table(records: list[dict[str, Any]]) -> str:
    rows = ["<table><tr><th>status</th><th>case</th><th>title</th><th>expected</th>"
            "<th>actual</th><th>source</th></tr>"]
    for r in sorted(records, key=lambda r: r["id"]):
        actual = decision_text(r.get("actual"))
        if r.get("detail") and r["status"] in NOT_PASSED:
            actual += f" ({r['detail']})"
        rows.append(f'<tr><td class="{escape(r["status"])}">{escape(r["status"])}</td>'
                    f"<td>{escape(r['id'])}</td><td>{escape(str(r.get('title') or ''))}</td>"
                    f"<td>{escape(decision_text(r.get('expected')))}</td>"
                    f"<td>{escape(actual)}</td><td>{_source(r.get('source'))}</td></tr>")
    return "".join(rows) + "</table>"


def _source(source: dict[str, Any] | None) -> str:
    """The documentation the expectation follows, linked when it is a web address."""
    if not source:
        return ""
    text = escape(f"{source.get('fact', '?')} ({source.get('status', '?')})")
    url = str(source.get("url") or "")
    if url.startswith(("https://", "http://")):
        return f'<a href="{escape(url)}">{text}</a>'
    return text


def _counts(records: Sequence[dict[str, Any]]) -> str:
    """`12 cases: 11 passed, 1 failed` (statuses with no case left out)."""
    said = [f"{n} {status}" for status in STATUSES
            if (n := sum(1 for r in records if r["status"] == status))]
    noun = "case" if len(records) == 1 else "cases"
    return f"{len(records)} {noun}: {', '.join(said)}"
