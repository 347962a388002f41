"""`pkconf certify`: a sound key is Entra-ready, each defect fails the requirement it breaks,
an attached key is certified from one touch, and the report is written; bad input exits 2."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from fido2.hid import CtapHidDevice

from pkconf.admin.certify import plan
from pkconf.admin.impact import entra_options
from pkconf.authenticators import hid
from pkconf.authenticators.device import SoftwareAuthenticator
from pkconf.authenticators.physical import PIN_ENV
from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies.ctap import make_credential
from pkconf.ceremonies.result import CeremonyResult
from pkconf.cli import main
from pkconf.paths import FIXTURES
from pkconf.tenant import rules

AS_OF = "2026-11-25"
EXAMPLE = FIXTURES / "authenticators" / "example-vendor-key.toml"


def _certify(tmp_path: Path, *source: str) -> tuple[int, dict]:
    """Run certify with --json into tmp_path; the exit code and the printed JSON."""
    code = main(["certify", *source, "--as-of", AS_OF, "--reports", str(tmp_path), "--json"])
    return code, json.loads((tmp_path / "certification.json").read_text())


def _failed(report: dict) -> set[str]:
    return {r["id"] for r in report["requirements"] if not r["passed"]}


def test_a_certified_packed_security_key_is_entra_ready_and_exits_0(tmp_path, capsys):
    code, report = _certify(tmp_path, "--authenticator", "yubikey-5-usb")
    assert code == 0
    assert report["entraReady"] is True and not _failed(report)
    assert json.loads(capsys.readouterr().out) == report
    accepted = {c["name"] for c in report["configurations"] if c["accepted"]}
    assert len(report["configurations"]) == len(plan()) == 48
    assert "attestation registrationOnly, keys allow-listed, types deviceBound, provisioning" \
        in accepted
    assert not any("block-listed" in name or "types synced," in name for name in accepted)


@pytest.mark.parametrize(("name", "failed"), [
    ("u2f-only-key", {"fido2", "user-verification", "resident-keys", "packed-attestation",
                      "aaguid"}),
    ("apple-passwords", {"device-bound", "packed-attestation", "fido-certified"}),
    ("test-revoked-key", {"metadata-status"}),
    ("yubikey-5-usb-aaguid-mismatch", {"aaguid", "packed-attestation"}),
    ("spoofer-unattested", {"packed-attestation", "aaguid"}),
    ("test-uncertified-key", {"fido-certified"}),
])
def test_a_defective_authenticator_exits_1_naming_the_failed_requirement(
        name, failed, tmp_path, capsys):
    code, report = _certify(tmp_path, "--authenticator", name)
    assert code == 1 and report["entraReady"] is False
    assert failed <= _failed(report)
    assert "Entra-ready: no" in capsys.readouterr().err


def test_the_example_vendor_file_is_entra_ready_with_its_own_metadata(tmp_path, capsys):
    code, report = _certify(tmp_path, "--authenticator", str(EXAMPLE))
    assert code == 0 and report["name"] == "example-vendor-key"
    assert report["entraReady"] is True
    assert json.loads(capsys.readouterr().out)["inputs"] == {
        str(EXAMPLE): hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()}


def test_a_file_is_certified_on_security_info_from_each_declared_path_and_once_over_graph(
        tmp_path, capsys):
    _, report = _certify(tmp_path, "--authenticator", str(EXAMPLE))
    sets = [(c["path"], c.get("platformPath")) for c in report["configurations"]]
    per_set = len(plan()) // 2  # attestation x restrictions x types, for one registration path
    assert {s: sets.count(s) for s in sets} == {("self-service", "desktop"): per_set,
                                                ("self-service", "iphone-nfc"): per_set,
                                                ("provisioning", None): per_set}
    accepted = {on: [c["accepted"] for c in report["configurations"]
                     if c.get("platformPath") == on] for on in ("desktop", "iphone-nfc")}
    assert accepted["desktop"] == accepted["iphone-nfc"]  # the key is the same on both paths
    assert report["summary"].endswith(f"of {3 * per_set} configurations")


@pytest.mark.parametrize(("edits", "failed"), [
    ({'uv = "built-in"': 'uv = "none"'}, "user-verification"),
    ({'format = "packed"': 'format = "none"', 'chain = "generated"': ""}, "packed-attestation"),
    ({'chain = "generated"': 'chain = "self"'}, "packed-attestation"),
    ({'aaguid = "7e57aa00-e8a1-4e00-8000-00000000e8a1"':
      'aaguid = "00000000-0000-0000-0000-000000000000"'}, "aaguid"),
    ({"backup_eligible = false": "backup_eligible = true"}, "device-bound"),
    ({'status = ["FIDO_CERTIFIED_L1"]': 'status = ["FIDO_CERTIFIED_L1", "REVOKED"]'},
     "metadata-status"),
], ids=["no-uv", "fmt-none", "self-attestation", "zero-aaguid", "be-set", "revoked"])
def test_a_copy_of_the_example_with_one_defect_fails_that_requirement(
        edits, failed, tmp_path, capsys):
    text = EXAMPLE.read_text()
    for old, new in edits.items():
        assert old in text
        text = text.replace(old, new)
    copy = tmp_path / "defective.toml"
    copy.write_text(text)
    code, report = _certify(tmp_path / "report", "--authenticator", str(copy))
    assert code == 1 and failed in _failed(report)


def test_an_unreadable_authenticator_file_is_unusable_input(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    assert main(["certify", "--authenticator", str(bad), "--reports", str(tmp_path)]) == 2
    assert "bad.toml" in capsys.readouterr().err


def test_the_summary_line_counts_requirements_and_configurations(tmp_path, capsys):
    assert main(["certify", "--authenticator", "test-revoked-key", "--as-of", AS_OF,
                 "--reports", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  metadata-status:" in out
    assert out.strip().endswith("Entra-ready: no — 8/9 requirements; accepted under 8 of 48 "
                                "configurations")


def test_the_report_is_json_html_and_junit_with_provenance(tmp_path):
    _, report = _certify(tmp_path, "--authenticator", "yubikey-5-usb")
    assert report["ruleBook"] == {"asOf": AS_OF, "cloud": "worldwide"}
    assert {"python", "fido2", "cryptography"} <= set(report["tools"])
    assert all(len(digest) == 64 for digest in report["inputs"].values())
    assert any(p.endswith("test-mds-blob.jwt") for p in report["inputs"])
    page = (tmp_path / "certification.html").read_text()
    assert "Entra-ready: yes" in page and "<script" not in page and "<link" not in page
    suites = ET.parse(tmp_path / "junit.xml").getroot()
    cases = suites.findall("./testsuite/testcase")
    assert len(cases) == len(report["requirements"]) + len(report["configurations"])


def test_an_attached_key_is_certified_over_ctaphid_with_one_touch(tmp_path, capfd,
                                                                   monkeypatch):
    device = SoftwareAuthenticator(PROFILES["yubikey-5-usb"])
    key = hid.virtual_key(device)

    def attached() -> Iterator[CtapHidDevice]:
        yield key

    monkeypatch.setattr(hid, "attached_keys", attached)
    monkeypatch.setenv(PIN_ENV, device.pin or "")
    code, report = _certify(tmp_path, "--device")
    assert code == 0, _failed(report)
    assert report["source"] == "device virtual:yubikey-5-usb"
    assert report["getInfo"]["versions"] == ["FIDO_2_0", "FIDO_2_1"]
    err = capfd.readouterr().err
    assert "getInfo" in err and err.count("Touch your security key") == 1


def _capture(directory: Path, profile: str) -> Path:
    """A response the profile's authenticator made, saved as a vendor captures it."""
    options = entra_options()
    capture = {"response": make_credential(PROFILES[profile], options, CeremonyResult()),
               "challenge": options["publicKey"]["challenge"], "origin": rules.ORIGIN}
    directory.mkdir(exist_ok=True)
    path = directory / f"{profile}.json"
    path.write_text(json.dumps(capture))
    return path


