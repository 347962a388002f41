"""The emulator decides by a dated rule book: `/_emulator/ruleBook` and the scenario's
`ruleBook` set the day and cloud, a null day follows the emulator clock, a reset restores the
server's own setting.

Windows Hello before its GA (2026-06-15 worldwide, 2026-07-31 in the government clouds) needs
allow-listing, which the emulator's default policy does not do: the rule book's day decides.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from pkconf.emulator.server import EmulatorServer
from pkconf.tenant.rules import Cloud
from tests.tenant.builders import make_response

from .helpers import Tenant, error_of, reason_of

WINDOWS_HELLO = {"aaguid": "08987058-cadc-4b81-b6e1-30de50dcbe96", "attachment": "platform",
                 "transports": ("internal",), "credential_id": b"\x02" * 16}
BEFORE_GA, AFTER_GA = "2026-03-20", "2026-11-29"
UNSET = {"asOf": None, "cloud": "worldwide"}


def _scenario(tenant: Tenant, **body: Any) -> httpx.Response:
    return tenant.client.post("/_emulator/scenarios",
                              json={"user": {"mfaAgeSeconds": 60}, **body})


def _register_windows_hello(tenant: Tenant, scenario: httpx.Response) -> httpx.Response:
    assert scenario.status_code == 201, scenario.text
    token = scenario.json()["token"]
    return tenant.register(None, make_response(challenge=tenant.challenge(token=token),
                                               **WINDOWS_HELLO), token=token)


def _outcome(r: httpx.Response) -> str:
    return "ACCEPTED" if r.status_code == 201 else reason_of(r)


def test_the_rule_book_starts_unset_and_a_put_replaces_it(tenant: Tenant) -> None:
    assert tenant.client.get("/_emulator/ruleBook").json() == UNSET
    r = tenant.client.put("/_emulator/ruleBook", json={"asOf": BEFORE_GA, "cloud": "gcc"})
    assert r.status_code == 200 and r.json() == {"asOf": BEFORE_GA, "cloud": "gcc"}
    assert tenant.client.put("/_emulator/ruleBook", json={}).json() == UNSET


def test_reset_restores_the_rule_book(tenant: Tenant) -> None:
    tenant.client.put("/_emulator/ruleBook", json={"asOf": BEFORE_GA, "cloud": "dod"})
    assert tenant.client.post("/_emulator/reset").status_code == 204
    assert tenant.client.get("/_emulator/ruleBook").json() == UNSET


@pytest.mark.parametrize(("body", "message"), [
    ({"asOf": "2026-13-01"}, "asOf must be a date YYYY-MM-DD or null, not '2026-13-01'"),
    ({"asOf": "20260320"}, "asOf must be a date YYYY-MM-DD"),  # compact ISO: not our form
    ({"asOf": "2026-W12-5"}, "asOf must be a date YYYY-MM-DD"),
    ({"asOf": 20260320}, "asOf must be a date YYYY-MM-DD"),
    ({"cloud": "moon"}, "cloud must be one of worldwide, gcc, gcchigh, dod"),
    ({"cloud": ["gcc"]}, "cloud must be one of"),
    ({"day": BEFORE_GA}, "day is unknown (known: asOf, cloud)"),
])
def test_a_bad_rule_book_is_a_400_that_changes_nothing(tenant: Tenant, body: dict,
                                                       message: str) -> None:
    r = tenant.client.put("/_emulator/ruleBook", json=body)
    assert r.status_code == 400 and message in error_of(r)["message"], r.text
    assert tenant.client.get("/_emulator/ruleBook").json() == UNSET


@pytest.mark.parametrize(("book", "outcome"), [
    ({"asOf": BEFORE_GA}, "WINDOWS_HELLO_NOT_ALLOWED"),
    ({"asOf": AFTER_GA}, "ACCEPTED"),
    ({"asOf": "2026-06-20", "cloud": "gcc"}, "WINDOWS_HELLO_NOT_ALLOWED"),  # GA reaches gcc later
    ({"asOf": "2026-08-01", "cloud": "gcchigh"}, "ACCEPTED"),
])
def test_the_scenarios_rule_book_decides_the_case(tenant: Tenant, book: dict,
                                                  outcome: str) -> None:
    r = _register_windows_hello(tenant, _scenario(tenant, ruleBook=book))
    assert _outcome(r) == outcome, r.text
    assert tenant.client.get("/_emulator/ruleBook").json() == {"cloud": "worldwide", **book}


@pytest.mark.parametrize(("clock", "outcome"), [
    (f"{BEFORE_GA}T12:00:00Z", "WINDOWS_HELLO_NOT_ALLOWED"),
    (f"{AFTER_GA}T12:00:00Z", "ACCEPTED"),
])
def test_an_unset_day_follows_the_emulator_clock(tenant: Tenant, clock: str,
                                                 outcome: str) -> None:
    assert tenant.client.put("/_emulator/clock", json={"now": clock}).status_code == 200
    assert _outcome(_register_windows_hello(tenant, _scenario(tenant))) == outcome


def test_the_decision_names_its_day_cloud_and_rule_version(tenant: Tenant) -> None:
    r = _register_windows_hello(tenant, _scenario(tenant, ruleBook={"asOf": BEFORE_GA}))
    decision = error_of(r)["innerError"]["pkconfDecision"]
    assert (decision["asOf"], decision["cloud"]) == (BEFORE_GA, "worldwide")
    assert decision["source"]["version"] == "original"
    assert decision["source"]["until"] == "2026-06-15"


def test_a_scenario_without_a_rule_book_leaves_the_setting(tenant: Tenant) -> None:
    tenant.client.put("/_emulator/ruleBook", json={"asOf": BEFORE_GA})
    assert _scenario(tenant).status_code == 201
    assert tenant.client.get("/_emulator/ruleBook").json()["asOf"] == BEFORE_GA


def test_the_servers_setting_is_where_it_starts_and_what_a_reset_restores(
        tmp_path: Path) -> None:
    db = str(tmp_path / "state.sqlite3")
    pinned = {"asOf": BEFORE_GA, "cloud": "gcchigh"}
    with (EmulatorServer(db, as_of=date(2026, 3, 20), cloud=Cloud.GCC_HIGH) as server,
          httpx.Client(base_url=server.base_url) as client):
        assert client.get("/_emulator/ruleBook").json() == pinned
        client.put("/_emulator/ruleBook", json={})
        client.post("/_emulator/reset")
        assert client.get("/_emulator/ruleBook").json() == pinned
    with EmulatorServer(db) as server, httpx.Client(base_url=server.base_url) as client:
        # a restart is a reconfiguration: the new server's setting, not the file's
        assert client.get("/_emulator/ruleBook").json() == UNSET


def test_pkconf_serve_starts_with_the_day_and_cloud_it_is_given() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "pkconf", "serve", "--port", "0",
                             "--as-of", BEFORE_GA, "--cloud", "gcc"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        assert proc.stdout.readline().strip() == (
            f"Rule book: as of {BEFORE_GA}, gcc (/_emulator/ruleBook changes it)")
        assert httpx.get(f"{url}/_emulator/ruleBook").json() == {"asOf": BEFORE_GA,
                                                                 "cloud": "gcc"}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
