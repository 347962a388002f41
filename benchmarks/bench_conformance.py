"""Conformance speed: the cost of a ctap case, two workers against one, whether the cost per
case stays flat over a long run, and the full default run. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_conformance.py [--quick] [--json]

Targets (issue 13): a ctap case <= 5 ms median in the test, on one worker with Allure on (the
ceremony, `duration_ms` in results.jsonl, wall time: what the issue measured at 7.5-8.9 ms;
each case runs once in each of the three one-worker runs below, and the figure is the median
over the cases of each one's fastest, for the reason the long run takes its cheapest block;
the median of every run's every case is printed beside it);
printed beside it, without a target, the whole cost finish to finish (pytest, the plugin's
hooks, Allure and the worker's embedded emulator included: the gaps between consecutive tests'
ends, `timing_plugin`, in the worker's CPU time, which other jobs on the machine do not
inflate); two pytest-xdist workers >= 1.8x one (cases per second while every
worker runs cases, wall time: each process's start-up, a few seconds whatever the run's size,
is printed beside it as the whole runs' ratio, and the full default run's figure includes it;
the median of three pairs of runs made back to back);
the cost per case flat within ±10 % from the 100th case to the 10,000th of a
`--matrix-strength 3` run (the median CPU gap of every 250 cases from the 100th, each printed;
a run's reading compares the cheapest such block of its last third with the cheapest of its
first: this VM runs for seconds, sometimes tens of seconds, at a time up to 1.8x slower, which
only adds time, so the least a block took is its cost on the machine at its usual speed, as
timeit's docs take the minimum of repeats; growth with the run's length raises every block,
the cheapest too; the figure is the mean of two such runs' readings, as one moves by about
5 % with the phases); the full default run (`pkconf run`, every ceremony, reports included)
<= 45 s on this machine's cores. Wall figures are printed beside the CPU ones. `--quick` runs
a quarter of the ctap cases, two 2,000-case long runs and leaves the full run out.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import Figure, emit, figure

from conformance.options import UNUSED_PLUGINS

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
CASE_MS, SPEEDUP, FLAT_PERCENT, FULL_RUN_S = 5.0, 1.8, 10.0, 45.0
STRENGTH_3_CTAP = 48_626  # ctap cases of `--matrix-strength 3`: the long run takes a shard
# The cost at a position is the median gap over WINDOW cases there, in blocks from the FIRSTth
# case on, and a run's reading compares the cheapest block of its last third with the cheapest
# of its first: the VM runs for seconds, sometimes tens of seconds, at a time slower (its other
# hyperthread busy), so a first block against the last read -10 % once on flat code, and a
# Theil-Sen trend through every block -17 % on the same run, as a slow phase covered a third.
# One run's reading still moves by about 5 % with the phases (500-case blocks on six runs of the
# same code: -5.5, -10.8, +1.7, +1.0, -5.0, +0.5), so the figure is the mean of LONG_RUNS
# runs' readings (of those six, the 15 pairs' means with 250-case blocks stay within 5.1 %).
FIRST, WINDOW, LONG_RUNS = 100, 250, 2
# One-worker and two-worker runs alternate, PAIRS times: each ratio compares runs made a few
# seconds apart, and the median of the ratios leaves out a pair that the drift split.
PAIRS = 3


class Run:
    """One pytest run of ctap matrix cases, with its wall time, results and finish stamps."""

    def __init__(self, workers: int, selection: list[str]):
        with tempfile.TemporaryDirectory() as tmp:
            stamps = Path(tmp) / "stamps"
            stamps.mkdir()
            cmd = [sys.executable, "-m", "pytest",
                   str(ROOT / "conformance" / "test_matrix_cases.py"), "-q",
                   *UNUSED_PLUGINS, "-p", "no:cacheprovider", "-p", "timing_plugin",
                   "--rootdir", str(ROOT),
                   "--results-dir", tmp, "--alluredir", str(Path(tmp) / "allure"),
                   "--ceremony", "ctap", "-n", str(workers), *selection]
            env = {**os.environ, "PKCONF_BENCH_STAMPS": str(stamps),
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE),
                                                               os.environ.get("PYTHONPATH")]))}
            start = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, env=env, check=False, capture_output=True,
                                  text=True)
            self.wall_s = time.perf_counter() - start
            results = Path(tmp) / "results.jsonl"
            lines = ([json.loads(x) for x in results.read_text().splitlines()]
                     if results.exists() else [])
            # under xdist the controller logs every finish too: only the workers' stamps count
            self.per_worker = [json.loads(p.read_text()) for p in sorted(stamps.glob("gw*.json"))]
        self.in_test = {x["id"]: x["duration_ms"] for x in lines
                        if x["status"] in ("passed", "failed")}
        if done.returncode not in (0, 1) or not self.in_test:
            sys.exit(f"the run broke (pytest exit {done.returncode}):\n{done.stdout[-3000:]}")
        self.cases = len(lines)

    def busy_rate(self) -> float:
        """Cases per second while every worker runs cases: finishes between the last worker's
        first and the first worker's last, over that span (start-up and the tail left out)."""
        walls = [[stamp[0] for stamp in stamps] for stamps in self.per_worker]
        start, end = max(w[0] for w in walls), min(w[-1] for w in walls)
        return sum(start < t <= end for w in walls for t in w) / (end - start)

    def gaps_ms(self, clock: int, worker: int = 0) -> list[float]:
        """Milliseconds between consecutive tests' ends in one worker: clock 0 wall, 1 CPU."""
        stamps = self.per_worker[worker]
        return [(b[clock] - a[clock]) * 1000 for a, b in itertools.pairwise(stamps)]


