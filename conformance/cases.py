"""Conformance cases: expectations written as data in `fixtures/`, read into runnable instances.

A case file (`fixtures/cases/<area>.toml`) holds rows; each row names a policy, a user state,
one or more authenticator profiles and ceremonies, and the decision Entra is expected to make,
with the documentation it follows. A row expands into one instance per (profile, ceremony),
identified as `KR-BLOCK-004[yubikey-5-nfc-iphone/ctap]`.

Only the suite reads these files; the emulator and the decision engine never do.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies.ctap import VARIATIONS
from pkconf.ceremonies.result import ClientError
from pkconf.paths import FIXTURES
from pkconf.tenant.decision import Outcome
from pkconf.tenant.rules import Family, Reason, rule

CASES_DIR = FIXTURES / "cases"
POLICIES_DIR = FIXTURES / "policies"
USERS_FILE = FIXTURES / "users.toml"
# ctap: self-service, python-fido2 client; graph: admin provisioning through Graph;
# browser: Chromium on the Security-info page with the profile's authenticator bridged in;
# browser-cdp: Chromium with its own CDP virtual authenticator configured from the profile.
CEREMONIES = ("ctap", "graph", "browser", "browser-cdp")
CONVEYANCES = ("none", "indirect", "direct", "enterprise")
STATUSES = ("documented", "inferred", "undocumented")
CLIENT_FAMILY = ClientError.FAMILY  # a client-error never reached the tenant: the browser refused
_DOM_EXCEPTION = re.compile(r"^[A-Z][A-Za-z]*Error$")
_CASE_ID = re.compile(r"^[A-Z]{2,5}(-[A-Z0-9]+)*-\d{3,}$")


class CaseError(ValueError):
    """A case file that cannot be used; the message names the file and the case."""


class Verdict(StrEnum):
    """The outcome a case expects: the tenant's two, and two only the suite knows."""

    ACCEPTED = Outcome.ACCEPTED.value
    REJECTED = Outcome.REJECTED.value
    CLIENT_ERROR = ClientError.OUTCOME  # the browser refused before the tenant saw anything
    RECORDED = "recorded"  # an own-policy run: the decision is recorded, not compared


OUTCOMES = (Verdict.ACCEPTED.value, Verdict.REJECTED.value, Verdict.CLIENT_ERROR.value)


@dataclass(frozen=True)
class Expectation:
    """A decision as a case states it; the runner states the tenant's the same way to compare."""

    outcome: Verdict
    family: Family | None  # None: accepted, a client error (family "client") or recorded
    reason: Reason | str  # a DOMException name for a client error; "" when recorded

    @classmethod
    def decided(cls, reason: Reason) -> Expectation:
        """The tenant deciding `reason`: accepted, or rejected in the rule's family."""
        outcome = Verdict.ACCEPTED if reason is Reason.ACCEPTED else Verdict.REJECTED
        return cls(outcome, rule(reason).family, reason)

    @property
    def family_name(self) -> str | None:
        """The family as results and reports name it, the cases' own "client" included."""
        if self.outcome is Verdict.CLIENT_ERROR:
            return CLIENT_FAMILY
        return self.family.value if self.family else None

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome.value, "family": self.family_name,
                "reason": str(self.reason)}


@dataclass(frozen=True)
class Source:
    fact: str  # the entra-facts.md section (or other document) the expectation follows
    url: str
    status: str  # documented | inferred | undocumented


@dataclass(frozen=True)
class Tap:
    is_usable_once: bool
    age_seconds: float


@dataclass(frozen=True)
class UserState:
    """Who registers: set up in the emulator before the ceremony."""

    name: str
    user_type: str = "Member"
    groups: tuple[str, ...] = ()  # group names; the runner creates fresh groups per case
    mfa_age_seconds: float | None = 60.0  # None: no MFA sign-in
    tap: Tap | None = None
    whfb: bool = False  # a Windows Hello for Business credential exists in the same container


@dataclass(frozen=True)
class Case:
    """One runnable instance: a row of a case file for one profile and one ceremony."""

    case_id: str
    area: str
    title: str
    policy_name: str
    policy: Mapping[str, Any]  # Graph JSON; target ids other than all_users are group names
    user: UserState
    profile: str
    ceremony: str
    expect: Expectation
    source: Source
    variation: str | None = None
    conveyance: str | None = None  # browser ceremonies: override the page's attestation
    file: str = ""
    tags: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.case_id}[{self.profile}/{self.ceremony}]"


def _require(cond: bool, where: str, msg: str) -> None:
    if not cond:
        raise CaseError(f"{where}: {msg}")


def load_users(path: Path = USERS_FILE) -> dict[str, UserState]:
    """Named user states (fixtures/users.toml)."""
    data = _toml(path)
    users = {}
    for name, row in data.items():
        where = f"{path.name} [{name}]"
        _require(isinstance(row, dict), where, "must be a table")
        tap = row.get("tap")
        if tap is not None:
            _require(isinstance(tap, dict) and isinstance(tap.get("isUsableOnce"), bool)
                     and isinstance(tap.get("ageSeconds"), int | float), where,
                     "tap must be {isUsableOnce = bool, ageSeconds = number}")
            tap = Tap(tap["isUsableOnce"], float(tap["ageSeconds"]))
        mfa = row.get("mfaAgeSeconds", "none")
        _require(mfa == "none" or isinstance(mfa, int | float), where,
                 'mfaAgeSeconds must be a number or "none"')
        user_type = row.get("userType", "Member")
        _require(user_type in ("Member", "Guest"), where, "userType must be Member or Guest")
        groups = row.get("groups", [])
        _require(isinstance(groups, list) and all(isinstance(g, str) for g in groups), where,
                 "groups must be a list of group names")
        users[name] = UserState(name=name, user_type=user_type, groups=tuple(groups),
                                mfa_age_seconds=None if mfa == "none" else float(mfa), tap=tap,
                                whfb=bool(row.get("windowsHelloForBusiness", False)))
    return users


