"""A pytest plugin for the benchmarks: when each test finished, per worker.

`-p timing_plugin` (with benchmarks/ on PYTHONPATH) and PKCONF_BENCH_STAMPS=DIR write one JSON
list of [wall, CPU] stamps (`time.perf_counter()`, `time.process_time()`) per process to DIR:
`gw0.json`... for xdist's workers, `main.json` for the controller (which logs every finish
again as its worker reports it). The gaps between consecutive stamps are the whole
cost of a case in that worker: setup, the case, Allure, the plugin's hooks and reports, and
(in CPU time) the worker's embedded emulator serving it, whatever else runs on the machine.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

_stamps: list[tuple[float, float]] = []


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    _stamps.append((time.perf_counter(), time.process_time()))


def pytest_sessionfinish(session: pytest.Session) -> None:
    folder = os.environ.get("PKCONF_BENCH_STAMPS")
    if folder and _stamps:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        (Path(folder) / f"{worker}.json").write_text(json.dumps(_stamps))
