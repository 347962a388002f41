"""The browser ceremony decides as the CTAP ceremony does, with the bridged authenticator."""

from __future__ import annotations

import dataclasses

import pytest

from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies.browser import BrowserSession, register_browser
from pkconf.ceremonies.ctap import Setup, register
from pkconf.ceremonies.tenant import TenantApi
from pkconf.tenant.decision import UserContext
from tests.tenant.builders import profile as passkey_profile
from tests.tenant.builders import with_profiles

ORIGIN = "https://mysignins.microsoft.com"
RP_ID_HASH = "NWye1KCTIblpXx6vkYID8bVfaJ2mH7yWGEwVfdpoDIE"  # SHA-256("login.microsoft.com")
# Device-bound passkeys only, from an allow list of Windows Hello Hardware and YubiKey 5 NFC.
POLICY = with_profiles(passkey_profile(
    name="Device-bound, allow-listed", types="deviceBound", enforced=True, kind="allow",
    aaguids=("08987058-cadc-4b81-b6e1-30de50dcbe96", "2fc0579f-8113-47ea-b116-bb5a8db9202a")))


@pytest.mark.parametrize(("profile", "reason"), [
    ("windows-hello-hardware", "ACCEPTED"),
    ("yubikey-5-nfc-iphone", "ACCEPTED"),
    ("google-password-manager", "PASSKEY_TYPE_NOT_ALLOWED"),
    ("yubikey-5-usb", "AAGUID_NOT_ALLOWED"),
])
def test_same_profile_and_policy_decide_the_same_over_ctap_and_the_browser(
        session: BrowserSession, api: TenantApi, profile: str, reason: str) -> None:
    setup = Setup(policy=POLICY)
    over_ctap = register(api, PROFILES[profile], setup)
    in_browser = register_browser(session, api, PROFILES[profile], setup)
    assert over_ctap.decision.reason == reason
    assert in_browser.decision == dataclasses.replace(over_ctap.decision,
                                                      detail=in_browser.decision.detail)
    assert in_browser.client_data()["origin"] == ORIGIN


@pytest.mark.parametrize(("profile", "aaguid", "flags"), [
    ("windows-hello-hardware", "08987058-cadc-4b81-b6e1-30de50dcbe96", ["UP", "UV", "AT"]),
    ("google-password-manager", "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
     ["UP", "UV", "BE", "BS", "AT"]),
])
def test_bridged_credential_reaches_the_tenant_with_the_profiles_aaguid_and_backup_flags(
        session: BrowserSession, api: TenantApi, setup: Setup, profile: str, aaguid: str,
        flags: list[str]) -> None:
    result = register_browser(session, api, PROFILES[profile], setup)
    auth = result.attestation()["authData"]
    assert (auth["aaguid"], auth["flags"], auth["rpIdHash"]) == (aaguid, flags, RP_ID_HASH)
    assert result.decision.aaguid == aaguid  # as the tenant read it


@pytest.mark.parametrize(("variation", "reason"), [
    ("expired-challenge", "CHALLENGE_EXPIRED"),
    ("reused-challenge", "CHALLENGE_REUSED"),
])
def test_browser_variation_is_refused_for_its_challenge(
        session: BrowserSession, api: TenantApi, setup: Setup, variation: str,
        reason: str) -> None:
    result = register_browser(session, api, PROFILES["yubikey-5-usb"], setup,
                              variation=variation)
    assert (result.status, result.decision.reason) == (400, reason)


def test_tamper_variations_are_ctap_only(session: BrowserSession, api: TenantApi,
                                         setup: Setup) -> None:
    with pytest.raises(ValueError, match="unknown browser variation 'tamper-origin'"):
        register_browser(session, api, PROFILES["yubikey-5-usb"], setup,
                         variation="tamper-origin")


# Through the dialogs, or from the registration step with their answers: the same registration.
WALK = pytest.mark.parametrize("walk", [True, False], ids=["dialogs", "registration-step"])


@WALK
def test_provider_chooser_records_the_chosen_provider_in_the_display_name(
        session: BrowserSession, api: TenantApi, setup: Setup, walk: bool) -> None:
    result = register_browser(session, api, PROFILES["samsung-pass"], setup, walk=walk)
    assert result.request["displayName"] == "Passkey in Samsung Pass"
    assert result.decision.reason == "ACCEPTED"


@WALK
def test_stale_mfa_is_stepped_up_on_the_page_before_the_passkey_is_added(
        session: BrowserSession, api: TenantApi, setup: Setup, walk: bool) -> None:
    stale = dataclasses.replace(setup, user=UserContext(mfa_age_seconds=600))
    result = register_browser(session, api, PROFILES["yubikey-5-usb"], stale, walk=walk)
    assert "Security info: step-up approved" in result.steps
    assert result.decision.reason == "ACCEPTED"


@WALK
def test_fresh_mfa_is_not_stepped_up(session: BrowserSession, api: TenantApi, setup: Setup,
                                     walk: bool) -> None:
    result = register_browser(session, api, PROFILES["yubikey-5-usb"], setup, walk=walk)
    assert "Security info: step-up approved" not in result.steps
    assert result.decision.reason == "ACCEPTED"


@pytest.mark.parametrize("profile", ["windows-hello-hardware", "google-password-manager",
                                     "yubikey-5-usb"])
def test_the_registration_step_posts_what_the_dialogs_would(
        session: BrowserSession, api: TenantApi, setup: Setup, profile: str) -> None:
    walked, started = (register_browser(session, api, PROFILES[profile], setup, walk=walk)
                       for walk in (True, False))
    assert started.request["displayName"] == walked.request["displayName"]
    assert started.options["publicKey"].keys() == walked.options["publicKey"].keys()
    assert started.decision == dataclasses.replace(walked.decision,
                                                   detail=started.decision.detail)


def test_an_open_case_serves_only_its_own_profile(session: BrowserSession, api: TenantApi,
                                                  setup: Setup) -> None:
    case = session.open_case(PROFILES["yubikey-5-usb"])
    with pytest.raises(ValueError, match="opened for yubikey-5-usb, not samsung-pass"):
        register_browser(session, api, PROFILES["samsung-pass"], setup, case=case)
