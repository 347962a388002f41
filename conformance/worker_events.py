"""An xdist worker's events for one test, written to the controller in one piece.

pytest-xdist's worker sends six events per test (logstart, the three phases' reports, logfinish,
protocol complete), each its own write on the worker's pipe. Every write wakes the controller
twice: execnet's receiver thread, to read it, and the main loop, to take it from the queue. On
2 cores that cost the controller 1.3 ms of CPU per case, against about 7.7 ms a case costs a
worker: it alone held two workers near 1.7x one. A test's events held until its last one and
written together reach the controller unchanged and in order, and wake it once per test
(0.85-1.0 ms per case; 0.6-0.8 with a passing report's keywords left out, below).

The controller reads a test's progress a test late: at most a teardown. If a worker dies
mid-test, the events held for that test go with it; xdist names the crashed test from its
own schedule, as it does for a crash before any event was sent.

This reaches into xdist's worker (its `WorkerInteractor` plugin's `sendevent` and `channel`)
and execnet's framing (`Message`, `dumps_internal`, the gateway's `_io`). Where either is not
shaped so, `hold_test_events` leaves the worker as it is and returns False; a test holds it to
the installed versions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from execnet.gateway_base import Message, dumps_internal


def without_keywords(data: dict[str, Any]) -> dict[str, Any]:
    """A passing report as the worker sends it, less its keywords: nothing on the controller
    reads them (`-k` and markers select in the worker, at collection), and a case's eight long
    names were a third of the time the controller took to read the report."""
    if data.get("$report_type") == "TestReport" and data.get("outcome") == "passed":
        data["keywords"] = {}
    return data


# Sent while a test runs; anything else (runtest_protocol_complete at a test's end, and every
# event outside tests) writes what is held, then itself.
IN_TEST = frozenset({"logstart", "testreport", "logfinish", "warning_recorded"})


class _Frames:
    """Where execnet's `Message.to_io` writes a message's frame: kept for one write."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.frames.append(data)


class HeldEvents:
    """A worker's `sendevent`: frames a test's events as execnet would, writes them at its end.

    The lock is for xdist's steal command, which answers from execnet's receiver thread."""

    def __init__(self, channel: Any, log: Callable[..., object]) -> None:
        self._channel = channel
        self._log = log
        self._held = _Frames()
        self._lock = threading.Lock()

    def __call__(self, name: str, **kwargs: object) -> None:
        self._log("sending", name, kwargs)
        if self._channel.isclosed():
            raise OSError(f"cannot send to {self._channel!r}")
        message = Message(Message.CHANNEL_DATA, self._channel.id, dumps_internal((name, kwargs)))
        with self._lock:
            message.to_io(self._held)
            if name in IN_TEST:
                return
            frames, self._held.frames = self._held.frames, []
            try:
                self._channel.gateway._io.write(b"".join(frames))
            except ValueError as e:  # a closed pipe, as execnet's own send reports it
                raise OSError("cannot send (already closed?)") from e


def hold_test_events(config: pytest.Config) -> bool:
    """On an xdist worker, send each test's events in one write; whether it now does."""
    interactor = next((p for p in config.pluginmanager.get_plugins()
                       if type(p).__name__ == "WorkerInteractor"), None)
    channel = getattr(interactor, "channel", None)
    gateway = getattr(channel, "gateway", None)
    if (interactor is None or not callable(getattr(interactor, "sendevent", None))
            or not callable(getattr(interactor, "log", None))
            or not callable(getattr(getattr(gateway, "_io", None), "write", None))
            or not isinstance(getattr(channel, "id", None), int)):
        return False
    interactor.sendevent = HeldEvents(channel, interactor.log)
    return True
