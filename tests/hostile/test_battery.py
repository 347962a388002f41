"""The hostile battery as tests: no mutated registration is accepted, none raises anything but
the project's own refusal (battery.py has the figures: `python -m tests.hostile.battery`)."""

from __future__ import annotations

import pytest

from pkconf.tenant.decision import RegistrationPath
from pkconf.tenant.engine import decide
from pkconf.tenant.registration import parse_registration
from pkconf.tenant.rules import RULES, Reason

from .battery import USER, Input, inputs, judge, metadata, policy
from .samples import SAMPLE_NAMES, sample, sample_format

INPUTS = list(inputs())
# The valid samples Entra refuses as they are, and why: U2F has no user verification, and an
# unenforced profile still asks a packed statement for a certificate (rules.py, [INFERRED]).
REFUSED_AS_THEY_ARE = {
    **{name: Reason.USER_VERIFICATION_MISSING for name in SAMPLE_NAMES
       if sample_format(name) == "fido-u2f"},
    "packed-self": Reason.ATTESTATION_STATEMENT_INCOMPLETE,
}


def test_the_battery_has_at_least_150_hostile_inputs_over_every_format():
    assert len(INPUTS) >= 150
    formats = {sample_format(name) for name in SAMPLE_NAMES}
    assert formats >= {"packed", "fido-u2f", "tpm", "android-key", "apple", "none",
                       "android-safetynet"}
    assert {item.sample for item in INPUTS} == set(SAMPLE_NAMES)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_each_sample_unmutated_is_accepted_so_a_rejection_is_the_mutations_doing(name: str):
    base = sample(name)
    decision = decide(policy("permissive"), USER, RegistrationPath.SELF_SERVICE,
                      parse_registration(base.response), base.ceremony, metadata=metadata())
    expected = REFUSED_AS_THEY_ARE.get(name, Reason.ACCEPTED)
    assert decision.reason == expected, decision.to_json()


@pytest.mark.parametrize("item", INPUTS, ids=lambda item: item.id)
def test_hostile_registration_is_rejected_with_a_reason_or_refused(item: Input):
    for name in item.policies:
        verdict = judge(item, name)
        assert verdict.outcome in ("rejected", "refused"), (
            f"{verdict.outcome} under {name}: {verdict.reason}")
        if verdict.outcome == "rejected":
            assert verdict.reason in RULES and verdict.reason != Reason.ACCEPTED
