"""`pkconf run --policy FILE`: every profile against an admin's own policy, decisions shown per
user class and profile, never as a bare "passed"."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "fixtures" / "policies" / "yubikey-pilots-by-group-id.json"
PILOTS = "6f0c3b1e-7a2d-4c59-9e84-1b2a3c4d5e6f"  # the policy's include group, as Graph exports it
BLOCKED = "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a"  # its exclude group
PROFILES = ("--profile", "yubikey-5-usb", "--profile", "apple-passwords")


def _write(path: Path, obj: Any) -> str:
    path.write_text(json.dumps(obj))
    return str(path)


def _run(*args: str, reports: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pkconf", "run", "--policy", str(POLICY), *args, "--no-html",
         "--reports", str(reports), "-n", "1", *PROFILES],
        cwd=ROOT, capture_output=True, text=True, timeout=300)


def _decided(reports: Path) -> dict[tuple[str, str, str], str]:
    lines = [json.loads(x) for x in (reports / "results.jsonl").read_text().splitlines()]
    return {(x["user"], x["profile"], x["ceremony"]): x["actual"]["reason"] for x in lines}


@pytest.mark.parametrize(("groups", "yubikey", "apple"), [
    ([PILOTS], "ACCEPTED", "AAGUID_NOT_ALLOWED"),
    (["11111111-2222-4333-8444-555555555555"], "USER_NOT_TARGETED", "USER_NOT_TARGETED"),
], ids=["in-the-group", "not-in-the-group"])
def test_a_user_in_the_policys_group_id_is_decided_by_its_profile_and_others_are_not_targeted(
        tmp_path: Path, groups: list[str], yubikey: str, apple: str):
    user = _write(tmp_path / "u.json", {"groups": groups, "mfaAgeSeconds": 60})
    done = _run("--user", user, reports=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    label = f"u.json: Member in {groups[0]}"
    assert _decided(tmp_path) == {(label, profile, ceremony): reason
                                  for profile, reason in (("yubikey-5-usb", yubikey),
                                                          ("apple-passwords", apple))
                                  for ceremony in ("ctap", "graph")}
    assert f"user class {label}" in done.stdout
    assert " passed" not in done.stdout


def test_the_terminal_table_shows_each_profiles_outcome_family_and_reason(tmp_path: Path):
    user = _write(tmp_path / "pilot.json", {"groups": [PILOTS], "mfaAgeSeconds": 60})
    done = _run("--user", user, reports=tmp_path)
    out = done.stdout
    assert "4 decisions recorded (2 accepted, 2 rejected)" in out  # pytest's own summary
    assert "pkconf own policy: 4 decisions recorded under yubikey-pilots-by-group-id.json " \
           "(2 accepted, 2 rejected)" in out
    table = out[out.index(f"user class pilot.json: Member in {PILOTS}"):].splitlines()
    cells = [re.split(r"\s{2,}", line.strip())[:4] for line in table[2:6]]
    assert cells == [
        ["apple-passwords"],
        ["ctap, graph", "rejected", "authenticator_governance", "AAGUID_NOT_ALLOWED"],
        ["yubikey-5-usb"],
        ["ctap, graph", "accepted", "-", "ACCEPTED"],
    ]
    decisions = json.loads((tmp_path / "summary.json").read_text())["decisions"]
    assert (decisions["accepted"], decisions["rejected"]) == (2, 2)
    assert {r["reason"] for r in decisions["rows"]} == {"ACCEPTED", "AAGUID_NOT_ALLOWED"}


def test_an_allure_result_names_its_decision_instead_of_a_bare_pass(tmp_path: Path):
    user = _write(tmp_path / "pilot.json", {"groups": [PILOTS], "mfaAgeSeconds": 60})
    assert _run("--user", user, reports=tmp_path).returncode == 0
    results = [json.loads(p.read_text())
               for p in (tmp_path / "allure-results").glob("*-result.json")]
    rejected = next(r for r in results if "apple-passwords/ctap" in r["name"])
    labels = {(x["name"], x["value"]) for x in rejected["labels"]}
    assert rejected["name"].startswith("REJECTED authenticator_governance AAGUID_NOT_ALLOWED — ")
    assert {("epic", "own policy: rejected"), ("feature", f"pilot.json: Member in {PILOTS}"),
            ("story", "apple-passwords"), ("decision", "rejected")} <= labels
    assert rejected["statusDetails"]["message"].startswith(
        "rejected authenticator_governance AAGUID_NOT_ALLOWED: ")
    accepted = next(r for r in results if "yubikey-5-usb/ctap" in r["name"])
    assert accepted["name"].startswith("ACCEPTED — ")
    assert ("epic", "own policy: accepted") in {(x["name"], x["value"]) for x in accepted["labels"]}


def test_without_a_user_each_class_the_policy_names_is_decided(tmp_path: Path):
    done = _run(reports=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    by_class = {(who, profile): reason for (who, profile, _), reason in _decided(tmp_path).items()}
    assert by_class == {
        (f"member of {PILOTS}", "yubikey-5-usb"): "ACCEPTED",
        (f"member of {PILOTS}", "apple-passwords"): "AAGUID_NOT_ALLOWED",
        **{(f"member of {BLOCKED}", p): "USER_EXCLUDED" for p in ("yubikey-5-usb",
                                                                  "apple-passwords")},
        **{(who, p): "USER_NOT_TARGETED" for who in ("any other member", "guest")
           for p in ("yubikey-5-usb", "apple-passwords")},
    }


def test_a_directory_is_decided_once_per_user_class_with_its_group_names_and_size(
        tmp_path: Path):
    def user(n: int, groups: list[str], kind: str = "Member") -> dict[str, Any]:
        return {"id": f"u{n}", "userPrincipalName": f"u{n}@contoso.test", "userType": kind,
                "transitiveMemberOf": [{"id": g} for g in groups]}

    users = [user(1, [PILOTS, "unrelated"]), user(2, [PILOTS]), user(3, ["unrelated"])]
    groups = [{"id": PILOTS, "displayName": "Passkey pilots", "members": []}]
    directory = _write(tmp_path / "directory.json", {"value": [*users, *groups]})
    done = _run("--directory", directory, "--profile", "yubikey-5-usb", reports=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    classes = {who for who, _, _ in _decided(tmp_path)}
    assert classes == {"Member in Passkey pilots (2 users)", "Member in no group (1 user)"}
    assert "user class Member in Passkey pilots (2 users): 2 accepted, 2 rejected" in done.stdout


@pytest.mark.parametrize(("flag", "content", "message"), [
    ("--policy", {"state": "on"}, "policy {} is invalid: $.state: unknown value 'on'"),
    ("--user", {"groups": "pilots"}, "--user {}: user.groups must be a list"),
    ("--directory", {"value": 3}, "directory {}"),
], ids=["policy", "user", "directory"])
@pytest.mark.parametrize("runner", ["pkconf", "pytest"])
def test_an_unusable_policy_user_or_directory_is_one_line_not_a_traceback(
        tmp_path: Path, flag: str, content: Any, message: str, runner: str):
    bad = _write(tmp_path / "bad.json", content)
    given = ["--policy", bad] if flag == "--policy" else ["--policy", str(POLICY), flag, bad]
    command = ([sys.executable, "-m", "pkconf", "run", *given, "--reports", str(tmp_path)]
               if runner == "pkconf" else
               [sys.executable, "-m", "pytest", "conformance/test_cases.py", "-p",
                "no:cacheprovider", *given])
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = [x for x in (done.stdout + done.stderr).splitlines() if x.strip()]
    assert (done.returncode, len(lines)) == (2, 1), lines  # plain pytest exits 2 as pkconf
    assert message.format(bad) in lines[0]
