"""Fixtures the graph target's tests share: the emulator over its test TLS, as a Graph client
meets a tenant (msal needs HTTPS), and its CA as a file for msal's and httpx's trust."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pkconf.emulator.server import EmulatorServer
from pkconf.emulator.tls import TestTls


@pytest.fixture(scope="module")
def tls_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(tls=TestTls()) as server:
        yield server


@pytest.fixture(scope="module")
def tls_ca_file(tls_emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tls_emulator.write_ca(tmp_path_factory.mktemp("ca") / "ca.pem")