def _shard_of(cases: int) -> str:
    """A shard of the strength-3 ctap cases with about `cases` cases."""
    return f"1/{max(1, STRENGTH_3_CTAP // cases)}"


def _full_run() -> float:
    """Wall seconds of `pkconf run` as a nightly runs it, into a temporary reports folder."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pkconf", "run", "--reports", tmp],
                              cwd=ROOT, check=False, capture_output=True, text=True)
        wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"pkconf run broke (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a quarter of the ctap cases, 2,000-case long runs, no full run")
    parser.add_argument("--json", action="store_true", help="end with the figures as JSON")
    opts = parser.parse_args()
    quick = ["--shard", "1/4"] if opts.quick else []
    long_cases = 2_000 if opts.quick else 10_000

    ones, ratios = [], []
    for pair in range(1, PAIRS + 1):  # one worker, then two, back to back: the same machine
        one = Run(1, ["--matrix-strength", "2", *quick])
        two = Run(2, ["--matrix-strength", "2", *quick])
        ones.append(one)
        ratios.append(two.busy_rate() / one.busy_rate())
        wall, cpu = (statistics.median(one.gaps_ms(clock)) for clock in (0, 1))
        in_test = statistics.median(one.in_test.values())
        print(f"ctap, strength 2, pair {pair}: {one.cases} cases; 1 worker {one.wall_s:.1f} s, "
              f"2 workers {two.wall_s:.1f} s (whole runs: {one.wall_s / two.wall_s:.2f}x, "
              f"start-up and tail included); in-test median {in_test:.2f}"
              f" ms; finish to finish {wall:.2f} ms wall, {cpu:.2f} ms CPU; "
              f"{one.busy_rate():.0f} and {two.busy_rate():.0f} cases/s while every worker runs"
              f" ({ratios[-1]:.2f}x)")
    fastest = [min(one.in_test.get(case, math.inf) for one in ones) for case in ones[0].in_test]
    print(f"ctap in-test over the {PAIRS} one-worker runs: median of every case's fastest "
          f"{statistics.median(fastest):.2f} ms; median of every run's every case "
          f"{statistics.median(ms for one in ones for ms in one.in_test.values()):.2f} ms")
    figures: list[Figure] = [
        figure(f"ctap case in-test, median of each case's fastest of {PAIRS} (1 worker, Allure)",
               CASE_MS, statistics.median(fastest), "ms", "lower"),
        figure(f"two xdist workers vs one (cases/s while every worker runs, median of {PAIRS} "
               "pairs)", SPEEDUP, statistics.median(ratios), "x", "higher"),
    ]

    readings = []
    for _ in range(LONG_RUNS):
        long = Run(1, ["--matrix-strength", "3", "--shard", _shard_of(long_cases)])
        gaps = long.gaps_ms(1)
        blocks = [statistics.median(gaps[start:start + WINDOW])
                  for start in range(FIRST, len(gaps) - WINDOW + 1, WINDOW)]
        third = max(1, len(blocks) // 3)
        first, last = min(blocks[:third]), min(blocks[-third:])
        readings.append((last / first - 1) * 100)
        print(f"strength 3, {long.cases} cases in {long.wall_s:.1f} s: ms CPU per case, median "
              f"of each {WINDOW} from case {FIRST}: {' '.join(f'{ms:.2f}' for ms in blocks)}; "
              f"cheapest of the first {third} {first:.2f} ms, of the last {third} {last:.2f} ms"
              f" ({readings[-1]:+.1f} %)")
    figures.append(figure(f"cost per case, case {FIRST} -> {long.cases} (strength 3, CPU, "
                          f"cheapest block at each end, mean of {LONG_RUNS} runs)",
                          FLAT_PERCENT, statistics.mean(readings), "%", "flat"))

    if not opts.quick:
        cores = os.cpu_count() or 1
        figures.append(figure(f"full default run, pkconf run on {cores} cores", FULL_RUN_S,
                              _full_run(), "s", "lower"))
    emit(figures, opts.json)


if __name__ == "__main__":
    main()
