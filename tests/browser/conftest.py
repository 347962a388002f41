"""One emulator over the test TLS and one Chromium per worker; cases reuse its pages as they fit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pkconf.ceremonies.browser import BrowserSession
from pkconf.ceremonies.chromium import INSTALL_HINT, chromium_executable
from pkconf.ceremonies.ctap import Setup
from pkconf.ceremonies.tenant import TenantApi
from pkconf.emulator.server import EmulatorServer
from pkconf.emulator.store import default_policy
from pkconf.emulator.tls import TestTls


@pytest.fixture(scope="session")
def tls() -> TestTls:
    return TestTls()


@pytest.fixture(scope="session")
def emulator(tls: TestTls) -> Iterator[EmulatorServer]:
    with EmulatorServer(tls=tls) as server:
        yield server


@pytest.fixture(scope="session")
def api(emulator: EmulatorServer, tls: TestTls) -> Iterator[TenantApi]:
    with TenantApi(emulator.base_url, verify=tls.client_context()) as api:
        yield api


@pytest.fixture(scope="session")
def session(emulator: EmulatorServer) -> Iterator[BrowserSession]:
    if chromium_executable() is None:
        pytest.skip(f"no Chromium for Playwright: {INSTALL_HINT}")
    with BrowserSession.for_server(emulator) as session:
        yield session


@pytest.fixture
def setup() -> Setup:
    """A member signed in with MFA a minute ago, under a fresh tenant's permissive policy."""
    return Setup(policy=default_policy())
