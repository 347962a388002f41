"""A refusal without a decision: unusable input on the emulator (which names its reasons), only
a refusal on a real tenant (which names none, entra-facts §8)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conformance.cases import Case, Expectation, Verdict, load_cases
from conformance.runner import DecisionMismatch, check
from pkconf.ceremonies.result import CeremonyResult, TenantRefusal
from pkconf.tenant.rules import Reason

UNUSABLE = Expectation(Verdict.UNUSABLE, None, "")
BLOCKED = Expectation.decided(Reason.AAGUID_BLOCKED)


def _refused(status: int) -> CeremonyResult:
    result = CeremonyResult()
    result.decision = TenantRefusal(status, "invalidRequest", "refused")
    return result


@pytest.fixture(scope="module")
def case() -> Case:
    return load_cases()[0]


def test_a_400_without_a_decision_is_what_an_unusable_case_expects(case: Case) -> None:
    check(replace(case, expect=UNUSABLE), _refused(400))


def test_on_the_emulator_unusable_input_does_not_pass_for_a_decided_rejection(case: Case) -> None:
    with pytest.raises(DecisionMismatch):
        check(replace(case, expect=BLOCKED), _refused(400))


@pytest.mark.parametrize("status", [400, 403])
def test_on_a_real_tenant_any_refusal_compares_as_a_refusal(case: Case, status: int) -> None:
    check(replace(case, expect=BLOCKED), _refused(status), names_reasons=False)
    check(replace(case, expect=UNUSABLE), _refused(status), names_reasons=False)
    with pytest.raises(DecisionMismatch):
        check(replace(case, expect=Expectation.decided(Reason.ACCEPTED)), _refused(status),
              names_reasons=False)
