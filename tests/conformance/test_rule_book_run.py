"""A run's `--as-of`/`--cloud` reach every case that pins no day or cloud of its own, and each
case's results line and Allure parameters say which book decided it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from conformance.cases import load_cases
from conformance.runner import case_book
from pkconf.tenant.rules import Cloud, RuleBook

ROOT = Path(__file__).resolve().parents[2]
RUN_BOOK = RuleBook(date(2026, 11, 29), Cloud.WORLDWIDE)


@pytest.mark.parametrize(("as_of", "cloud", "book"), [
    (None, None, RUN_BOOK),
    (date(2026, 3, 20), None, RuleBook(date(2026, 3, 20), Cloud.WORLDWIDE)),
    (None, Cloud.DOD, RuleBook(date(2026, 11, 29), Cloud.DOD)),
    (date(2026, 6, 20), Cloud.GCC, RuleBook(date(2026, 6, 20), Cloud.GCC)),
])
def test_a_case_pins_its_own_day_and_cloud_else_the_runs_apply(as_of, cloud, book):
    case = replace(load_cases()[0], as_of=as_of, cloud=cloud)
    assert case_book(case, RUN_BOOK) == book


def test_pkconf_run_passes_the_day_and_cloud_to_every_case(tmp_path: Path):
    policy = ROOT / "fixtures" / "policies" / "synced-or-device-bound.json"
    done = subprocess.run(
        [sys.executable, "-m", "pkconf", "run", "--policy", str(policy), "--no-html",
         "--reports", str(tmp_path), "-n", "1", "--profile", "windows-hello-hardware",
         "--as-of", "2026-06-20", "--cloud", "gcc"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert {(x["asOf"], x["cloud"]) for x in lines} == {("2026-06-20", "gcc")}
    ctap = next(x for x in lines if x["ceremony"] == "ctap")
    assert ctap["actual"]["reason"] == "WINDOWS_HELLO_NOT_ALLOWED"  # GA reaches gcc in July
    results = (tmp_path / "allure-results").glob("*-result.json")
    shown = {(p["name"], p["value"], p.get("excluded")) for result in results
             for p in json.loads(result.read_text())["parameters"]}
    # Allure shows values as Python literals; out of the history id, a daily as-of breaks none
    assert {("as of", "'2026-06-20'", True), ("cloud", "'gcc'", True)} <= shown
