"""The browser session: launch flags, per-profile contexts, evidence, the localhost fallback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies import browser, chromium
from pkconf.ceremonies.browser import BrowserSession, VirtualAuthenticator, register_browser
from pkconf.ceremonies.chromium import ChromiumNotFound
from pkconf.ceremonies.ctap import Setup
from pkconf.ceremonies.security_info import Place
from pkconf.ceremonies.tenant import TenantApi
from pkconf.emulator.server import EmulatorServer


def test_secure_session_maps_entras_hosts_to_the_emulator_and_pins_its_certificate() -> None:
    session = BrowserSession(port=8443, spki_pin="cGlu")
    assert session.base_url == "https://mysignins.microsoft.com"
    assert session.browser_args()[-2:] == [
        "--host-rules=MAP login.microsoft.com 127.0.0.1:8443, "
        "MAP mysignins.microsoft.com 127.0.0.1:8443",
        "--ignore-certificate-errors-spki-list=cGlu"]


def test_localhost_fallback_needs_no_host_rules() -> None:
    session = BrowserSession(port=8080, spki_pin=None)
    assert session.base_url == "http://localhost:8080"
    assert not any(a.startswith(("--host-rules", "--ignore-certificate"))
                   for a in session.browser_args())


def test_missing_chromium_fails_with_the_install_command(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.setattr(chromium, "chromium_executable", lambda: None)
    with pytest.raises(ChromiumNotFound, match=r"apt-get install -y chromium"):
        BrowserSession(port=8443, spki_pin="cGlu").start()


@pytest.mark.parametrize(("profile", "viewport", "mobile"), [
    ("yubikey-5-nfc-iphone", {"width": 390, "height": 844}, True),
    ("google-password-manager", {"width": 412, "height": 915}, True),
    ("windows-hello-hardware", None, None),
    ("iphone-hybrid", None, None),  # desktop Chrome using the phone over hybrid
])
def test_context_takes_the_clients_user_agent_and_a_phones_viewport_on_phones(
        profile: str, viewport: dict[str, int] | None, mobile: bool | None) -> None:
    options = browser.context_options(PROFILES[profile])
    assert options["user_agent"] == PROFILES[profile].client.user_agent
    assert (options.get("viewport"), options.get("is_mobile")) == (viewport, mobile)


@pytest.mark.parametrize(("profile", "place"), [
    ("windows-hello-hardware", Place.THIS_DEVICE),
    ("google-password-manager", Place.THIS_DEVICE),
    ("iphone-hybrid", Place.PHONE),
    ("yubikey-5-nfc-iphone", Place.SECURITY_KEY),
    ("u2f-only-key", Place.SECURITY_KEY),
])
def test_passkey_is_created_where_the_profiles_authenticator_lives(profile: str,
                                                                   place: Place) -> None:
    assert browser.place_for(PROFILES[profile]) is place


@pytest.mark.parametrize(("profile", "provider"), [
    ("samsung-pass", "Samsung Pass"),
    ("android-oem-no-transports", "Google Password Manager"),
    ("google-password-manager", None),  # Chrome on Android shows no chooser
    ("android-oem-attestation-downgraded", None),  # a hardware key, not a provider
])
def test_provider_chooser_is_answered_only_for_android_oem_providers(
        profile: str, provider: str | None) -> None:
    assert browser.provider_for(PROFILES[profile]) == provider


@pytest.mark.parametrize(("profile", "expected"), [
    ("yubikey-5-usb", VirtualAuthenticator()),
    ("google-password-manager", VirtualAuthenticator(
        transport="internal", backup_eligible=True, backup_state=True)),
    ("iphone-hybrid", VirtualAuthenticator(transport="cable", backup_eligible=True,
                                           backup_state=True)),
    ("u2f-only-key", VirtualAuthenticator(protocol="u2f", has_resident_key=False,
                                          has_user_verification=False,
                                          is_user_verified=False)),
])
def test_virtual_authenticator_follows_the_profile(profile: str,
                                                   expected: VirtualAuthenticator) -> None:
    assert VirtualAuthenticator.for_profile(PROFILES[profile]) == expected


def test_unknown_authenticator_kind_is_refused(session: BrowserSession) -> None:
    with pytest.raises(ValueError, match="unknown authenticator 'hid'"):
        session.open_case(PROFILES["yubikey-5-usb"], authenticator="hid")


def test_last_case_leaves_its_console_and_a_screenshot(session: BrowserSession, api: TenantApi,
                                                       setup: Setup) -> None:
    register_browser(session, api, PROFILES["yubikey-5-usb"], setup)
    session.last.page.evaluate("console.warn('pkconf evidence')")
    assert session.console()[-1] == "warning: pkconf evidence"
    assert session.screenshot()[:8] == b"\x89PNG\r\n\x1a\n"


# --- the http://localhost fallback, with tracing ----------------------------------------------
@pytest.fixture(scope="module")
def localhost(session: BrowserSession) -> Iterator[tuple[BrowserSession, TenantApi, int]]:
    with EmulatorServer(rp_id="localhost") as server, TenantApi(server.base_url) as api, \
            BrowserSession.for_server(server, trace=True,
                                      playwright=session.playwright) as local:
        yield local, api, server.port


def test_localhost_fallback_registers_with_the_localhost_origin(
        localhost: tuple[BrowserSession, TenantApi, int], setup: Setup) -> None:
    session, api, port = localhost
    result = register_browser(session, api, PROFILES["yubikey-5-usb"], setup)
    assert result.decision.reason == "ACCEPTED"
    assert result.client_data()["origin"] == f"http://localhost:{port}"


def test_traced_session_saves_the_last_cases_trace(
        localhost: tuple[BrowserSession, TenantApi, int], setup: Setup,
        tmp_path: Path) -> None:
    session, api, _ = localhost
    register_browser(session, api, PROFILES["yubikey-5-usb"], setup)
    trace = session.save_trace(tmp_path / "trace.zip")
    assert trace is not None and trace.read_bytes()[:2] == b"PK"
