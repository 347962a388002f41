"""The dated rule book on the command line: `--as-of`/`--cloud` decide (`decide`, `verify`),
and `pkconf rules` shows the book of a day and what changed between two days.

Windows Hello needs allow-listing until its GA: 2026-06-15 worldwide, 2026-07-31 in gcc. The
policy below allow-lists nothing, so the day and the cloud alone decide.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fido2.utils import websafe_encode

from pkconf.cli import main
from pkconf.paths import FIXTURES
from pkconf.tenant.rules import ORIGIN, RP_ID
from tests.tenant.builders import CHALLENGE, make_response

POLICY = str(FIXTURES / "policies" / "synced-or-device-bound.json")
WINDOWS_HELLO = "08987058-cadc-4b81-b6e1-30de50dcbe96"
NOT_ALLOWED = "REJECTED  authenticator_governance  WINDOWS_HELLO_NOT_ALLOWED"
MIGRATION, GA = "passkey-profiles-migration", "windows-hello-ga"


def _write(tmp_path: Path, name: str, content: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(content))
    return str(path)


def _decide(tmp_path: Path) -> list[str]:
    return ["decide", "--profile", "windows-hello-hardware", "--policy", POLICY,
            "--user", _write(tmp_path, "user.json", {"mfaAgeSeconds": 60})]


def _verify(tmp_path: Path) -> list[str]:
    response = make_response(aaguid=WINDOWS_HELLO, attachment="platform",
                             transports=("internal",))
    return ["verify", _write(tmp_path, "response.json", response), "--policy", POLICY,
            "--user", _write(tmp_path, "user.json", {"mfaAgeSeconds": 60}),
            "--challenge", websafe_encode(CHALLENGE), "--origin", ORIGIN, "--rp-id", RP_ID]


@pytest.mark.parametrize("command", [_decide, _verify], ids=["decide", "verify"])
@pytest.mark.parametrize(("flags", "first", "book"), [
    (("--as-of", "2026-03-20"), NOT_ALLOWED,
     "rule book: as of 2026-03-20 in worldwide, WINDOWS_HELLO_NOT_ALLOWED version original "
     "(until 2026-06-15)"),
    (("--as-of", "2026-11-29"), "ACCEPTED",
     "rule book: as of 2026-11-29 in worldwide, ACCEPTED version original"),
    (("--as-of", "2026-06-20", "--cloud", "gcc"), NOT_ALLOWED,
     "rule book: as of 2026-06-20 in gcc, WINDOWS_HELLO_NOT_ALLOWED version original "
     "(until 2026-07-31)"),
])
def test_windows_hello_is_decided_by_the_day_and_the_cloud(tmp_path, capsys, command, flags,
                                                           first, book):
    code = main([*command(tmp_path), *flags])
    out = capsys.readouterr().out.splitlines()
    assert (code, out[0]) == (0 if first == "ACCEPTED" else 1, first)
    assert f"  {book}" in out


def test_the_json_decision_names_its_day_cloud_and_rule_version(tmp_path, capsys):
    assert main([*_decide(tmp_path), "--as-of", "2026-06-20", "--cloud", "gcc", "--json"]) == 1
    decision = json.loads(capsys.readouterr().out)
    assert (decision["asOf"], decision["cloud"]) == ("2026-06-20", "gcc")
    assert decision["source"]["version"] == "original"


def test_rules_lists_the_book_in_force_on_the_day(capsys):
    assert main(["rules", "--as-of", "2026-03-20"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("The rule book as of 2026-03-20 in the worldwide cloud:")
    assert "WINDOWS_HELLO_NOT_ALLOWED" in out and "windows-hello-ga" not in out
    assert "learn.microsoft.com/…/how-to-authentication-passkey-profiles" in out


@pytest.mark.parametrize(("as_of", "cloud", "version"), [
    ("2026-03-20", "worldwide", "original"),
    ("2026-11-29", "worldwide", "windows-hello-ga"),
    ("2026-06-20", "gcc", "original"),
])
def test_rules_json_holds_the_version_of_each_rule_in_force(capsys, as_of, cloud, version):
    assert main(["rules", "--as-of", as_of, "--cloud", cloud, "--json"]) == 0
    book = json.loads(capsys.readouterr().out)
    assert (book["asOf"], book["cloud"]) == (as_of, cloud)
    versions = {r["reason"]: r["version"] for r in book["rules"]}
    assert versions["WINDOWS_HELLO_ATTESTATION_ENFORCED"] == version
    assert ("WINDOWS_HELLO_NOT_ALLOWED" in versions) == (version == "original")


def test_rules_changes_lists_windows_hello_and_the_profiles_migration(capsys):
    assert main(["rules", "--changes", "2026-01-01", "2026-11-29"]) == 0
    out = capsys.readouterr().out
    assert "2026-06-01  Passkey profiles and synced passkeys" in out
    assert "effect: A policy export without passkeyProfiles" in out
    assert "2026-06-15  Microsoft Entra passkeys on Windows" in out
    assert "rollout 2026-04-20 to 2026-06-15" in out
    rows = [line.split() for line in out.splitlines()
            if line.strip().startswith(("began", "ended"))]
    assert [(r[0], r[1], r[4]) for r in rows] == [
        ("began", "WINDOWS_HELLO_ATTESTATION_ENFORCED", "windows-hello-ga"),
        ("ended", "WINDOWS_HELLO_NOT_ALLOWED", "original"),
        ("ended", "WINDOWS_HELLO_ATTESTATION_ENFORCED", "original"),
    ]


@pytest.mark.parametrize(("window", "cloud", "names"), [
    (("2026-01-01", "2026-11-29"), "worldwide", [MIGRATION, GA]),
    (("2026-06-15", "2026-11-29"), "worldwide", []),  # FROM is outside the window
    (("2026-06-14", "2026-06-15"), "worldwide", [GA]),  # TO is inside
    (("2026-06-15", "2026-07-01"), "gcc", [MIGRATION]),  # the government clouds' dates
    (("2026-07-01", "2026-11-29"), "dod", [GA]),
])
def test_rules_changes_json_takes_the_changes_that_take_effect_in_the_window(
        capsys, window, cloud, names):
    assert main(["rules", "--changes", *window, "--cloud", cloud, "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert [c["name"] for c in changes] == names


@pytest.mark.parametrize(("args", "message"), [
    (["--changes", "2026-11-29", "2026-01-01"],
     "--changes 2026-11-29 2026-01-01: FROM is after TO"),
    (["--changes", "2026-01-01", "soon"], "--changes 'soon' is not a date (YYYY-MM-DD)"),
    (["--changes", "2026-01-01", "2026-11-29", "--as-of", "2026-03-20"],
     "--as-of and --changes do not go together"),
])
def test_rules_refuses_unusable_windows_with_one_line(capsys, args, message):
    assert main(["rules", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