def load_policy_file(name: str, patch: Mapping[str, Any] | None = None) -> dict[str, Any]:
    path = POLICIES_DIR / name
    try:
        policy = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise CaseError(f"policy {name}: {e}") from None
    if patch:
        policy = {**policy, **copy.deepcopy(dict(patch))}
    return policy


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise CaseError(f"{path.name}: {e}") from None


def _expectation(row: Mapping[str, Any], where: str) -> Expectation:
    expect = row.get("expect")
    _require(isinstance(expect, dict), where, "expect = {outcome, family, reason} is required")
    outcome, family, reason = expect.get("outcome"), expect.get("family"), expect.get("reason")
    _require(outcome in OUTCOMES, where, f"expect.outcome must be one of {OUTCOMES}")
    if outcome == Verdict.ACCEPTED:
        _require(reason in (None, Reason.ACCEPTED) and family in (None, ""), where,
                 "an accepted expectation has no family and reason ACCEPTED")
        return Expectation.decided(Reason.ACCEPTED)
    if outcome == Verdict.CLIENT_ERROR:
        _require(family == CLIENT_FAMILY and isinstance(reason, str)
                 and bool(_DOM_EXCEPTION.match(reason)), where,
                 f"a client-error has family '{CLIENT_FAMILY}' and a DOMException name as reason")
        return Expectation(Verdict.CLIENT_ERROR, None, str(reason))
    _require(family in tuple(Family), where, f"unknown family {family!r}")
    _require(reason in tuple(Reason) and reason != Reason.ACCEPTED, where,
             f"unknown reason {reason!r}")
    expectation = Expectation.decided(Reason(str(reason)))
    _require(expectation.family == family, where, f"{reason} is in family "
                                                  f"{expectation.family}, not {family!r}")
    return expectation


def _source(row: Mapping[str, Any], where: str) -> Source:
    src = row.get("source")
    _require(isinstance(src, dict) and all(isinstance(src.get(k), str) for k in
                                           ("fact", "url", "status")),
             where, "source = {fact, url, status} is required")
    _require(src["status"] in STATUSES, where, f"source.status must be one of {STATUSES}")
    return Source(src["fact"], src["url"], src["status"])


def load_case_file(path: Path, users: Mapping[str, UserState]) -> list[Case]:
    data = _toml(path)
    area = data.get("area")
    _require(isinstance(area, str), path.name, "area = \"...\" is required")
    rows = data.get("case", [])
    _require(isinstance(rows, list) and rows, path.name, "no [[case]] rows")
    cases = []
    for row in rows:
        case_id = row.get("id", "?")
        where = f"{path.name} {case_id}"
        _require(isinstance(case_id, str) and bool(_CASE_ID.match(case_id)), where,
                 "id must look like KR-BLOCK-004")
        _require(isinstance(row.get("title"), str), where, "title is required")
        policy_name = row.get("policy")
        _require(isinstance(policy_name, str), where, "policy (a file in fixtures/policies)")
        policy = load_policy_file(policy_name, row.get("patch"))
        user = users.get(row.get("user", "member-fresh-mfa"))
        _require(user is not None, where, f"unknown user state {row.get('user')!r}")
        profiles = row.get("profiles")
        _require(isinstance(profiles, list) and profiles, where, "profiles = [...] is required")
        for name in profiles:
            _require(name in PROFILES, where, f"unknown profile {name!r}")
        ceremonies = row.get("ceremonies", ["ctap"])
        _require(all(c in CEREMONIES for c in ceremonies), where,
                 f"ceremonies must be among {CEREMONIES}")
        variation = row.get("variation")
        _require(variation is None or variation in VARIATIONS, where,
                 f"unknown variation {variation!r}")
        conveyance = row.get("conveyance")
        _require(conveyance is None or conveyance in CONVEYANCES, where,
                 f"conveyance must be one of {CONVEYANCES}")
        expect, source = _expectation(row, where), _source(row, where)
        for profile in profiles:
            for ceremony in ceremonies:
                cases.append(Case(
                    case_id=case_id, area=area, title=row["title"], policy_name=policy_name,
                    policy=policy, user=user, profile=profile, ceremony=ceremony,
                    expect=expect, source=source, variation=variation, conveyance=conveyance,
                    file=f"fixtures/cases/{path.name}",
                    tags=tuple(row.get("tags", ())),
                ))
    return cases


def load_cases(paths: Iterable[Path] | None = None) -> list[Case]:
    """Every case instance; ids are unique across files."""
    users = load_users()
    cases: list[Case] = []
    for path in sorted(paths if paths is not None else CASES_DIR.glob("*.toml")):
        cases.extend(load_case_file(path, users))
    seen: dict[str, str] = {}
    for case in cases:
        _require(case.id not in seen, case.file,
                 f"instance {case.id} is also in {seen.get(case.id)}")
        seen[case.id] = case.file
    return cases
