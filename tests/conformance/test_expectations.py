"""The tenant's decision is stated as cases state theirs, and both are written as before."""

from __future__ import annotations

import pytest

from conformance.cases import Expectation, Verdict
from conformance.runner import actual
from pkconf.ceremonies.result import CeremonyResult, ClientError
from pkconf.tenant.decision import Decision, Outcome
from pkconf.tenant.rules import Family, Reason


def _result(decision: Decision | ClientError) -> CeremonyResult:
    result = CeremonyResult()
    result.decision = decision
    return result


@pytest.mark.parametrize(("decision", "written"), [
    (Decision(Outcome.ACCEPTED, Reason.ACCEPTED, "fits"),
     {"outcome": "accepted", "family": None, "reason": "ACCEPTED"}),
    (Decision(Outcome.REJECTED, Reason.AAGUID_BLOCKED, "blocked"),
     {"outcome": "rejected", "family": "authenticator_governance", "reason": "AAGUID_BLOCKED"}),
    (ClientError("NotAllowedError", "timed out"),
     {"outcome": "client-error", "family": "client", "reason": "NotAllowedError"}),
])
def test_a_decision_meets_the_expectation_that_is_written_as_it_is(
        decision: Decision | ClientError, written: dict[str, str | None]) -> None:
    stated = actual(_result(decision))
    assert stated.as_dict() == written  # results.jsonl's "actual" and "expected"
    assert stated == _expectation_of(written)


def _expectation_of(written: dict[str, str | None]) -> Expectation:
    outcome = Verdict(written["outcome"])
    if outcome is Verdict.CLIENT_ERROR:
        return Expectation(outcome, None, str(written["reason"]))
    return Expectation.decided(Reason(written["reason"]))


def test_an_expectation_takes_its_family_from_the_rule_book() -> None:
    assert Expectation.decided(Reason.MFA_STALE) == Expectation(
        Verdict.REJECTED, Family.BOOTSTRAP, Reason.MFA_STALE)
    assert Expectation.decided(Reason.ACCEPTED).family is None


def test_an_own_policy_run_records_without_expecting() -> None:
    assert Expectation(Verdict.RECORDED, None, "").as_dict() == {
        "outcome": "recorded", "family": None, "reason": ""}
