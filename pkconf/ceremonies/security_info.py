"""Page objects for the Security-info page: what a user does to add a passkey, by role and name.

They find controls the way a user (or a screen reader) does, by accessible role and name, so
markup can change without breaking the ceremony. They tolerate UX that does not change what is
registered (a step-up dialog that may or may not appear) and report the outcome region as they
find it: judging it is the ceremony's job (`browser.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import Locator, Page

PATH = "/security-info"
ADDED = "Passkey added"
REFUSED = "We couldn't add your passkey"
CLIENT_FAILED = "Your device couldn't create the passkey"
DIALOG_TIMEOUT_MS = 10_000  # every step but the authenticator's answers at once


class Place(StrEnum):
    """The answers to "Where do you want to create your passkey?"."""

    THIS_DEVICE = "This device"
    PHONE = "Phone or tablet"
    SECURITY_KEY = "Security key"


class OutcomeKind(StrEnum):
    ADDED = "added"  # status region: the tenant accepted the passkey
    REFUSED = "refused"  # alert: the tenant refused it (a Graph error)
    CLIENT_ERROR = "client-error"  # alert: create() rejected, nothing was posted
    UNRECOGNIZED = "unrecognized"  # an alert this page object does not know


@dataclass(frozen=True)
class Outcome:
    """The announced outcome: its kind, the region's text, and `window.pkconfLastDecision`."""

    kind: OutcomeKind
    text: str
    decision: dict[str, Any] | None


class SecurityInfoPage:
    """Security info, as one signed-in user sees it."""

    def __init__(self, page: Page):
        self.page = page

    def open(self, base_url: str, *, provider_chooser: bool = False,
             timeout_ms: int | None = None) -> None:
        """Load the page; `timeout_ms` shortens the page's WebAuthn timeout (its `?timeout=`)."""
        query = {"providerChooser": "1"} if provider_chooser else {}
        if timeout_ms is not None:
            query["timeout"] = str(timeout_ms)
        url = f"{base_url}{PATH}" + (f"?{urlencode(query)}" if query else "")
        self.page.goto(url, wait_until="domcontentloaded")
        self.page.get_by_role("heading", name="Security info").wait_for(
            timeout=DIALOG_TIMEOUT_MS)

    def methods(self) -> list[str]:
        """The names in the "Sign-in methods" list."""
        return self.page.get_by_role("list", name="Sign-in methods").get_by_role(
            "listitem").all_inner_texts()

    def add_passkey(self, place: Place, provider: str | None = None) -> bool:
        """Add sign-in method → Passkey → (step-up if asked) → where → (provider if asked).

        Each dialog is waited for, then acted on without Playwright's per-action stability
        checks (`force`): a modal dialog is the only thing that takes input, it does not
        animate, and the checks cost tens of milliseconds a click. Returns whether the page
        asked for the step-up.
        """
        page = self.page
        page.get_by_role("button", name="Add sign-in method").click(force=True)
        add = self._dialog("Add a sign-in method")
        add.get_by_role("combobox", name="Which method would you like to add?").select_option(
            label="Passkey", force=True)
        add.get_by_role("button", name="Add", exact=True).click(force=True)
        step_up = page.get_by_role("dialog", name="Verify your identity")
        where = page.get_by_role("dialog", name="Where do you want to create your passkey?")
        step_up.or_(where).wait_for(timeout=DIALOG_TIMEOUT_MS)
        stepped_up = step_up.is_visible()
        if stepped_up:
            step_up.get_by_role("button", name="I approved it").click(force=True)
        self._choose(where, place.value)
        if provider is not None:
            chooser = page.get_by_role("dialog", name="Choose where to save your passkey")
            self._choose(chooser, provider)
        return stepped_up

    def _dialog(self, name: str) -> Locator:
        dialog = self.page.get_by_role("dialog", name=name)
        dialog.wait_for(timeout=DIALOG_TIMEOUT_MS)
        return dialog

    @staticmethod
    def _choose(dialog: Locator, option: str) -> None:
        """Pick a radio in a dialog and go on (its one button besides Cancel)."""
        dialog.wait_for(timeout=DIALOG_TIMEOUT_MS)
        dialog.get_by_role("radio", name=option, exact=True).check(force=True)
        dialog.get_by_role("button", name=re.compile(r"^(Next|Continue)$")).click(force=True)

    def outcome(self, timeout_ms: float) -> Outcome:
        """Wait for the status "Passkey added" or an alert, then read the decision."""
        added = self.page.get_by_role("status").filter(has_text=ADDED)
        alert = self.page.get_by_role("alert").filter(has_text=re.compile(r"\S"))
        added.or_(alert).first.wait_for(timeout=timeout_ms)
        decision = self.page.evaluate("window.pkconfLastDecision")
        if added.is_visible():
            return Outcome(OutcomeKind.ADDED, added.inner_text(), decision)
        text = alert.inner_text()
        kinds = {CLIENT_FAILED: OutcomeKind.CLIENT_ERROR, REFUSED: OutcomeKind.REFUSED}
        kind = next((k for title, k in kinds.items() if text.startswith(title)),
                    OutcomeKind.UNRECOGNIZED)
        return Outcome(kind, text, decision)
