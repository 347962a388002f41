"""`pkconf run --profile FILE --policy P`: a vendor's authenticator file decided under every
ceremony, the browser's included, on each platform path it declares."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "fixtures" / "authenticators" / "example-vendor-key.toml"
ENFORCED = ROOT / "fixtures" / "policies" / "attestation-enforced.json"
USER = {"mfaAgeSeconds": 60}
NAMES = ("example-vendor-key@desktop", "example-vendor-key@iphone-nfc")  # one per declared path


def _run(*args: str, reports: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pkconf", "run", *args, "--no-html", "--reports", str(reports),
         "-n", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)


def _results(reports: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in (reports / "results.jsonl").read_text().splitlines()]


def test_a_file_is_decided_under_every_ceremony_on_each_declared_path_attested_by_its_entry(
        tmp_path: Path) -> None:
    user = tmp_path / "u.json"
    user.write_text(json.dumps(USER))
    done = _run("--profile", str(EXAMPLE), "--policy", str(ENFORCED), "--user", str(user),
                reports=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    decided = {(x["profile"], x["ceremony"], x["platform"]): x["actual"]
               for x in _results(tmp_path)}
    ceremonies = ("ctap", "graph", "graph-me", "browser", "browser-cdp")
    assert set(decided) == {(name, ceremony, platform)
                            for name, platform in zip(NAMES, ("desktop", "iphone"), strict=True)
                            for ceremony in ceremonies}
    # enforced attestation verifies the file's own chain by its MDS entry; Chrome's CDP
    # virtual authenticator answers with Chrome's AAGUID and chain, which no entry lists
    assert {(c, x["reason"]) for (_, c, _), x in decided.items()} == {
        *((c, "ACCEPTED") for c in ceremonies if c != "browser-cdp"),
        ("browser-cdp", "AUTHENTICATOR_NOT_IN_METADATA")}


def test_a_file_with_a_ceremony_selector_runs_only_that_ceremony_on_each_path(
        tmp_path: Path) -> None:
    user = tmp_path / "u.json"
    user.write_text(json.dumps(USER))
    done = _run("--profile", str(EXAMPLE), "--ceremony", "browser", "--policy", str(ENFORCED),
                "--user", str(user), reports=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert sorted((x["profile"], x["ceremony"]) for x in _results(tmp_path)) == [
        (name, "browser") for name in NAMES]


@pytest.mark.parametrize(("profile", "policy", "message"), [
    ("no-such-key", True, "--profile: unknown profile 'no-such-key'; `pkconf authenticators` "
                          "lists them, or give an authenticator file"),
    ("missing.toml", True, "--profile: missing.toml: cannot read: No such file or directory"),
    (str(EXAMPLE), False, f"--profile {EXAMPLE}: an authenticator file runs under your own "
                          "policy: add --policy P.json"),
])
def test_an_unknown_profile_a_bad_file_or_a_file_without_a_policy_is_one_line_exit_2(
        tmp_path: Path, profile: str, policy: bool, message: str) -> None:
    done = _run("--profile", profile, *(("--policy", str(ENFORCED)) if policy else ()),
                reports=tmp_path)
    assert (done.returncode, done.stderr) == (2, f"pkconf run: {message}\n")
