"""Running one case: lay it out in the tenant, drive its ceremony, compare the decision.

The comparison is the suite's assertion; a mismatch says which case, what was expected, what
the tenant decided, and the documentation the expectation follows, so a reader can tell whether
Entra (or the emulator) or the case is wrong.
"""

from __future__ import annotations

from typing import Any

from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies.ctap import Setup, register
from pkconf.ceremonies.result import CeremonyResult
from pkconf.ceremonies.tenant import TenantApi
from pkconf.tenant.decision import RegistrationPath
from pkconf.tenant.policy import ALL_USERS
from pkconf.tenant.rules import WINDOWS_HELLO_AAGUIDS

from .cases import Case, UserState

PATHS = {"ctap": RegistrationPath.SELF_SERVICE, "graph": RegistrationPath.PROVISIONING}
MISMATCH = "DECISION MISMATCH"  # the Allure category "Entra decided differently" keys on it
_WHFB_AAGUID = sorted(WINDOWS_HELLO_AAGUIDS)[0]


class DecisionMismatch(AssertionError):
    """The tenant decided otherwise than the case expects."""


def target_groups(policy: dict[str, Any]) -> set[str]:
    """Group names the policy targets (everything but all_users)."""
    return {t["id"] for key in ("includeTargets", "excludeTargets")
            for t in policy.get(key) or [] if isinstance(t, dict)
            and isinstance(t.get("id"), str) and t["id"] != ALL_USERS}


def sign_in_for(user: UserState) -> dict[str, Any]:
    if user.tap is not None:
        return {"method": "tap", "isUsableOnce": user.tap.is_usable_once,
                "ageSeconds": user.tap.age_seconds}
    if user.mfa_age_seconds is not None:
        return {"method": "mfa", "ageSeconds": user.mfa_age_seconds}
    return {"method": "password", "ageSeconds": 0}


def setup_for(case: Case) -> Setup:
    policy = dict(case.policy)
    return Setup(
        policy=policy,
        groups=tuple(sorted(target_groups(policy) | set(case.user.groups))),
        user_type=case.user.user_type,
        member_of=case.user.groups,
        sign_in=sign_in_for(case.user),
        existing=({"windowsHelloForBusiness": True, "aaGuid": _WHFB_AAGUID},)
        if case.user.whfb else (),
    )


def run_case(api: TenantApi, case: Case) -> CeremonyResult:
    return register(api, PROFILES[case.profile], setup_for(case), path=PATHS[case.ceremony],
                    variation=case.variation)


def actual(result: CeremonyResult) -> dict[str, Any]:
    d = result.decision
    return {"outcome": d.get("outcome"), "family": d.get("family"), "reason": d.get("reason")}


def check(case: Case, result: CeremonyResult) -> None:
    """Raise DecisionMismatch unless outcome, family and reason are all as expected."""
    got, want = actual(result), case.expect.as_dict()
    if got == want:
        return
    lines = [
        f"{MISMATCH} in {case.id}: {case.title}",
        f"  expected: {want['outcome']} {want['family'] or '-'} {want['reason']}",
        f"  actual:   {got['outcome']} {got['family'] or '-'} {got['reason']}"
        f" ({result.decision.get('detail', '')})",
        f"  source:   {case.source.fact} ({case.source.status}) {case.source.url}",
    ]
    if case.file:
        lines.append(f"  case file: fixtures/cases/{case.file}")
    raise DecisionMismatch("\n".join(lines))
