"""`pkconf bench` compares each benchmark's figures with their targets in one table, and a
benchmark that breaks is one line and exit 2."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from pkconf.cli import main
from pkconf.commands import bench


def _row(better: str, target: float, measured: float) -> dict[str, Any]:
    return {"figure": "f", "target": target, "measured": measured, "unit": "ms",
            "better": better}


@pytest.mark.parametrize(("better", "target", "measured", "passes", "ratio"), [
    ("lower", 5.0, 4.0, True, 0.8),
    ("lower", 5.0, 10.0, False, 2.0),
    ("higher", 1.8, 1.9, True, 1.8 / 1.9),
    ("higher", 1.8, 0.9, False, 2.0),
    ("flat", 10.0, -8.0, True, 0.8),
    ("flat", 10.0, 15.0, False, 1.5),
])
def test_a_figure_passes_within_its_target_and_its_ratio_is_at_most_one_then(
        better: str, target: float, measured: float, passes: bool, ratio: float) -> None:
    row = _row(better, target, measured)
    assert bench.passes(row) is passes
    assert bench.ratio(row) == pytest.approx(ratio)


def _benchmarks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                scripts: dict[str, str]) -> None:
    """A benchmarks folder of scripts with the given bodies, as `pkconf bench` runs them."""
    for name, body in scripts.items():
        (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.setattr(bench, "BENCHMARKS", tmp_path)
    monkeypatch.setattr(bench, "SCRIPTS", {name: f"{name}.py" for name in scripts})


def _printing(*rows: dict[str, Any]) -> str:
    """A script that, asked for --json, prints a line for a reader, then its figures."""
    figures = json.dumps(json.dumps(list(rows)))
    return f"import sys\nassert '--json' in sys.argv\nprint('human')\nprint({figures})\n"


def test_the_table_has_every_scripts_figures_and_exit_1_when_one_misses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _benchmarks(tmp_path, monkeypatch, {
        "fast": _printing({**_row("lower", 5.0, 4.0), "figure": "a case"}),
        "slow": _printing({**_row("higher", 1.8, 1.2), "figure": "two workers"}),
    })
    assert bench.run(argparse.Namespace(quick=True, only=None, details=False)) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["figure", "target", "measured", "ratio", "result"]
    assert lines[1].split()[-1] == "pass" and lines[1].startswith("a case")
    assert lines[2].split()[-1] == "FAIL" and lines[2].startswith("two workers")


def test_only_runs_the_named_benchmarks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    _benchmarks(tmp_path, monkeypatch, {
        "fast": _printing({**_row("lower", 5.0, 4.0), "figure": "a case"}),
        "broken": "raise SystemExit(3)\n",
    })
    assert bench.run(argparse.Namespace(quick=False, only=["fast"], details=False)) == 0
    assert "a case" in capsys.readouterr().out


def test_details_print_each_scripts_own_lines_before_the_table(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _benchmarks(tmp_path, monkeypatch, {
        "fast": _printing({**_row("lower", 5.0, 4.0), "figure": "a case"})})
    assert bench.run(argparse.Namespace(quick=True, only=None, details=True)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == ["fast.py:", "human", ""]
    assert lines[3].split() == ["figure", "target", "measured", "ratio", "result"]
    assert lines[4].startswith("a case") and len(lines) == 5


@pytest.mark.parametrize(("body", "message"), [
    ("raise SystemExit('no Chromium here')\n", "broken.py failed (exit 1): no Chromium here"),
    ("print('done')\n", "broken.py printed no figures: its last line is 'done'"),
])
def test_a_broken_benchmark_is_one_line_and_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], body: str, message: str) -> None:
    _benchmarks(tmp_path, monkeypatch, {"broken": body})
    assert main(["bench"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"pkconf bench: {message}"

