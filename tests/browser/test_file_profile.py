"""An authenticator file registers the same way from `pkconf decide` and from the browser.

Issue 11's "must show": a vendor's file is a first-class profile, so the decision `pkconf
decide --profile FILE` prints over CTAP is the one the Security-info page gets in Chromium,
on every platform path the file declares, with the file's own test MDS entry verifying it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pkconf import cli
from pkconf.authenticators.files import read_authenticator_file
from pkconf.ceremonies.browser import BrowserSession, register_browser
from pkconf.ceremonies.chromium import INSTALL_HINT, chromium_executable
from pkconf.ceremonies.ctap import Setup
from pkconf.ceremonies.tenant import TenantApi
from pkconf.emulator.server import EmulatorServer
from pkconf.emulator.tls import TestTls
from pkconf.inputs import fido2_configuration, parse_user, read_json
from pkconf.paths import FIXTURES
from pkconf.tenant.attestation import Metadata
from pkconf.tenant.decision import Decision

EXAMPLE = FIXTURES / "authenticators" / "example-vendor-key.toml"
POLICIES = [FIXTURES / "policies" / name
            for name in ("permissive.json", "attestation-enforced.json")]
USER = {"mfaAgeSeconds": 60}  # a member who signed in with MFA a minute ago
SAME = ("outcome", "reason", "aaguid", "attestationLevel")  # what "identically" compares
PATHS = list(read_authenticator_file(EXAMPLE).profiles)


@pytest.fixture(scope="module")
def file_api(tls: TestTls) -> Iterator[tuple[TenantApi, BrowserSession]]:
    """An emulator whose MDS BLOB carries the example's entry (as `decide` builds it), its
    tenant API and a Chromium on its pages."""
    if chromium_executable() is None:
        pytest.skip(f"no Chromium for Playwright: {INSTALL_HINT}")
    metadata = Metadata.from_blob(*read_authenticator_file(EXAMPLE).metadata())
    with (EmulatorServer(metadata=metadata, tls=tls) as server,
          TenantApi(server.base_url, verify=tls.client_context()) as api,
          BrowserSession.for_server(server) as session):
        yield api, session


def _decide(tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: Path,
            platform_path: str) -> dict[str, object]:
    """The decision `pkconf decide --json` prints for the example on one path over ctap."""
    user = tmp_path / "user.json"
    user.write_text(json.dumps(USER))
    cli.main(["decide", "--profile", str(EXAMPLE), "--path", platform_path, "--policy",
              str(policy), "--user", str(user), "--ceremony", "ctap", "--json"])
    decided: dict[str, object] = json.loads(capsys.readouterr().out)
    return decided


@pytest.mark.parametrize("platform_path", PATHS)
@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.stem)
def test_the_example_file_decides_the_same_over_decide_and_in_the_browser_on_each_path(
        file_api: tuple[TenantApi, BrowserSession], tmp_path: Path,
        capsys: pytest.CaptureFixture[str], policy: Path, platform_path: str) -> None:
    api, session = file_api
    over_ctap = _decide(tmp_path, capsys, policy, platform_path)
    setup = Setup(fido2_configuration(read_json(str(policy), "policy"))[0], parse_user(USER))
    profile = read_authenticator_file(EXAMPLE).profiles[platform_path]
    in_browser = register_browser(session, api, profile, setup).decision
    assert isinstance(in_browser, Decision), in_browser
    assert {k: in_browser.to_json()[k] for k in SAME} == {k: over_ctap[k] for k in SAME}
    assert (over_ctap["reason"], over_ctap["attestationLevel"]) == ("ACCEPTED", "attested")


def test_decide_path_is_one_the_file_declares(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    user = tmp_path / "user.json"
    user.write_text(json.dumps(USER))
    assert cli.main(["decide", "--profile", str(EXAMPLE), "--path", "android", "--policy",
                     str(POLICIES[0]), "--user", str(user)]) == 2
    assert capsys.readouterr().err == (f"pkconf decide: {EXAMPLE}: paths: 'android' is not "
                                       "declared (declared: desktop, iphone-nfc)\n")
