"""One real emulator per test module, on a loopback socket; every test starts from a reset."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pkconf.emulator.server import EmulatorServer

from .helpers import Tenant


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture(scope="module")
def client(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=10) as client:
        yield client


@pytest.fixture
def tenant(client: httpx.Client) -> Tenant:
    assert client.post("/_emulator/reset").status_code == 204
    return Tenant(client)
