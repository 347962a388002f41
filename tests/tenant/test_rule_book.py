"""The rule book: reason codes and rules name each other, and every rule holds from a date, in a
cloud, with no two versions of a reason in force on the same day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pkconf.tenant.rules import (
    CHANGES,
    RULE_BOOK,
    RULES,
    VERSIONS,
    WINDOWS_HELLO_GA,
    Cloud,
    Reason,
    RuleBook,
    rule,
)


def test_every_reason_has_a_rule_and_every_rule_a_reason() -> None:
    assert all(VERSIONS[reason] for reason in Reason)
    assert {r.reason for r in RULE_BOOK} == set(Reason) == set(RULES)


def test_a_reason_code_is_its_own_name() -> None:
    """The codes travel as JSON strings: a member's value is exactly its UPPER_SNAKE name."""
    assert all(reason.value == reason.name for reason in Reason)


def test_only_acceptance_has_no_family() -> None:
    assert [r for r in Reason if rule(r).family is None] == [Reason.ACCEPTED]


def test_the_versions_of_a_reason_share_its_family_and_have_distinct_names() -> None:
    for reason, versions in VERSIONS.items():
        assert len({v.family for v in versions}) == 1, reason
        assert len({v.version for v in versions}) == len(versions), reason


def _days() -> list[date]:
    """Every day a rule could begin or end, and the days either side of it."""
    edges = {d for c in CHANGES for r in c.rollouts for d in (r.start, r.end)}
    return sorted({d + timedelta(days=k) for d in edges for k in (-1, 0, 1)})


@pytest.mark.parametrize("cloud", list(Cloud))
def test_no_two_versions_of_a_reason_hold_on_the_same_day(cloud: Cloud) -> None:
    for day in _days():
        for reason, versions in VERSIONS.items():
            assert sum(v.holds(day, cloud) for v in versions) <= 1, (reason, day)


def test_passkey_type_failures_are_policy_scope_as_the_product_defines_it() -> None:
    """"The user is not in an applicable passkey profile, or the profile does not allow the
    type of authenticator being attempted" is a policy-scope failure."""
    assert rule(Reason.PASSKEY_TYPE_NOT_ALLOWED).family == "policy_scope"


@pytest.mark.parametrize(("as_of", "cloud", "preview"), [
    (date(2026, 3, 20), Cloud.WORLDWIDE, True),
    (date(2026, 6, 14), Cloud.WORLDWIDE, True),  # inside the rollout: decided by its end
    (date(2026, 6, 15), Cloud.WORLDWIDE, False),
    (date(2026, 6, 20), Cloud.GCC, True),
    (date(2026, 7, 31), Cloud.DOD, False),
    (date(2026, 11, 29), Cloud.GCC_HIGH, False),
])
def test_windows_hello_allow_listing_holds_until_ga_in_the_tenants_cloud(
        as_of: date, cloud: Cloud, preview: bool) -> None:
    assert RuleBook(as_of, cloud).holds(Reason.WINDOWS_HELLO_NOT_ALLOWED) is preview


def test_a_rule_version_names_the_change_that_began_it() -> None:
    before, after = RuleBook(date(2026, 3, 1)), RuleBook(date(2026, 11, 29))
    reason = Reason.WINDOWS_HELLO_ATTESTATION_ENFORCED
    assert before.rule(reason).version == "original"
    assert after.rule(reason).version == WINDOWS_HELLO_GA.name


def test_a_day_inside_a_rollout_window_is_reported_as_an_assumption() -> None:
    note = RuleBook(date(2026, 5, 10)).rollout_note(WINDOWS_HELLO_GA)
    assert note is not None and "2026-04-20 to 2026-06-15" in note
    assert RuleBook(date(2026, 6, 16)).rollout_note(WINDOWS_HELLO_GA) is None


def test_asking_for_a_rule_no_version_of_which_holds_is_an_error() -> None:
    with pytest.raises(LookupError):
        RuleBook(date(2026, 11, 29)).rule(Reason.WINDOWS_HELLO_NOT_ALLOWED)
