"""An xdist worker writes each test's events to the controller in one piece, unchanged and in
order; a passing report travels without the keywords no one on the controller reads."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from execnet.gateway_base import Message, loads_internal

from conformance.worker_events import HeldEvents, hold_test_events, without_keywords

A_TEST: list[tuple[str, dict[str, Any]]] = [
    ("logstart", {"nodeid": "t.py::a", "location": ("t.py", 1, "a")}),
    *(("testreport", {"data": {"when": when, "outcome": "passed"}})
      for when in ("setup", "call", "teardown")),
    ("warning_recorded", {"when": "runtest", "nodeid": "t.py::a"}),
    ("logfinish", {"nodeid": "t.py::a", "location": ("t.py", 1, "a")})]
END = ("runtest_protocol_complete", {"item_index": 0, "duration": 0.01})


class _Pipe:
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)


def _channel(closed: bool = False) -> SimpleNamespace:
    return SimpleNamespace(id=7, gateway=SimpleNamespace(_io=_Pipe()), isclosed=lambda: closed)


def _read(written: bytes) -> list[tuple[int, int, Any]]:
    """Each execnet message in `written`: its code, channel and item, as the controller reads."""
    stream, out = io.BytesIO(written), []
    while stream.tell() < len(written):
        message = Message.from_io(stream)  # type: ignore[arg-type]
        out.append((message.msgcode, message.channelid, loads_internal(message.data)))
    return out


def _send(events: list[tuple[str, dict[str, Any]]], send: HeldEvents) -> None:
    for name, kwargs in events:
        send(name, **kwargs)


def _held(channel: SimpleNamespace) -> HeldEvents:
    return HeldEvents(channel, log=lambda *_: None)


def test_a_tests_events_are_held_until_its_end_then_written_once_in_order() -> None:
    channel = _channel()
    send = _held(channel)
    _send(A_TEST, send)
    assert channel.gateway._io.writes == []
    _send([END], send)
    [written] = channel.gateway._io.writes
    assert _read(written) == [(Message.CHANNEL_DATA, 7, event) for event in [*A_TEST, END]]


@pytest.mark.parametrize("event", [("workerready", {"workerinfo": {"id": "gw0"}}),
                                   ("collectreport", {"data": {"outcome": "failed"}}),
                                   ("unscheduled", {"indices": [3, 4]}),
                                   ("workerfinished", {"workeroutput": {}})])
def test_an_event_outside_a_test_is_written_at_once(event: tuple[str, dict[str, Any]]) -> None:
    channel = _channel()
    _send([event], _held(channel))
    assert [_read(w) for w in channel.gateway._io.writes] == [[(Message.CHANNEL_DATA, 7, event)]]


def test_a_closed_channel_refuses_an_event_as_execnet_does() -> None:
    with pytest.raises(OSError, match="cannot send"):
        _send([END], _held(_channel(closed=True)))


class WorkerInteractor:  # named as xdist's worker plugin, shaped otherwise by each test
    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)


@pytest.mark.parametrize("parts", [
    {},
    {"channel": _channel(), "log": print},
    {"sendevent": print, "log": print, "channel": SimpleNamespace(id=7, gateway=None)},
], ids=["no-sendevent", "no-sendevent-with-channel", "no-pipe"])
def test_a_worker_not_shaped_as_known_is_left_as_it_is(parts: dict[str, Any]) -> None:
    interactor = WorkerInteractor(**parts)
    config = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugins=lambda: [interactor]))
    assert hold_test_events(config) is False  # type: ignore[arg-type]
    assert interactor.__dict__ == parts


@pytest.mark.parametrize(("report", "keeps"), [
    ({"$report_type": "TestReport", "outcome": "passed"}, False),
    ({"$report_type": "TestReport", "outcome": "failed"}, True),
    ({"$report_type": "TestReport", "outcome": "skipped"}, True),
    ({"$report_type": "CollectReport", "outcome": "passed"}, True),
])
def test_only_a_passing_test_report_travels_without_keywords(report: dict[str, Any],
                                                             keeps: bool) -> None:
    keywords = {"test_a[MX-00001]": 1, "matrix": 1}
    sent = without_keywords({**report, "keywords": dict(keywords)})
    assert sent == {**report, "keywords": keywords if keeps else {}}


def _xdist_run(folder: Path, source: str) -> subprocess.CompletedProcess[str]:
    """pytest -n 2 over `source`, with the plugin, in `folder`: the installed xdist and execnet."""
    (folder / "test_kinds.py").write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conformance.plugin", "-p", "no:cacheprovider",
         "-n", "2", "-rA", "test_kinds.py"],
        cwd=folder, capture_output=True, text=True, timeout=120, check=False)


def test_a_real_xdist_run_holds_its_workers_events_and_reports_every_outcome(
        tmp_path: Path) -> None:
    """Each worker's sendevent is held, and the controller still reports a pass, a failure
    with its assertion, a skip, and a warning."""
    run = _xdist_run(tmp_path, """
        import warnings
        import pytest

        def test_the_worker_holds_its_events(request):
            [interactor] = [p for p in request.config.pluginmanager.get_plugins()
                            if type(p).__name__ == "WorkerInteractor"]
            assert type(interactor.sendevent).__name__ == "HeldEvents"

        def test_fails():
            assert 1 + 1 == 3, "arithmetic"

        def test_skips():
            pytest.skip("not here")

        def test_warns():
            warnings.warn("heads up", UserWarning)
    """)
    tail = run.stdout.splitlines()[-1]
    assert run.returncode == 1, run.stdout[-2000:]
    assert "1 failed, 2 passed, 1 skipped, 1 warning" in tail, run.stdout[-2000:]
    assert "AssertionError: arithmetic" in run.stdout
    assert "PASSED test_kinds.py::test_the_worker_holds_its_events" in run.stdout


def test_a_worker_that_dies_mid_test_is_named_by_xdist_and_the_rest_still_run(
        tmp_path: Path) -> None:
    """The events held for the test a worker died in go with it; xdist names the test from
    its own schedule, and the cases after it run on a new worker."""
    run = _xdist_run(tmp_path, """
        import os

        def test_before(): pass
        def test_dies(): os._exit(3)
        def test_after(): pass
        def test_last(): pass
    """)
    assert run.returncode == 1, run.stdout[-2000:]
    assert "crashed while running 'test_kinds.py::test_dies'" in run.stdout
    assert "1 failed, 3 passed" in run.stdout.splitlines()[-1], run.stdout[-2000:]
