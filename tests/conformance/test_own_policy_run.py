"""`pkconf run --policy FILE`: every profile against an admin's own policy, decisions shown."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_own_policy_run_records_and_prints_each_profiles_decision(tmp_path: Path):
    policy = ROOT / "fixtures" / "policies" / "kr-allow-yubikey.json"
    done = subprocess.run(
        [sys.executable, "-m", "pkconf", "run", "--policy", str(policy), "--no-html",
         "--reports", str(tmp_path), "-n", "1", "--profile", "yubikey-5-usb",
         "--profile", "apple-passwords"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "decisions under kr-allow-yubikey.json" in done.stdout
    lines = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    decided = {(x["profile"], x["ceremony"]): x["actual"]["reason"] for x in lines}
    assert decided == {
        ("yubikey-5-usb", "ctap"): "ACCEPTED",
        ("yubikey-5-usb", "graph"): "ACCEPTED",
        ("apple-passwords", "ctap"): "AAGUID_NOT_ALLOWED",
        ("apple-passwords", "graph"): "AAGUID_NOT_ALLOWED",
    }
