"""Consecutive cases share a context and page only while they fit, and never share state:
each gets a new user session, a new authenticator and a page started over in place."""

from __future__ import annotations

import dataclasses

import pytest

from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies.browser import BrowserSession, register_browser
from pkconf.ceremonies.ctap import Setup
from pkconf.ceremonies.security_info import Place, SecurityInfoPage
from pkconf.ceremonies.tenant import TenantApi
from pkconf.emulator.server import EmulatorServer
from tests.tenant.builders import profile as passkey_profile
from tests.tenant.builders import with_profiles

KEY = PROFILES["yubikey-5-usb"]
# Device-bound passkeys from an allow list that leaves the YubiKey 5 (USB) out.
ALLOW_LIST_WITHOUT_THE_KEY = with_profiles(passkey_profile(
    name="Windows Hello only", types="deviceBound", enforced=True, kind="allow",
    aaguids=("08987058-cadc-4b81-b6e1-30de50dcbe96",)))


def test_consecutive_cases_share_the_page_but_not_the_user_or_the_authenticator(
        session: BrowserSession, api: TenantApi, setup: Setup) -> None:
    first = register_browser(session, api, KEY, setup)
    page = session.last.page
    second = register_browser(session, api, KEY, setup)
    assert session.last.page is page
    assert (first.decision.reason, second.decision.reason) == ("ACCEPTED", "ACCEPTED")
    assert first.options["publicKey"]["user"]["id"] != second.options["publicKey"]["user"]["id"]
    assert first.request["publicKeyCredential"]["id"] != \
        second.request["publicKeyCredential"]["id"]
    assert len(session.last.bridge.device.credentials) == 1
    assert SecurityInfoPage(page).methods() == ["Passkey on a security key"]


def test_a_refusal_after_an_acceptance_is_announced_not_the_stale_acceptance(
        session: BrowserSession, api: TenantApi, setup: Setup) -> None:
    register_browser(session, api, KEY, setup)
    page = session.last.page
    refused = register_browser(session, api, KEY, Setup(policy=ALLOW_LIST_WITHOUT_THE_KEY))
    assert session.last.page is page
    assert (refused.status, refused.decision.reason) == (400, "AAGUID_NOT_ALLOWED")
    assert SecurityInfoPage(page).methods() == []


def test_consecutive_cdp_cases_each_get_a_new_virtual_authenticator(
        session: BrowserSession, api: TenantApi, setup: Setup) -> None:
    # one virtual authenticator holds 3 resident keys: a kept one would refuse the fourth
    reasons = [register_browser(session, api, KEY, setup, authenticator="cdp").decision.reason
               for _ in range(4)]
    assert reasons == ["ACCEPTED"] * 4


def test_a_different_profile_with_the_same_client_runs_in_the_same_page(
        session: BrowserSession, api: TenantApi, setup: Setup) -> None:
    register_browser(session, api, KEY, setup)
    page = session.last.page
    result = register_browser(session, api, PROFILES["google-titan-v2"], setup)
    assert session.last.page is page
    assert result.decision.aaguid == PROFILES["google-titan-v2"].aaguid


@pytest.mark.parametrize(("profile", "options"), [
    ("yubikey-5-usb", {"authenticator": "cdp"}),
    ("yubikey-5-usb", {"attestation": "none"}),
    ("windows-hello-hardware", {}),  # a platform authenticator is "available" in its page
    ("yubikey-5-nfc-iphone", {}),  # another client: user agent and viewport
])
def test_a_case_that_does_not_fit_gets_its_own_context_and_the_first_kind_keeps_its_own(
        session: BrowserSession, api: TenantApi, setup: Setup, profile: str,
        options: dict[str, str]) -> None:
    register_browser(session, api, KEY, setup)
    page = session.last.page
    register_browser(session, api, PROFILES[profile], setup, **options)
    assert session.last.page is not page
    register_browser(session, api, KEY, setup)
    assert session.last.page is page


def test_beyond_the_pool_size_the_least_recently_used_context_is_closed(
        session: BrowserSession, emulator: EmulatorServer, api: TenantApi,
        setup: Setup) -> None:
    with BrowserSession.for_server(emulator, playwright=session.playwright) as two:
        two.pool_size = 2
        register_browser(two, api, KEY, setup)
        oldest = two.last.context
        register_browser(two, api, KEY, setup, authenticator="cdp")
        kept = two.last.context
        register_browser(two, api, PROFILES["windows-hello-hardware"], setup)
        assert oldest.pages == []  # closed
        assert kept.pages != []


def test_a_case_that_did_not_end_cleanly_leaves_no_page_to_reuse(
        session: BrowserSession, api: TenantApi, setup: Setup) -> None:
    unfinished = session.open_case(KEY)
    register_browser(session, api, KEY, setup)
    assert session.last.context is not unfinished.context


def test_only_the_last_case_can_be_reused_explicitly(session: BrowserSession, api: TenantApi,
                                                     setup: Setup) -> None:
    earlier = session.open_case(KEY)
    session.open_case(KEY)
    with pytest.raises(ValueError, match="the case is closed"):
        register_browser(session, api, KEY, setup, case=earlier)


def test_start_over_drops_the_unfinished_attempt_before_its_timeout_fires(
        session: BrowserSession, api: TenantApi, setup: Setup) -> None:
    case = session.open_case(KEY, authenticator="cdp")
    case.cdp.send("WebAuthn.removeVirtualAuthenticator",
                  {"authenticatorId": case.authenticator_id})  # create() now waits
    session.sign_in(case, api.scenario(setup.body())["token"])
    page = SecurityInfoPage(case.page)
    page.open(session.base_url, timeout_ms=300)
    page.add_passkey(Place.SECURITY_KEY)
    case.page.get_by_role("status").filter(has_text="Follow the instructions").wait_for()
    page.open(session.base_url)  # starts over in place, before the 300 ms timeout fires
    case.page.wait_for_timeout(600)
    assert case.page.evaluate("window.pkconfLastDecision") is None
    assert case.page.get_by_role("alert").inner_text() == ""
    assert case.page.url == "https://mysignins.microsoft.com/security-info"


@pytest.mark.parametrize(("environment", "argument", "reuse"), [
    (None, None, True),
    ("0", None, False),
    ("1", None, True),
    ("0", True, True),  # the argument wins
    (None, False, False),
])
def test_reuse_is_on_unless_turned_off(monkeypatch: pytest.MonkeyPatch,
                                       environment: str | None, argument: bool | None,
                                       reuse: bool) -> None:
    if environment is None:
        monkeypatch.delenv("PKCONF_BROWSER_REUSE", raising=False)
    else:
        monkeypatch.setenv("PKCONF_BROWSER_REUSE", environment)
    assert BrowserSession(port=8443, spki_pin="cGlu", reuse=argument).reuse is reuse


def test_without_reuse_every_case_gets_a_new_context(session: BrowserSession,
                                                     emulator: EmulatorServer, api: TenantApi,
                                                     setup: Setup) -> None:
    with BrowserSession.for_server(emulator, reuse=False,
                                   playwright=session.playwright) as fresh:
        register_browser(fresh, api, KEY, setup)
        context = fresh.last.context
        result = register_browser(fresh, api, KEY, dataclasses.replace(setup))
        assert fresh.last.context is not context
    assert result.decision.reason == "ACCEPTED"
