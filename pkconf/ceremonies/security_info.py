"""Page objects for the Security-info page: what a user does to add a passkey, by role and name.

They find controls the way a user (or a screen reader) does, by accessible role and name, so
markup can change without breaking the ceremony. They tolerate UX that does not change what is
registered (a step-up dialog that may or may not appear) and report the outcome region as they
find it: judging it is the ceremony's job (`browser.py`).

They are built for many cases on one page, at a few milliseconds a Playwright call: a loaded
page starts over in place instead of navigating, controls get DOM clicks, and what the page
finishes on its own time (a fetch, the authenticator) is awaited in the page, on the DOM
mutation that ends it, not by Playwright's locator retries (20, 50, 100... ms apart). A case
that is not about the dialogs skips them (`register`): start over, the registration step and
the announced outcome are one Playwright call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

PATH = "/security-info"
ADDED = "Passkey added"
REFUSED = "We couldn't add your passkey"
CLIENT_FAILED = "Your device couldn't create the passkey"
DIALOG_TIMEOUT_MS = 10_000  # every step but the authenticator's answers at once
_START_OVER = "(url) => window.pkconfStartOver ? window.pkconfStartOver(url) : false"
# A condition's value, now or at the first DOM mutation (of the kinds `watch` names) after
# which it holds (a dialog's `open`, an announcement); null once `timeoutMs` has passed. One
# evaluate: Playwright's wait_for_function costs several round trips more.
_UNTIL = """([condition, watch, timeoutMs]) => {
  const check = eval(condition);
  return check() || new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      const value = check();
      if (value) done(value);
    });
    const timer = setTimeout(() => done(null), timeoutMs);
    function done(value) {
      observer.disconnect();
      clearTimeout(timer);
      resolve(value);
    }
    observer.observe(document.body, {subtree: true, ...watch});
  });
}"""
# Start over (unless `url` is null: the page was just loaded), run the registration step with the
# dialogs' answers, and read what it announced: null when the page cannot start over; {"timeout"}
# when nothing was announced within `timeoutMs`. The regions are found by their roles.
_REGISTER = """async ([url, where, provider, timeoutMs]) => {
  if (url !== null && !(await window.pkconfStartOver(url))) return null;
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(() => resolve("late"), timeoutMs); });
  const steppedUp = await Promise.race([window.pkconfRegister(where, provider), late]);
  clearTimeout(timer);
  if (steppedUp === "late") return {timeout: true};
  const text = (role) => [...document.querySelectorAll(`[role="${role}"]`)]
    .map((region) => region.innerText.trim()).find((t) => t) ?? "";
  return {steppedUp, decision: window.pkconfLastDecision, status: text("status"),
          alert: text("alert")};
}"""
_MODAL_OPEN = ("() => document.querySelector('dialog:modal') !== null",
               {"attributes": True, "attributeFilter": ["open"]})
_DECISION = ("() => window.pkconfLastDecision", {"childList": True, "characterData": True})


class Place(StrEnum):
    """The answers to "Where do you want to create your passkey?"."""

    THIS_DEVICE = "This device"
    PHONE = "Phone or tablet"
    SECURITY_KEY = "Security key"


# Each answer's radio value, as `pkconfRegister` takes it (the page contract).
FORM_VALUES = {Place.THIS_DEVICE: "this-device", Place.PHONE: "phone",
               Place.SECURITY_KEY: "security-key"}


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
    decision: object  # as the page left it: JSON for `result.announced` to read


class SecurityInfoPage:
    """Security info, as one signed-in user sees it."""

    def __init__(self, page: Page):
        self.page = page

    def open(self, base_url: str, *, provider_chooser: bool = False,
             timeout_ms: int | None = None) -> None:
        """Show the page for the context's session cookie; `timeout_ms` shortens the page's
        WebAuthn timeout (its `?timeout=`).

        A page already on Security info starts over in place (`pkconfStartOver`, the page
        contract): the same content a navigation would give, with every unfinished attempt
        dropped, for a fraction of a navigation's cost. Anything else is navigated to it.
        """
        url = _url(base_url, provider_chooser, timeout_ms)
        if self._on_page(base_url) and self.page.evaluate(_START_OVER, url):
            return
        self._navigate(url)

    def _on_page(self, base_url: str) -> bool:
        return self.page.url.startswith(f"{base_url}{PATH}")

    def _navigate(self, url: str) -> None:
        self.page.goto(url, wait_until="domcontentloaded")
        self.page.get_by_role("heading", name="Security info").wait_for(
            timeout=DIALOG_TIMEOUT_MS)

    def register(self, base_url: str, place: Place, provider: str | None, *,
                 timeout_ms: int | None, outcome_timeout_ms: float) -> tuple[bool, Outcome]:
        """An attempt from the registration step, the dialogs answered with `place` and
        `provider` (`pkconfRegister`): (whether the session was stepped up, the outcome).

        Opening (in place when the page is on Security info) and the attempt are one
        Playwright call; what is registered is what the dialogs would give, since they only
        collect these answers and the step-up approval.
        """
        url = _url(base_url, provider is not None, timeout_ms)
        call = [url, FORM_VALUES[place], provider, outcome_timeout_ms]
        answer = self.page.evaluate(_REGISTER, call) if self._on_page(base_url) else None
        if answer is None:
            self._navigate(url)
            answer = self.page.evaluate(_REGISTER, [None, *call[1:]])
        if answer.get("timeout"):
            raise PlaywrightTimeoutError(f"nothing was announced within {outcome_timeout_ms} ms")
        added = answer["status"] if answer["status"].startswith(ADDED) else ""
        return bool(answer["steppedUp"]), _outcome(added or answer["alert"], answer["decision"])

    def methods(self) -> list[str]:
        """The names in the "Sign-in methods" list."""
        return self.page.get_by_role("list", name="Sign-in methods").get_by_role(
            "listitem").all_inner_texts()

    def add_passkey(self, place: Place, provider: str | None = None) -> bool:
        """Add sign-in method → Passkey → (step-up if asked) → where → (provider if asked).

        Controls are clicked with a DOM click event, which runs the same activation (a button's
        form, a radio's check) as a user's click without the pointer round trip (tens of
        milliseconds a click); they are still found by role and name, and only in an open
        dialog: a closed one is not in the accessibility tree. Returns whether the page asked
        for the step-up.
        """
        page = self.page
        self._click(page.get_by_role("button", name="Add sign-in method"))
        add = page.get_by_role("dialog", name="Add a sign-in method")
        add.get_by_role("combobox", name="Which method would you like to add?").select_option(
            label="Passkey", timeout=DIALOG_TIMEOUT_MS)  # visible, enabled, not inert: one call
        self._click(add.get_by_role("button", name="Add", exact=True))
        # the dialog closed as the form submitted (HTML: method=dialog closes synchronously);
        # the next opens once the page has asked the emulator about the step-up
        self._modal_opened()
        step_up = page.get_by_role("dialog", name="Verify your identity")
        stepped_up = step_up.is_visible()
        if stepped_up:
            self._click(step_up.get_by_role("button", name="I approved it"))
            self._modal_opened()
        self._choose(page.get_by_role("dialog", name="Where do you want to create your passkey?"),
                     place.value)
        if provider is not None:
            self._modal_opened()
            self._choose(page.get_by_role("dialog", name="Choose where to save your passkey"),
                         provider)
        return stepped_up

    def _modal_opened(self) -> None:
        self._until(_MODAL_OPEN, DIALOG_TIMEOUT_MS)

    def _until(self, condition: tuple[str, dict[str, Any]], timeout_ms: float) -> Any:
        """The condition's truthy value, once the page makes it so."""
        value = self.page.evaluate(_UNTIL, [*condition, timeout_ms])
        if not value:
            raise PlaywrightTimeoutError(f"{condition[0]} did not hold within {timeout_ms} ms")
        return value

    @staticmethod
    def _click(control: Locator) -> None:
        control.dispatch_event("click", timeout=DIALOG_TIMEOUT_MS)

    @classmethod
    def _choose(cls, dialog: Locator, option: str) -> None:
        """Pick a radio in a dialog and go on (its one button besides Cancel)."""
        cls._click(dialog.get_by_role("radio", name=option, exact=True))
        cls._click(dialog.get_by_role("button", name=re.compile(r"^(Next|Continue)$")))

    def outcome(self, timeout_ms: float) -> Outcome:
        """Wait for the page's decision, then read the region that announces it: the status
        "Passkey added" or an alert."""
        decision = self._until(_DECISION, timeout_ms)
        added = self.page.get_by_role("status").filter(has_text=ADDED)
        alert = self.page.get_by_role("alert").filter(has_text=re.compile(r"\S"))
        return _outcome(added.or_(alert).first.inner_text(timeout=DIALOG_TIMEOUT_MS), decision)


def _url(base_url: str, provider_chooser: bool, timeout_ms: int | None) -> str:
    query = {"providerChooser": "1"} if provider_chooser else {}
    if timeout_ms is not None:
        query["timeout"] = str(timeout_ms)
    return f"{base_url}{PATH}" + (f"?{urlencode(query)}" if query else "")


def _outcome(text: str, decision: object) -> Outcome:
    """The outcome an announced region's text names."""
    kinds = {ADDED: OutcomeKind.ADDED, CLIENT_FAILED: OutcomeKind.CLIENT_ERROR,
             REFUSED: OutcomeKind.REFUSED}
    kind = next((k for title, k in kinds.items() if text.startswith(title)),
                OutcomeKind.UNRECOGNIZED)
    return Outcome(kind, text, decision)
