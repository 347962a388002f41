"""The hostile-input battery: every mutation (mutations.py) of every valid sample (samples.py),
judged by the decision engine under a permissive and an attestation-enforcing policy.

The invariant (issue 14): each one is rejected with a rule-book reason or refused as unusable
(`MalformedRegistration`, the CLI's `UsageError`); none is accepted, no other exception escapes.

    .venv/bin/python -m tests.hostile.battery

prints the figures: inputs, judgements, rejected, refused, accepted, exceptions, the slowest
input, and every acceptance or exception with the mutation and sample that made it.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from pkconf.inputs import UsageError, read_metadata
from pkconf.paths import FIXTURES, TEST_MDS_BLOB, TEST_MDS_ROOT
from pkconf.tenant.attestation import Metadata
from pkconf.tenant.decision import RegistrationPath, UserContext
from pkconf.tenant.engine import decide
from pkconf.tenant.policy import Fido2Policy, load_policy
from pkconf.tenant.registration import MalformedRegistration, parse_registration

from .mutations import MUTATIONS, Hostile, Mutation
from .samples import SAMPLE_NAMES, sample

POLICIES = ("permissive", "attestation-enforced")  # fixtures/policies/<name>.json
USER = UserContext(user_id="hostile", mfa_age_seconds=30)  # in scope, freshly signed in


@cache
def policy(name: str) -> Fido2Policy:
    return load_policy((FIXTURES / "policies" / f"{name}.json").read_text())


@cache
def metadata() -> Metadata | None:
    return read_metadata(str(TEST_MDS_BLOB), str(TEST_MDS_ROOT))


@dataclass(frozen=True)
class Input:
    """One hostile response: a mutation of a sample."""

    mutation: Mutation
    sample: str

    @property
    def id(self) -> str:
        return f"{self.mutation.case}: {self.mutation.title} [{self.sample}]"

    @property
    def policies(self) -> tuple[str, ...]:
        return POLICIES[1:] if self.mutation.enforced_only else POLICIES


def inputs() -> Iterator[Input]:
    """Every applicable (mutation, sample) pair, known without building a sample."""
    for mutation in MUTATIONS:
        for name in SAMPLE_NAMES:
            if mutation.applies_to(name):
                yield Input(mutation, name)


@dataclass(frozen=True)
class Verdict:
    """How one judgement ended: rejected (with its reason), refused, accepted or exception."""

    outcome: str
    reason: str
    seconds: float


def judge(item: Input, policy_name: str, response: Any | None = None) -> Verdict:
    """Decide the hostile response under one policy; an unexpected exception is a verdict."""
    started = time.perf_counter()
    try:
        if response is None:
            response = item.mutation.make(Hostile(sample(item.sample)))
        registration = parse_registration(response)
        decision = decide(policy(policy_name), USER, RegistrationPath.SELF_SERVICE, registration,
                          sample(item.sample).ceremony, metadata=metadata())
        outcome, reason = str(decision.outcome), str(decision.reason)
    except (MalformedRegistration, UsageError) as e:
        outcome, reason = "refused", str(e)
    except Exception as e:  # the invariant's subject: reported, never swallowed
        outcome, reason = "exception", "".join(traceback.format_exception_only(e)).strip()
    return Verdict(outcome, reason, time.perf_counter() - started)


def run() -> dict[str, Any]:
    """Judge every input under its policies and return the figures."""
    counts: Counter[str] = Counter()
    faults: list[str] = []
    slowest = (0.0, "")
    items = list(inputs())
    metadata()  # loaded once before the clock runs on any input
    for item in items:
        response = item.mutation.make(Hostile(sample(item.sample)))
        for name in item.policies:
            verdict = judge(item, name, response)
            counts[verdict.outcome] += 1
            if verdict.seconds > slowest[0]:
                slowest = (verdict.seconds, f"{item.id} under {name}")
            if verdict.outcome in ("accepted", "exception"):
                faults.append(f"{verdict.outcome.upper()} {item.id} under {name}: "
                              f"{verdict.reason}")
    return {"inputs": len(items), "judgements": sum(counts.values()),
            "rejected": counts["rejected"], "refused": counts["refused"],
            "accepted": counts["accepted"], "exceptions": counts["exception"],
            "slowest": slowest, "faults": faults}


def main() -> int:
    started = time.perf_counter()
    figures = run()
    seconds, which = figures["slowest"]
    print(f"hostile battery: {figures['inputs']} inputs ({len(MUTATIONS)} mutations of "
          f"{len(SAMPLE_NAMES)} samples), {figures['judgements']} judgements under "
          f"{', '.join(POLICIES)}")
    print(f"  rejected {figures['rejected']}, refused {figures['refused']}, accepted "
          f"{figures['accepted']}, exceptions {figures['exceptions']}")
    print(f"  slowest input {seconds * 1000:.1f} ms: {which}")
    print(f"  total {time.perf_counter() - started:.1f} s")
    for fault in figures["faults"]:
        print(f"  {fault}")
    return 1 if figures["faults"] else 0


if __name__ == "__main__":
    sys.exit(main())
