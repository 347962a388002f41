"""The pages in headless Chromium, under Entra's real host names over the test TLS.

Chromium maps login.microsoft.com and mysignins.microsoft.com to the emulator and trusts its
certificate through the SPKI pin, so the page is a secure context on mysignins and creates
credentials for the RP ID login.microsoft.com through Related Origin Requests. One browser per
module; every test gets a fresh context.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from pkconf.ceremonies.chromium import (
    INSTALL_HINT,
    chromium_executable,
    launch_args,
    shared_playwright,
)
from pkconf.emulator.server import EmulatorServer
from pkconf.emulator.store import default_policy
from pkconf.emulator.tls import TLS_HOSTS, TestTls

from .helpers import case_user

SITE = "https://mysignins.microsoft.com"


@pytest.fixture(scope="module")
def browser(emulator: EmulatorServer, tls: TestTls) -> Iterator[Browser]:
    executable = chromium_executable()
    if executable is None:
        pytest.skip(f"no Chromium for Playwright: {INSTALL_HINT}")
    rules = ", ".join(f"MAP {host} 127.0.0.1:{emulator.port}" for host in TLS_HOSTS)
    args = [*launch_args(), f"--host-rules={rules}",
            f"--ignore-certificate-errors-spki-list={tls.spki_pin()}"]
    browser = shared_playwright().chromium.launch(executable_path=executable, args=args)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, client: httpx.Client) -> Iterator[Page]:
    """A fresh context on a fresh tenant (`client` resets it)."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def add_authenticator(page: Page) -> None:
    """A CDP virtual platform authenticator that can do what Entra asks: resident keys, UV."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})


def open_signed_in(page: Page, token: str | None, query: str = "") -> None:
    page.context.add_cookies([{"name": "pkconf_session", "value": token or "",
                               "domain": "mysignins.microsoft.com", "path": "/",
                               "secure": True, "httpOnly": True}])
    page.goto(f"{SITE}/security-info{query}")


def start_adding(page: Page) -> None:
    page.get_by_role("button", name="Add sign-in method").click()
    dialog = page.get_by_role("dialog", name="Add a sign-in method")
    dialog.get_by_role("combobox", name="Which method would you like to add?").select_option(
        "Passkey")
    dialog.get_by_role("button", name="Add", exact=True).click()


def choose_where(page: Page, place: str = "This device") -> None:
    dialog = page.get_by_role("dialog", name="Where do you want to create your passkey?")
    dialog.get_by_role("radio", name=place).check()
    dialog.get_by_role("button", name="Next").click()


def last_decision(page: Page) -> dict[str, Any]:
    page.wait_for_function("window.pkconfLastDecision !== null")
    return page.evaluate("window.pkconfLastDecision")


def test_password_and_mfa_sign_in_then_a_passkey_is_added_and_listed(
        page: Page, client: httpx.Client) -> None:
    user = case_user(client)
    add_authenticator(page)
    page.goto(f"{SITE}/signin")
    page.get_by_label("Email or username").fill(user.upn)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill("correct horse")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Approve sign in request")).to_be_visible()
    page.get_by_role("button", name="I approved it").click()
    expect(page.get_by_role("heading", name="Security info")).to_be_visible()
    assert page.evaluate("isSecureContext") is True
    page.get_by_role("button", name="Add sign-in method").click()
    assert page.evaluate("document.activeElement.closest('dialog').id") == "add-dialog"
    page.get_by_role("dialog", name="Add a sign-in method").get_by_role(
        "button", name="Add", exact=True).click()
    choose_where(page)
    expect(page.get_by_role("status")).to_have_text("Passkey added")
    methods = page.get_by_role("list", name="Sign-in methods").get_by_role("listitem")
    expect(methods).to_have_text(["Passkey on this device"])
    decision = last_decision(page)
    assert (decision["outcome"], decision["reason"]) == ("accepted", "ACCEPTED")
    listed = client.get(f"/v1.0/users/{user.user_id}/authentication/fido2Methods").json()
    assert [m["displayName"] for m in listed["value"]] == ["Passkey on this device"]


def test_stale_mfa_asks_to_verify_identity_before_creating(
        page: Page, client: httpx.Client) -> None:
    user = case_user(client, user={"mfaAgeSeconds": 600})
    add_authenticator(page)
    open_signed_in(page, user.token)
    start_adding(page)
    step_up = page.get_by_role("dialog", name="Verify your identity")
    expect(step_up).to_be_visible()
    step_up.get_by_role("button", name="I approved it").click()
    choose_where(page)
    expect(page.get_by_role("status")).to_have_text("Passkey added")
    assert last_decision(page)["reason"] == "ACCEPTED"


def test_the_provider_chooser_names_the_passkey_after_the_provider(
        page: Page, client: httpx.Client) -> None:
    user = case_user(client, user={"mfaAgeSeconds": 0})
    add_authenticator(page)
    open_signed_in(page, user.token, "?providerChooser=1")
    start_adding(page)
    choose_where(page)
    chooser = page.get_by_role("dialog", name="Choose where to save your passkey")
    chooser.get_by_role("radio", name="Google Password Manager").check()
    chooser.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("status")).to_have_text("Passkey added")
    expect(page.get_by_role("listitem")).to_have_text(["Passkey in Google Password Manager"])


def test_a_policy_rejection_shows_the_family_and_reason_in_the_alert(
        page: Page, client: httpx.Client) -> None:
    policy = {**default_policy(), "excludeTargets": [{"id": "Excluded", "targetType": "group"}]}
    user = case_user(client, policy=policy, groups=["Excluded"],
                     user={"groups": ["Excluded"], "mfaAgeSeconds": 0})
    add_authenticator(page)
    open_signed_in(page, user.token)
    start_adding(page)
    choose_where(page)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("We couldn't add your passkey")
    expect(alert).to_contain_text("policy_scope")
    expect(alert).to_contain_text("USER_EXCLUDED")
    decision = last_decision(page)
    assert (decision["outcome"], decision["family"], decision["reason"]) == (
        "rejected", "policy_scope", "USER_EXCLUDED")
    expect(page.get_by_role("listitem")).to_have_count(0)


def test_create_without_an_authenticator_reports_the_abort_after_the_timeout(
        page: Page, client: httpx.Client) -> None:
    user = case_user(client, user={"mfaAgeSeconds": 0})
    open_signed_in(page, user.token, "?timeout=300")
    start_adding(page)
    choose_where(page, "Security key")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Your device couldn't create the passkey")
    expect(alert).to_contain_text("AbortError")
    decision = last_decision(page)
    assert (decision["outcome"], decision["family"], decision["reason"]) == (
        "client-error", "client", "AbortError")


@pytest.fixture(scope="module")
def localhost() -> Iterator[EmulatorServer]:
    with EmulatorServer(rp_id="localhost") as server:
        yield server


def test_the_localhost_fallback_adds_a_passkey_for_rp_id_localhost(
        page: Page, localhost: EmulatorServer) -> None:
    site = f"http://localhost:{localhost.port}"
    with httpx.Client(base_url=localhost.base_url) as fallback:
        user = case_user(fallback, user={"mfaAgeSeconds": 0})
    add_authenticator(page)
    page.context.add_cookies([{"name": "pkconf_session", "value": user.token or "",
                               "url": site, "httpOnly": True}])
    page.goto(f"{site}/security-info")
    start_adding(page)
    choose_where(page)
    expect(page.get_by_role("status")).to_have_text("Passkey added")
    assert last_decision(page)["reason"] == "ACCEPTED"
