"""`pkconf serve --tls` / `--insecure-localhost`: what it prints is what a browser needs."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx
import pytest

from pkconf.cli import main
from pkconf.emulator.tls import TestTls


def _first_lines(*flags: str, count: int) -> list[str]:
    """The first lines `pkconf serve` prints, checked against the running server, then stop."""
    proc = subprocess.Popen([sys.executable, "-m", "pkconf", "serve", "--port", "0", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().rstrip("\n") for _ in range(count)]
        url = lines[0].split()[-1]
        verify = TestTls().client_context() if url.startswith("https:") else True
        assert httpx.get(f"{url}/.well-known/webauthn", verify=verify).status_code == 200
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return lines


def test_serve_tls_prints_the_host_rules_and_the_spki_pin() -> None:
    first, page, rules, pin = _first_lines("--tls", count=4)
    assert first.startswith("pkconf emulator on https://127.0.0.1:")
    port = first.rsplit(":", 1)[1]
    assert page == ("Security info: https://mysignins.microsoft.com/security-info, with "
                    "Chromium flags:")
    assert rules == (f"  --host-rules=MAP login.microsoft.com 127.0.0.1:{port}, "
                     f"MAP mysignins.microsoft.com 127.0.0.1:{port}")
    assert pin == ("  --ignore-certificate-errors-spki-list="
                   "5NLMIgsbs3v/Pii9xTd3FMVynwWoMFwa2KX9pXGuczA=")


def test_serve_insecure_localhost_prints_the_localhost_page() -> None:
    first, page = _first_lines("--insecure-localhost", count=2)
    port = first.rsplit(":", 1)[1]
    assert page == f"Security info: http://localhost:{port}/security-info"


def test_tls_and_insecure_localhost_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--tls", "--insecure-localhost"])
    assert exit_.value.code == 2
    assert "not allowed with argument --tls" in capsys.readouterr().err
