"""One emulator over TLS per test module, reset before every test, and a verifying client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pkconf.emulator.server import EmulatorServer
from pkconf.emulator.tls import TestTls


@pytest.fixture(scope="module")
def tls() -> TestTls:
    return TestTls()


@pytest.fixture(scope="module")
def emulator(tls: TestTls) -> Iterator[EmulatorServer]:
    with EmulatorServer(tls=tls) as server:
        yield server


@pytest.fixture(scope="module")
def module_client(emulator: EmulatorServer, tls: TestTls) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, verify=tls.client_context(),
                      timeout=10) as client:
        yield client


@pytest.fixture
def client(module_client: httpx.Client) -> httpx.Client:
    """The module's client on a fresh tenant, with no cookies left by the previous test."""
    assert module_client.post("/_emulator/reset").status_code == 204
    module_client.cookies.clear()
    return module_client
