"""A ceremony reads the tenant's decision once, typed, from the answer it arrives in."""

from __future__ import annotations

from typing import Any

import pytest

from pkconf.ceremonies.result import ClientError, TenantRefusal, announced
from pkconf.ceremonies.tenant import TenantError, decision_of
from pkconf.tenant.decision import Decision, DecisionFormatError, Outcome
from pkconf.tenant.rules import Reason

ACCEPTED = Decision(Outcome.ACCEPTED, Reason.ACCEPTED, "fits the default profile",
                    aaguid="cb69481e-8ff7-4039-93ec-0a2729a154a8", matched_profiles=("p1",))
BLOCKED = Decision(Outcome.REJECTED, Reason.AAGUID_BLOCKED, "on the block list",
                   profile_failures={"p1": Reason.AAGUID_BLOCKED})


def _refusal(decision: Any) -> dict[str, Any]:
    return {"error": {"code": "badRequest", "message": "refused",
                      "innerError": {"pkconfDecision": decision}}}


def test_an_accepting_answer_carries_the_typed_decision() -> None:
    assert decision_of(201, {"id": "m1", "@pkconf.decision": ACCEPTED.to_json()}) == ACCEPTED


def test_a_refusal_carries_the_typed_decision() -> None:
    assert decision_of(400, _refusal(BLOCKED.to_json())) == BLOCKED


def test_a_created_method_without_the_annotation_is_an_acceptance() -> None:
    decision = decision_of(201, {"id": "m1"})
    assert (decision.outcome, decision.reason) == (Outcome.ACCEPTED, Reason.ACCEPTED)


@pytest.mark.parametrize(("status", "answer", "says"), [
    (400, _refusal({**BLOCKED.to_json(), "reason": "AAGUID_BANNED"}), "reason: 'AAGUID_BANNED'"),
    (201, {"@pkconf.decision": {"outcome": "accepted"}}, "reason: is missing"),
    (400, _refusal(ACCEPTED.to_json()), "its decision says accepted"),
    (201, {"@pkconf.decision": BLOCKED.to_json()}, "its decision says rejected"),
    (403, {"detail": "no"}, "without a Graph error"),
])
def test_an_answer_without_a_usable_decision_is_a_tenant_error(
        status: int, answer: dict[str, Any], says: str) -> None:
    with pytest.raises(TenantError, match=says):
        decision_of(status, answer)


def test_a_graph_error_without_a_decision_is_a_refusal_whose_reason_is_unknown() -> None:
    """A real tenant's refusal: only its outcome compares, its code and message are kept."""
    refusal = decision_of(400, {"error": {"code": "invalidRequest", "message": "Key not allowed",
                                          "innerError": {"request-id": "r1"}}})
    assert refusal == TenantRefusal(400, "invalidRequest", "Key not allowed")
    assert (refusal.accepted, refusal.to_json()["outcome"]) == (False, "rejected")


def test_the_page_announces_either_a_decision_or_the_browsers_refusal() -> None:
    refusal = ClientError("NotAllowedError", "The operation either timed out or was not allowed.")
    assert announced(BLOCKED.to_json()) == BLOCKED
    assert announced(refusal.to_json()) == refusal
    assert refusal.to_json() == {"outcome": "client-error", "family": "client",
                                 "reason": "NotAllowedError", "detail": refusal.detail}


@pytest.mark.parametrize(("page", "field"), [
    ({"outcome": "client-error", "family": "tenant", "reason": "NotAllowedError",
      "detail": ""}, "family"),
    ({"outcome": "client-error", "family": "client", "reason": 3, "detail": ""}, "reason"),
    ({"outcome": "client-error", "family": "client", "reason": "AbortError"}, "client error"),
    (None, "decision"),
])
def test_a_page_announcement_that_is_neither_is_refused_naming_the_field(
        page: Any, field: str) -> None:
    with pytest.raises(DecisionFormatError) as refused:
        announced(page)
    assert refused.value.field == field
