"""A client that hangs up mid-body costs one short log line, not a traceback (issue 14, fault 8:
each such request logged a whole "Exception in ASGI application", a log-flooding vector)."""

from __future__ import annotations

import logging
import socket
import time

import httpx
import pytest

from pkconf.emulator.server import EmulatorServer

CONNECTIONS = 20


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _hang_up_mid_body(port: int, path: str) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                     '{"displayName": "half a bo'.encode())


@pytest.mark.parametrize("path", ["/v1.0/users", "/_emulator/scenarios"])
def test_a_client_hanging_up_mid_body_is_one_short_log_line(emulator: EmulatorServer,
                                                            client: httpx.Client,
                                                            path: str) -> None:
    log = logging.getLogger("uvicorn.error")
    records, level = Records(), log.level
    log.setLevel(logging.INFO)  # the line is INFO, below the server's level: show it to count
    log.addHandler(records)
    try:
        for _ in range(CONNECTIONS):
            _hang_up_mid_body(emulator.port, path)
        deadline = time.monotonic() + 10
        while len(records.records) < CONNECTIONS and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        log.removeHandler(records)
        log.setLevel(level)
    assert [r.exc_info for r in records.records if r.exc_info] == []
    assert len(records.records) == CONNECTIONS
    assert all(len(r.getMessage()) < 120 and "\n" not in r.getMessage()
               for r in records.records), records.records[0].getMessage()
    assert client.get("/_emulator/health").status_code == 200
