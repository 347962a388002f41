"""`pkconf serve` as the graph target's tenant: an application from the command line (its
secret from the environment only), msal against it over the test TLS (its CA from --write-ca),
bad flags exit 2."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import msal
import pytest
import requests

from pkconf.cli import main
from pkconf.emulator.oauth import GRAPH_SCOPE
from pkconf.emulator.tls import TestTls

CLIENT_ID = "pkconf-nightly"
TENANT = "0b6f4c1e-2f8a-4d3b-9e7c-5a1d2c3b4e5f"
SECRET = "from-the-environment-only"  # a test secret


def _serve(*args: str, secret: str | None = SECRET) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "PKCONF_CLIENT_SECRET"}
    if secret is not None:
        env["PKCONF_CLIENT_SECRET"] = secret
    return subprocess.Popen([sys.executable, "-m", "pkconf", "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_served_app_gets_a_token_through_msal_and_graph_needs_it(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    proc = _serve("--tls", "--app", CLIENT_ID, "--tenant-id", TENANT, "--faithful",
                  "--write-ca", str(ca_file))
    try:
        assert proc.stdout is not None
        ready = [proc.stdout.readline()]
        while not ready[-1].startswith("Rule book"):
            ready.append(proc.stdout.readline())
        url = ready[0].split()[-1]
        assert ca_file.read_bytes() == TestTls().ca.pem
        session = requests.Session()
        session.verify, session.trust_env = str(ca_file), False
        result = msal.ConfidentialClientApplication(
            CLIENT_ID, client_credential=SECRET, authority=f"{url}/{TENANT}",
            instance_discovery=False, validate_authority=False,
            http_client=session).acquire_token_for_client([GRAPH_SCOPE])
        session.close()  # an open keep-alive connection would hold up the server's shutdown
        assert "access_token" in result, result
        with httpx.Client(base_url=url, verify=ssl.create_default_context(cafile=ca_file)) as c:
            assert c.get("/v1.0/domains").status_code == 401
            headers = {"Authorization": f"Bearer {result['access_token']}"}
            assert c.get("/v1.0/domains", headers=headers).status_code == 200
            assert c.get("/_emulator/options").json()["annotations"] is False
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    printed = "".join(ready) + out + err
    assert f"authority {url}/{TENANT}, application {CLIENT_ID}" in printed
    assert SECRET not in printed
    assert result["access_token"] not in printed


@pytest.mark.parametrize(("args", "secret", "message"), [
    (("--app", CLIENT_ID), None, "needs a secret in $PKCONF_CLIENT_SECRET"),
    (("--app-certificate", "x.pem"), SECRET, "--app-certificate needs --app"),
    (("--app", CLIENT_ID, "--app-certificate", "/no/such.pem"), None, "cannot read"),
    (("--tenant-id", "contoso"), SECRET, "--tenant-id 'contoso' is not a GUID"),
    (("--write-ca", "ca.pem"), None, "--write-ca goes with --tls"),
])
def test_unusable_app_flags_are_one_line_and_exit_2(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        args: tuple[str, ...], secret: str | None, message: str) -> None:
    monkeypatch.delenv("PKCONF_CLIENT_SECRET", raising=False)
    if secret is not None:
        monkeypatch.setenv("PKCONF_CLIENT_SECRET", secret)
    assert main(["serve", "--port", "0", *args]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err
