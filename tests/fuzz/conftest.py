"""Prints the fuzzing tally at the end of a run that ran fuzz targets in this process."""

from __future__ import annotations

import pytest

from . import harness


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = harness.report()
    if lines:
        profile = "long" if harness.LONG else "short"
        terminalreporter.section(f"fuzzing ({profile} profile)")
        for line in lines:
            terminalreporter.write_line(line)
