"""`pkconf report`: rebuild the summary, JUnit and HTML reports from a run, or merge shards.

`--merge DIR...` takes the reports folders of shards (`pkconf run --shard I/N`, each with
results.jsonl, junit.xml and allure-results/) and writes one report into --reports whose totals
are an unsharded run's. `--history DIR` keeps Allure's history between runs (a nightly's cache),
so the HTML report shows trends, new failures and flaky cases.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..paths import REPORTS

HELP = "rebuild reports/summary.json, JUnit and the HTML report from a run, or merge shards"
RESULTS, JUNIT, ALLURE = "results.jsonl", "junit.xml", "allure-results"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reports", default=str(REPORTS), metavar="DIR",
                   help="the reports folder of a run, or with --merge where the merged report "
                        "goes (default: reports/)")
    p.add_argument("--merge", nargs="+", metavar="DIR",
                   help="shards' reports folders (results.jsonl, junit.xml, allure-results/) "
                        "to merge into one report in --reports")
    p.add_argument("--history", metavar="DIR",
                   help="a folder kept between runs for Allure's history (trends, new failures, "
                        "flaky cases); this run is added to it")
    p.add_argument("--target", default="emulator", help="the target named in the environment")
    p.add_argument("--no-html", action="store_true", help="the summary and JUnit only")


def write_reports(reports: Path, target: str, *, html: bool, merge: Sequence[Path] = (),
                  history: Path | None = None) -> None:
    """Summary table and JSON, JUnit, Allure environment, and (optionally) the HTML reports,
    from reports/ itself or from the shard folders in `merge`."""
    from ..inputs import UsageError
    from ..report import allure_results
    from ..report.html import ReportError, generate_html, write_environment
    from ..report.junit import write_junit
    from ..report.summary import ResultsError, render, write_summary
    from ..report.views import write_views

    sources = list(merge) or [reports]
    try:
        results = _read_results(sources)
        if merge:
            _write_results(results, reports / RESULTS)
        junit = [s / JUNIT for s in sources if (s / JUNIT).is_file()]
        if junit:
            write_junit(junit, results, reports / JUNIT)
        summary = write_summary(results, reports / "summary.json")
    except ResultsError as e:
        raise UsageError(str(e)) from None
    print(render(summary))
    print(f"\nSummary:        {reports / 'summary.json'}")
    if junit:
        print(f"JUnit XML:      {reports / JUNIT}")
    allure = reports / ALLURE
    shards = [s / ALLURE for s in sources if (s / ALLURE).is_dir()]
    if merge and shards:
        allure_results.merge(shards, allure)
    elif shards:
        allure_results.compact(allure)
    if shards:
        write_environment(allure, target=target)
        print(f"Allure results: {allure}")
    if not html:
        return
    html_dir = reports / "html"
    shutil.rmtree(html_dir, ignore_errors=True)
    pages: dict[str, Path] = {}
    if shards:
        try:
            if (page := generate_html(allure, html_dir, history=history)) is not None:
                pages["by-family"] = page
        except ReportError as e:
            raise UsageError(f"the HTML report failed: {e}") from None
    pages |= write_views(results, html_dir)
    label = "HTML report:"
    for view, page in pages.items():
        print(f"{label:<16}{page} ({view.replace('-', ' ')})")
        label = ""


def _read_results(sources: Sequence[Path]) -> list[dict[str, Any]]:
    """Every source's case records, one per case id (a case in two shards counts once, as
    load_results counts a rerun); a missing folder or one without results is refused."""
    from ..report.summary import ResultsError, load_results

    by_id: dict[str, dict[str, Any]] = {}
    for source in sources:
        if not source.is_dir():
            raise ResultsError(f"no reports folder at {source}")
        records = load_results(source / RESULTS)
        if not records:
            raise ResultsError(f"no case results in {source / RESULTS}")
        for record in records:
            by_id.pop(record["id"], None)
            by_id[record["id"]] = record
    return list(by_id.values())


def _write_results(results: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    from ..inputs import UsageError

    reports = Path(args.reports).resolve()
    merge = [Path(d).resolve() for d in args.merge or ()]
    if reports in merge:
        raise UsageError(f"--reports {args.reports} is one of the --merge folders: the merged "
                         "report goes to a folder of its own")
    history = Path(args.history).resolve() if args.history else None
    if history is not None and history.exists() and not history.is_dir():
        raise UsageError(f"--history {args.history} is not a folder")
    write_reports(reports, args.target, html=not args.no_html, merge=merge, history=history)
    return 0
