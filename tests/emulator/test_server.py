"""Running the emulator: loopback only, state across restarts, the clock and reset controls."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from pkconf.cli import main
from pkconf.emulator.app import create_app
from pkconf.emulator.server import EmulatorServer, NonLoopbackBind
from pkconf.emulator.store import Store

from .helpers import FIDO2_POLICY, Tenant


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.com"])
def test_non_loopback_bind_is_refused_without_explicit_opt_in(host: str) -> None:
    with pytest.raises(NonLoopbackBind, match="allow_non_loopback"):
        EmulatorServer(host=host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_addresses_are_accepted(host: str) -> None:
    assert EmulatorServer(host=host).host == host


def test_non_loopback_bind_is_accepted_with_the_opt_in() -> None:
    assert EmulatorServer(host="0.0.0.0", allow_non_loopback=True).host == "0.0.0.0"


def test_serve_refuses_non_loopback_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pkconf serve: refusing to bind")
    assert err.count("\n") == 1


def test_serve_refuses_an_impossible_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "70000"]) == 2
    assert "not a TCP port" in capsys.readouterr().err


def test_state_survives_a_restart_with_a_file_database(tmp_path: Path) -> None:
    db = str(tmp_path / "tenant.sqlite3")
    with EmulatorServer(db=db) as first, httpx.Client(base_url=first.base_url) as client:
        tenant = Tenant(client)
        user_id = tenant.user("persist@contoso.test")
        assert tenant.provision(user_id, credential_id=b"\x11" * 16).status_code == 201
        assert tenant.patch_policy(state="disabled").status_code == 204
        client.put("/_emulator/clock", json={"now": "2027-01-02T03:04:05Z"})
    with EmulatorServer(db=db) as second, httpx.Client(base_url=second.base_url) as client:
        assert client.get(f"/v1.0/users/{user_id}").json()["userPrincipalName"] == (
            "persist@contoso.test")
        methods = client.get(f"/v1.0/users/{user_id}/authentication/fido2Methods").json()
        assert [m["id"] for m in methods["value"]] == ["EREREREREREREREREREREQ"]
        assert client.get(FIDO2_POLICY).json()["state"] == "disabled"
        assert client.get("/_emulator/clock").json()["now"] == "2027-01-02T03:04:05Z"
        assert len(second.store.policy_versions()) == 2


def test_stopped_server_no_longer_answers() -> None:
    server = EmulatorServer()
    url = server.start()
    assert httpx.get(f"{url}/_emulator/health").json()["status"] == "ok"
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_emulator/health")


def test_clock_is_set_and_advanced(tenant: Tenant) -> None:
    r = tenant.client.put("/_emulator/clock", json={"now": "2026-06-01T08:00:00+02:00"})
    assert r.json() == {"now": "2026-06-01T06:00:00Z"}
    r = tenant.client.post("/_emulator/clock/advance", json={"seconds": 90.5})
    assert r.json() == {"now": "2026-06-01T06:01:30.500000Z"}
    assert tenant.client.get("/_emulator/clock").json() == {"now": "2026-06-01T06:01:30.500000Z"}


def test_clock_stands_still_between_requests(tenant: Tenant) -> None:
    first = tenant.client.get("/_emulator/clock").json()["now"]
    tenant.user()
    assert tenant.client.get("/_emulator/clock").json()["now"] == first


def test_reset_wipes_users_and_restores_the_default_policy(tenant: Tenant) -> None:
    user_id = tenant.user()
    tenant.patch_policy(state="disabled")
    assert tenant.client.post("/_emulator/reset").status_code == 204
    assert tenant.client.get(f"/v1.0/users/{user_id}").status_code == 404
    assert tenant.client.get(FIDO2_POLICY).json()["state"] == "enabled"


def test_emulator_controls_are_not_under_graph_paths(tenant: Tenant) -> None:
    assert tenant.client.get("/v1.0/_emulator/health").status_code == 404
    assert tenant.client.get("/_emulator/health").status_code == 200


def test_pkconf_serve_announces_its_url_and_stops_on_interrupt(tmp_path: Path) -> None:
    db = str(tmp_path / "served.sqlite3")
    proc = subprocess.Popen([sys.executable, "-m", "pkconf", "serve", "--port", "0", "--db", db],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("pkconf emulator on http://127.0.0.1:")
        assert httpx.get(f"{line.split()[-1]}/_emulator/health").json()["status"] == "ok"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (proc.returncode, err) == (130, "pkconf serve: interrupted\n")


def test_internal_failure_still_answers_with_a_graph_error_and_no_traceback() -> None:
    store = Store()
    transport = httpx.ASGITransport(create_app(store), raise_app_exceptions=False)
    store.close()  # every query now fails inside the handler

    async def health() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            return await client.get("/_emulator/health")

    # In a thread of its own: a Playwright sync session elsewhere in this worker may be running
    # an event loop on the main thread, where asyncio.run() refuses to start another.
    with ThreadPoolExecutor(1) as pool:
        r = pool.submit(asyncio.run, health()).result()
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "generalException"
    assert "Traceback" not in r.text
