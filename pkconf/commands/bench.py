"""`pkconf bench`: every speed target of the suite in one table, from the benchmark scripts.

Each script in benchmarks/ measures its own paths and, with `--json`, prints its figures as one
JSON array on its last line: {"figure", "target", "measured", "unit", "better"}, where `better`
is "lower" (a time) or "higher" (a rate or a speed-up) or "flat" (a spread in %, within
±target). The targets live in the scripts; this command only runs them and compares, so a
benchmark stays runnable on its own and a test never asserts a time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..inputs import UsageError

HELP = "run the benchmark scripts and print every speed figure against its target"
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = {  # name -> the script that measures it, in the order of the table
    "ceremony": "bench_software_registration.py",
    "conformance": "bench_conformance.py",
    "browser": "bench_browser.py",
    "impact": "bench_impact.py",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true",
                   help="fewer runs and cases, so the table comes in a few minutes")
    p.add_argument("--only", nargs="+", choices=list(SCRIPTS), metavar="NAME",
                   help=f"run only these benchmarks ({', '.join(SCRIPTS)})")
    p.add_argument("--details", action="store_true",
                   help="print each benchmark's own lines before the table: the measurements "
                        "behind its figures and their spread")


def run(args: argparse.Namespace) -> int:
    if not BENCHMARKS.is_dir():
        raise UsageError(f"no benchmarks/ beside the package at {BENCHMARKS.parent} "
                         "(pkconf bench runs from a source checkout)")
    rows: list[dict[str, Any]] = []
    for name in args.only or SCRIPTS:
        started = time.perf_counter()
        print(f"running {SCRIPTS[name]} ...", file=sys.stderr, flush=True)
        details, figures = _figures(BENCHMARKS / SCRIPTS[name], quick=args.quick)
        rows += figures
        print(f"  {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        if args.details:
            print("\n".join([f"{SCRIPTS[name]}:", *details, ""]), flush=True)
    print(render(rows))
    return 0 if all(passes(r) for r in rows) else 1


def _figures(script: Path, *, quick: bool) -> tuple[list[str], list[dict[str, Any]]]:
    """The script's lines for a reader, and its figures: the JSON array on its last line."""
    cmd = [sys.executable, str(script), "--json", *(["--quick"] if quick else [])]
    done = subprocess.run(cmd, cwd=BENCHMARKS.parent, capture_output=True, text=True,
                          check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise UsageError(f"{script.name} failed (exit {done.returncode}): {tail[0]}")
    try:
        figures = json.loads(lines[-1])
    except json.JSONDecodeError:
        figures = None
    if not isinstance(figures, list):
        raise UsageError(f"{script.name} printed no figures: its last line is {lines[-1]!r}")
    return lines[:-1], figures


def passes(row: dict[str, Any]) -> bool:
    """Whether a figure meets its target."""
    if row["better"] == "lower":
        return bool(row["measured"] <= row["target"])
    if row["better"] == "higher":
        return bool(row["measured"] >= row["target"])
    return bool(abs(row["measured"]) <= row["target"])  # "flat": a spread in ± percent


def ratio(row: dict[str, Any]) -> float:
    """Measured over target, read the same way for every figure: <= 1 meets it."""
    if row["better"] == "higher":
        return float(row["target"] / row["measured"]) if row["measured"] else float("inf")
    return float(abs(row["measured"]) / row["target"])


def render(rows: list[dict[str, Any]]) -> str:
    """One table: figure, target, measured, ratio to target (<= 1 meets it), pass or fail."""
    cells = [(r["figure"], f"{_SIGNS[r['better']]}{r['target']:g} {r['unit']}",
              f"{r['measured']:.4g} {r['unit']}", f"{ratio(r):.2f}",
              "pass" if passes(r) else "FAIL") for r in rows]
    head = ("figure", "target", "measured", "ratio", "result")
    widths = [max(len(row[i]) for row in [head, *cells]) for i in range(len(head))]
    return "\n".join("  ".join([row[0].ljust(widths[0]),
                                *(cell.rjust(w) for cell, w in zip(row[1:4], widths[1:4],
                                                                   strict=True)),
                                row[4]]) for row in [head, *cells])


_SIGNS = {"lower": "<= ", "higher": ">= ", "flat": "± "}
