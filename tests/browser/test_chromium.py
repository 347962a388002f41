"""Chromium's own virtual authenticator (CDP WebAuthn domain) behind the Security-info page."""

from __future__ import annotations

import dataclasses
import time

import pytest

from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies.browser import BrowserSession, VirtualAuthenticator, register_browser
from pkconf.ceremonies.ctap import Setup
from pkconf.ceremonies.result import ClientError
from pkconf.ceremonies.tenant import TenantApi

CHROMIUM_AAGUID = "01020304-0506-0708-0102-030405060708"
ZERO_AAGUID = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(("profile", "transport", "aaguid"), [
    ("yubikey-5-usb", "usb", ZERO_AAGUID),
    ("google-password-manager", "internal", CHROMIUM_AAGUID),
])
def test_attestation_none_erases_the_aaguid_of_cross_platform_authenticators_only(
        session: BrowserSession, api: TenantApi, setup: Setup, profile: str, transport: str,
        aaguid: str) -> None:
    assert VirtualAuthenticator.for_profile(PROFILES[profile]).transport == transport
    result = register_browser(session, api, PROFILES[profile], setup, authenticator="cdp",
                              attestation="none")
    received = result.attestation()
    assert (received["fmt"], received["authData"]["aaguid"]) == ("none", aaguid)
    assert result.decision.aaguid == aaguid


def test_direct_attestation_from_chromium_is_packed_with_its_fixed_aaguid(
        session: BrowserSession, api: TenantApi, setup: Setup) -> None:
    result = register_browser(session, api, PROFILES["yubikey-5-usb"], setup,
                              authenticator="cdp")
    received = result.attestation()
    assert (received["fmt"], received["authData"]["aaguid"]) == ("packed", CHROMIUM_AAGUID)
    assert result.decision.reason == "ACCEPTED"


def test_fourth_resident_credential_on_one_virtual_authenticator_fails_at_once(
        session: BrowserSession, api: TenantApi, setup: Setup) -> None:
    profile = PROFILES["yubikey-5-usb"]
    case = session.open_case(profile, authenticator="cdp")
    reasons = [register_browser(session, api, profile, setup, case=case).decision.reason
               for _ in range(3)]
    started = time.monotonic()
    fourth = register_browser(session, api, profile, setup, case=case)
    assert reasons == ["ACCEPTED"] * 3
    assert (type(fourth.decision), fourth.decision.reason) == (ClientError, "NotAllowedError")
    assert fourth.status is None  # nothing was posted
    assert time.monotonic() - started < 5  # far from the page's 5-minute timeout


def test_unmet_user_verification_is_a_not_allowed_error_within_the_timeout(
        session: BrowserSession, api: TenantApi, setup: Setup) -> None:
    profile = PROFILES["yubikey-5-usb"]
    no_uv = dataclasses.replace(VirtualAuthenticator.for_profile(profile),
                                has_user_verification=False, is_user_verified=False)
    started = time.monotonic()
    result = register_browser(session, api, profile, setup, authenticator="cdp", virtual=no_uv,
                              timeout_ms=3000)
    assert (type(result.decision), result.decision.reason) == (ClientError, "NotAllowedError")
    assert result.status is None
    assert time.monotonic() - started < 3 + 5


@pytest.mark.parametrize(("override", "reason"), [
    ({"bad_uv": True}, "USER_VERIFICATION_MISSING"),
    ({"bad_up": True}, "USER_PRESENCE_MISSING"),
])
def test_response_override_bits_reach_the_tenant_as_a_ceremony_refusal(
        session: BrowserSession, api: TenantApi, setup: Setup, override: dict[str, bool],
        reason: str) -> None:
    profile = PROFILES["yubikey-5-usb"]
    virtual = dataclasses.replace(VirtualAuthenticator.for_profile(profile), **override)
    result = register_browser(session, api, profile, setup, authenticator="cdp",
                              virtual=virtual)
    assert (result.status, result.decision.family, result.decision.reason) == \
        (400, "ceremony", reason)
