"""Flakiness soak: run the default conformance suite N times and report every case whose result
differs between runs (issue 14). A case's result is its status and actual decision (outcome,
family, reason) in `results.jsonl`; a case missing from some runs differs too.

    .venv/bin/python scripts/soak.py --runs 20 [--keep DIR] [-- PKCONF-RUN-ARGS...]

Prints each run's duration, case count and exit code, then the differing cases with what each
run said. Exit 0 when every run finished and no case differs; 1 otherwise; 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

Result = tuple[str, str, str, str]  # status, outcome, family, reason


def read_results(path: Path) -> dict[str, Result]:
    """case id -> its result, from one run's results.jsonl."""
    results: dict[str, Result] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            actual = row.get("actual") or {}
            results[row["id"]] = (row["status"], str(actual.get("outcome")),
                                  str(actual.get("family")), str(actual.get("reason")))
    return results


def differing(runs: list[dict[str, Result]]) -> dict[str, dict[str, list[int]]]:
    """case id -> {result: the runs (1-based) that gave it}, for cases not the same in all."""
    out: dict[str, dict[str, list[int]]] = {}
    for case in sorted(set().union(*runs)):
        seen: dict[str, list[int]] = defaultdict(list)
        for i, results in enumerate(runs, 1):
            result = results.get(case)
            seen["missing" if result is None else " ".join(result)].append(i)
        if len(seen) > 1:
            out[case] = dict(seen)
    return out


def soak(runs: int, folder: Path, extra: list[str]) -> int:
    collected: list[dict[str, Result]] = []
    broken = 0
    for i in range(1, runs + 1):
        reports = folder / f"run-{i}"
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pkconf", "run", "--no-html", "--reports",
                               str(reports), *extra], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, check=False)
        seconds = time.perf_counter() - started
        results_file = reports / "results.jsonl"
        if done.returncode not in (0, 1) or not results_file.exists():
            broken += 1
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            print(f"run {i}/{runs}: BROKEN after {seconds:.1f} s (exit {done.returncode}): {last}",
                  flush=True)
            continue
        results = read_results(results_file)
        passed = sum(r[0] == "passed" for r in results.values())
        print(f"run {i}/{runs}: {len(results)} cases, {passed} passed, "
              f"{len(results) - passed} not, {seconds:.1f} s (exit {done.returncode})", flush=True)
        collected.append(results)
    differ = differing(collected) if collected else {}
    print(f"soak: {runs} runs, {len(collected)} finished, {broken} broken, "
          f"{len(differ)} differing cases")
    for case, seen in differ.items():
        print(f"  {case}")
        for result, which in seen.items():
            print(f"    runs {','.join(map(str, which))}: {result}")
    return 1 if differ or broken else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, metavar="N", help="how many runs")
    parser.add_argument("--keep", metavar="DIR",
                        help="keep each run's reports in DIR/run-I (default: a temporary folder)")
    parser.add_argument("extra", nargs=argparse.REMAINDER,
                        help="after --: more `pkconf run` arguments (default: none)")
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2: one run has nothing to differ from")
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        return soak(args.runs, Path(args.keep), extra)
    with tempfile.TemporaryDirectory(prefix="pkconf-soak-") as folder:
        return soak(args.runs, Path(folder), extra)


if __name__ == "__main__":
    sys.exit(main())
