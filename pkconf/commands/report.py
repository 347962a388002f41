"""`pkconf report`: rebuild the summary and the single-file HTML reports from the last run."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from ..paths import REPORTS

HELP = "rebuild reports/summary.json and the HTML report from the last run's results"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reports", default=str(REPORTS), metavar="DIR",
                   help="the reports folder of a run (default: reports/)")
    p.add_argument("--target", default="emulator", help="the target named in the environment")
    p.add_argument("--no-html", action="store_true", help="the summary only")


def write_reports(reports: Path, target: str, *, html: bool) -> None:
    """Summary table and JSON, Allure environment, and (optionally) the HTML report."""
    from ..inputs import UsageError
    from ..report.html import ReportError, generate_html, write_environment
    from ..report.summary import (
        ResultsError,
        load_results,
        render,
        write_summary,
    )

    try:
        results = load_results(reports / "results.jsonl")
        summary = write_summary(results, reports / "summary.json")
    except ResultsError as e:
        raise UsageError(str(e)) from None
    print(render(summary))
    allure_results = reports / "allure-results"
    print(f"\nSummary:        {reports / 'summary.json'}")
    if (reports / "junit.xml").exists():
        print(f"JUnit XML:      {reports / 'junit.xml'}")
    if not allure_results.is_dir():
        return
    write_environment(allure_results, target=target)
    print(f"Allure results: {allure_results}")
    if html:
        html_dir = reports / "html"
        shutil.rmtree(html_dir, ignore_errors=True)
        try:
            pages = generate_html(allure_results, html_dir)
        except ReportError as e:
            raise UsageError(f"the HTML report failed: {e}") from None
        if pages is not None:
            print(f"HTML report:    {pages['by-family']} (by family)")
            print(f"                {pages['by-profile']} (by profile)")


def run(args: argparse.Namespace) -> int:
    write_reports(Path(args.reports).resolve(), args.target, html=not args.no_html)
    return 0
