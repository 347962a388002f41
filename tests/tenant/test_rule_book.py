"""The rule book and the reason codes name each other one to one."""

from __future__ import annotations

from collections import Counter

from pkconf.tenant.rules import RULE_BOOK, RULES, Reason, rule


def test_every_reason_has_exactly_one_rule_and_every_rule_a_reason() -> None:
    counts = Counter(r.reason for r in RULE_BOOK)
    assert counts == Counter(set(Reason))
    assert set(RULES) == set(Reason)


def test_a_reason_code_is_its_own_name() -> None:
    """The codes travel as JSON strings: a member's value is exactly its UPPER_SNAKE name."""
    assert all(reason.value == reason.name for reason in Reason)


def test_only_acceptance_has_no_family() -> None:
    assert [r for r in Reason if rule(r).family is None] == [Reason.ACCEPTED]
