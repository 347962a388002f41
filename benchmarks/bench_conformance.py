"""Conformance throughput: cases per second on the ctap path, with and without Allure,
and with one and two pytest-xdist workers. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_conformance.py [--cases 'MX-*'] [--strength 2]

Goals (the Conformance issue): <= 5 ms per case in-test on the ctap path, and >= 1.8x
throughput from two workers on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(workers: int, allure: bool, selection: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pytest", str(ROOT / "conformance" / "test_matrix_cases.py"),
               "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT), "--results-dir", tmp,
               "--ceremony", "ctap", "-n", str(workers), *selection]
        if allure:
            cmd += ["--alluredir", str(Path(tmp) / "allure")]
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, check=False, capture_output=True, text=True)
        wall = time.perf_counter() - start
        lines = [json.loads(x) for x in (Path(tmp) / "results.jsonl").read_text().splitlines()]
    durations = [x["duration_ms"] for x in lines if x["status"] in ("passed", "failed")]
    if done.returncode not in (0, 1) or not durations:
        sys.exit(f"the run broke (pytest exit {done.returncode}):\n{done.stdout[-3000:]}")
    return {"cases": len(lines), "wall_s": wall, "per_s": len(lines) / wall,
            "median_ms": statistics.median(durations), "mean_ms": statistics.fmean(durations)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strength", default="2")
    parser.add_argument("--cases", default=None, help="a --case glob to narrow the run")
    opts = parser.parse_args()
    selection = ["--matrix-strength", opts.strength] + (["--case", opts.cases] if opts.cases
                                                         else [])
    print(f"{'workers':>7} {'allure':>6} {'cases':>6} {'wall s':>7} {'cases/s':>8} "
          f"{'median ms':>9} {'mean ms':>8}")
    figures = {}
    for workers, allure in ((1, False), (1, True), (2, True)):
        f = figures[(workers, allure)] = run(workers, allure, selection)
        print(f"{workers:>7} {'yes' if allure else 'no':>6} {f['cases']:>6} {f['wall_s']:>7.1f} "
              f"{f['per_s']:>8.0f} {f['median_ms']:>9.2f} {f['mean_ms']:>8.2f}")
    speedup = figures[(2, True)]["per_s"] / figures[(1, True)]["per_s"]
    overhead = figures[(1, True)]["wall_s"] / figures[(1, False)]["wall_s"] - 1
    print(f"two workers vs one (with Allure): {speedup:.2f}x   Allure overhead: {overhead:+.0%}")


if __name__ == "__main__":
    main()
