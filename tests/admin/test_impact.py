"""`pkconf impact`: the diff of a policy change is the fixture's expected data; exit codes
gate CI; every output format renders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pkconf.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "impact"
SCENARIOS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
AS_OF = ["--as-of", "2026-11-25"]


def _args(scenario: str, *extra: str, proposed: str = "proposed.json") -> list[str]:
    d = FIXTURES / scenario
    return ["impact", "--current", str(d / "current.json"), "--proposed", str(d / proposed),
            "--directory", str(d / "directory"), "--registered", str(d / "registered.json"),
            *AS_OF, *extra]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_diff_is_the_scenarios_expected_rows(scenario, capsys):
    main(_args(scenario, "--format", "json", "--all"))
    got = json.loads(capsys.readouterr().out)
    expected = json.loads((FIXTURES / scenario / "expected.json").read_text())
    assert {key: got[key] for key in expected} == expected


def test_removing_a_yubikey_aaguid_fails_the_blocked_gate_and_lists_who(capsys):
    assert main(_args("yubikey-removal", "--fail-on", "blocked")) == 1
    out = capsys.readouterr().out
    assert "yubikey-5-fips" in out and "AAGUID_NOT_ALLOWED" in out
    assert "YubiKey 5 FIPS Series  sign-in" in out and "alice@contoso.com" in out


@pytest.mark.parametrize("fail_on", ["allowed", None])
def test_a_gate_on_what_does_not_happen_passes(fail_on, capsys):
    assert main(_args("yubikey-removal", *(["--fail-on", fail_on] if fail_on else []))) == 0


def test_identical_policies_change_nothing_and_exit_0(capsys):
    assert main(_args("yubikey-removal", "--fail-on", "any", proposed="current.json")) == 0
    assert capsys.readouterr().out.count("no change") == 2


def test_without_a_directory_the_policy_targets_are_the_classes(capsys):
    d = FIXTURES / "yubikey-removal"
    assert main(["impact", "--current", str(d / "current.json"), "--proposed",
                 str(d / "proposed.json"), *AS_OF, "--profiles", "yubikey-5-fips",
                 "--fail-on", "blocked"]) == 1
    assert "[member of 6b1f3c0e-2d4a-4f7b-9c1e-5a8d2e7f0a11]" in capsys.readouterr().out


def test_named_users_are_capped_unless_all(tmp_path, capsys):
    d = FIXTURES / "yubikey-removal"
    users = [{"id": f"u{i}", "userPrincipalName": f"u{i}@contoso.com", "userType": "Member",
              "transitiveMemberOf": [{"id": "6b1f3c0e-2d4a-4f7b-9c1e-5a8d2e7f0a11"}]}
             for i in range(12)]
    (tmp_path / "users.json").write_text(json.dumps({"value": users}))
    base = ["impact", "--current", str(d / "current.json"), "--proposed",
            str(d / "proposed.json"), "--directory", str(tmp_path / "users.json"), *AS_OF,
            "--profiles", "yubikey-5-fips"]
    main(base)
    assert "(+2 more)" in capsys.readouterr().out
    main([*base, "--all"])
    assert "more)" not in capsys.readouterr().out


@pytest.mark.parametrize(("fmt", "marks"), [
    ("markdown", ["## Passkey policy impact", "| blocked | yubikey-5-fips |"]),
    ("html", ["<!doctype html>", "<tr class='blocked'>", "alice@contoso.com"]),
    ("json", ['"change": "blocked"']),
    ("table", ["blocked  yubikey-5-fips"]),
])
def test_every_format_renders_the_changes(fmt, marks, tmp_path):
    out = tmp_path / f"impact.{fmt}"
    main(_args("yubikey-removal", "--format", fmt, "--output", str(out)))
    text = out.read_text()
    assert all(m in text for m in marks)


@pytest.mark.parametrize(("flag", "content", "message"), [
    ("--current", "{not json", "is not JSON"),
    ("--proposed", '{"authenticationMethodConfigurations": []}', "has no fido2 entry"),
    ("--directory", '{"value": [{"id": 5}]}', "$.value[0].id"),
    ("--registered", '{"alice@contoso.com": [{"model": "x"}]}', "[0].aaGuid"),
    ("--registered", "[" * 50_000, "nests too deeply"),
])
def test_bad_input_is_one_line_and_exit_2(flag, content, message, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    args = _args("yubikey-removal")
    args[args.index(flag) + 1] = str(bad)
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and str(bad) in err and "\n" not in err


def test_an_unknown_profile_is_one_line_and_exit_2(capsys):
    assert main(_args("yubikey-removal", "--profiles", "nope")) == 2
    assert "unknown profile 'nope'" in capsys.readouterr().err
