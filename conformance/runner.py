"""Running one case: lay it out in the tenant, drive its ceremony, compare the decision.

The comparison is the suite's assertion; a mismatch says which case, what was expected, what
the tenant decided, and the documentation the expectation follows, so a reader can tell whether
Entra (or the emulator) or the case is wrong.
"""

from __future__ import annotations

from pkconf.ceremonies import CTAP_CEREMONIES
from pkconf.ceremonies.browser import BrowserSession, register_browser
from pkconf.ceremonies.ctap import Setup
from pkconf.ceremonies.result import CeremonyResult, ClientError, TenantRefusal
from pkconf.ceremonies.tenant import Tenant, TenantApi
from pkconf.tenant.rules import RuleBook

from .cases import Case, Expectation, Verdict

BROWSER_AUTHENTICATORS = {"browser": "bridge", "browser-cdp": "cdp"}
UNUSABLE_STATUS = 400  # Graph's answer to a body it cannot use
MISMATCH = "DECISION MISMATCH"  # the Allure category "Entra decided differently" keys on it


class DecisionMismatch(AssertionError):
    """The tenant decided otherwise than the case expects."""


def case_book(case: Case, run_book: RuleBook) -> RuleBook:
    """The rule book that decides the case: its own day and cloud where it pins them (a rule
    that began or ended in 2026), else the run's (--as-of, --cloud)."""
    return RuleBook(case.as_of or run_book.as_of, case.cloud or run_book.cloud)


def run_case(api: Tenant, case: Case, browser: BrowserSession | None = None,
             run_book: RuleBook | None = None) -> CeremonyResult:
    """Drive the case's ceremony: the CTAP client, or Chromium on the Security-info page.
    `run_book` is the run's rule book (default: today's, worldwide)."""
    setup = Setup(dict(case.policy), case.user, case_book(case, run_book or RuleBook.today()))
    profile = case.authenticator
    if case.ceremony in BROWSER_AUTHENTICATORS:
        if browser is None or not isinstance(api, TenantApi):
            raise ValueError(f"{case.id} needs a browser session and the emulator")
        return register_browser(browser, api, profile, setup, variation=case.variation,
                                authenticator=BROWSER_AUTHENTICATORS[case.ceremony],
                                attestation=case.conveyance)
    return CTAP_CEREMONIES[case.ceremony](api, profile, setup, variation=case.variation)


def actual(result: CeremonyResult) -> Expectation:
    """The ceremony's decision stated as cases state theirs, so the two compare as a whole."""
    decision = result.decision
    if isinstance(decision, ClientError):
        return Expectation(Verdict.CLIENT_ERROR, None, decision.reason)
    if isinstance(decision, TenantRefusal):  # no family or reason of ours: 400 is the request
        if decision.status == UNUSABLE_STATUS:  # refused as input, as Graph answers bad bodies
            return Expectation(Verdict.UNUSABLE, None, "")
        return Expectation(Verdict.REJECTED, None, decision.code)
    return Expectation(Verdict(decision.outcome.value), decision.family, decision.reason)


def check(case: Case, result: CeremonyResult, *, names_reasons: bool = True) -> None:
    """Raise DecisionMismatch unless outcome, family and reason are all as expected. A real
    tenant names no reason (`names_reasons` False, entra-facts §8): there a refusal is compared
    as a refusal, whatever its status."""
    got, want = actual(result), case.expect
    refused = (Verdict.REJECTED, Verdict.UNUSABLE)
    if got == want or (not names_reasons and isinstance(result.decision, TenantRefusal)
                       and want.outcome in refused):
        return
    lines = [
        f"{MISMATCH} in {case.id}: {case.title}",
        f"  expected: {want.outcome} {want.family_name or '-'} {want.reason}",
        f"  actual:   {got.outcome} {got.family_name or '-'} {got.reason}"
        f" ({result.decision.detail})",
        f"  source:   {case.source.fact} ({case.source.status}) {case.source.url}",
    ]
    if case.file:
        lines.append(f"  defined in: {case.file}")
    raise DecisionMismatch("\n".join(lines))