def test_captured_responses_are_each_certified_with_the_metadata_s_getinfo(tmp_path, capsys):
    captures = tmp_path / "captures"
    _capture(captures, "yubikey-5-usb")
    assert main(["certify", "--responses", str(captures), "--as-of", AS_OF,
                 "--reports", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "yubikey-5-usb" / "certification.json").read_text())
    assert report["entraReady"] is True and report["getInfo"] is None
    assert "metadata getInfo" in report["requirements"][0]["evidence"]
    _capture(captures, "spoofer-unattested")
    capsys.readouterr()
    assert main(["certify", "--responses", str(captures), "--as-of", AS_OF,
                 "--reports", str(tmp_path / "out"), "--json"]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["entraReady"]) for r in printed] == [
        ("spoofer-unattested", False), ("yubikey-5-usb", True)]


def test_a_malformed_captured_response_is_unusable_input(tmp_path, capsys):
    (tmp_path / "bad.json").write_text(json.dumps(
        {"response": {"id": "AA"}, "challenge": "AA", "origin": rules.ORIGIN}))
    assert main(["certify", "--responses", str(tmp_path), "--reports", str(tmp_path)]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_no_attached_key_is_unusable_input(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(hid, "attached_keys", lambda: iter(()))
    assert main(["certify", "--device", "--reports", str(tmp_path)]) == 2
    assert "no FIDO key attached" in capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ["--authenticator", "no-such-key"],
    ["--authenticator", "yubikey-5-usb", "--mds", "missing.jwt"],
    ["--authenticator", "yubikey-5-usb", "--as-of", "yesterday"],
])
def test_unusable_input_is_one_line_and_exit_2(args, tmp_path, capsys):
    assert main(["certify", *args, "--reports", str(tmp_path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
