"""`pkconf lint`: what Graph would refuse in a passkey (FIDO2) policy, and what does not do what
it seems to, before the change ships.

Each finding carries a stable code (what people cite in a review), a severity, the JSON path it
is about and the rule it follows (entra-facts section, documentation, documented or inferred).
The checks read the raw JSON rather than the parsed model, so a policy the model refuses (more
than 3 profiles, a target naming a missing profile, over 20 KB) is still linted; every problem
the model refuses besides those is a LINT-INVALID finding with its path.

Severities: `error`, Graph refuses the policy or it shuts out users or an authenticator it
evidently means to admit; `warning`, part of it does nothing, or something other than it says;
`advice`, it works as written but protects less than it looks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..inputs import FIDO2_ODATA_TYPE, fido2_configuration
from ..tenant.policy import (
    ALL_USERS,
    DEVICE_BOUND,
    FUTURE_VALUE_READING,
    PASSKEY_TYPES,
    SYNCED,
    UNKNOWN_FUTURE_VALUE,
    PolicyError,
    parse_policy,
)
from ..tenant.rules import (
    G1,
    G2,
    MAX_POLICY_BYTES,
    MAX_PROFILES,
    S1,
    S2,
    WINDOWS_HELLO_AAGUIDS,
    WINDOWS_HELLO_GA,
    Reason,
    Rule,
    RuleBook,
    Status,
)


class Lint(StrEnum):
    """The finding codes: stable ids, so a review can cite one."""

    INVALID = "LINT-INVALID"
    TOO_LARGE = "LINT-TOO-LARGE"
    TOO_MANY_PROFILES = "LINT-TOO-MANY-PROFILES"
    MISSING_PROFILE = "LINT-MISSING-PROFILE"
    EVERYONE_EXCLUDED = "LINT-EVERYONE-EXCLUDED"
    WINDOWS_HELLO_ATTESTED = "LINT-WINDOWS-HELLO-ATTESTED"
    SYNCED_ATTESTED = "LINT-SYNCED-ATTESTED"
    EMPTY_PROFILE_LIST = "LINT-EMPTY-PROFILE-LIST"
    UNUSED_PROFILE = "LINT-UNUSED-PROFILE"
    INCLUDED_AND_EXCLUDED = "LINT-INCLUDED-AND-EXCLUDED"
    SELF_SERVICE_OFF = "LINT-SELF-SERVICE-OFF"
    FUTURE_VALUE = "LINT-FUTURE-VALUE"
    SELF_ASSERTED_AAGUIDS = "LINT-SELF-ASSERTED-AAGUIDS"


class Severity(StrEnum):
    """Listed most severe first; an error-level finding fails the lint (exit 1)."""

    ERROR = "error"
    WARNING = "warning"
    ADVICE = "advice"


RANK = {s: i for i, s in enumerate(Severity)}


@dataclass(frozen=True)
class Source:
    """The rule a finding follows; `rule` and `version` when it is a rule of the decider's book,
    so the finding and the decisions the policy will get cite the same thing."""

    fact: str
    url: str
    status: Status
    rule: str = ""
    version: str = ""

    @classmethod
    def of(cls, rule: Rule) -> Source:
        return cls(rule.fact, rule.url, rule.status, str(rule.reason), rule.version)

    def to_json(self) -> dict[str, str]:
        out = {"fact": self.fact, "url": self.url, "status": str(self.status)}
        return out | ({"rule": self.rule, "version": self.version} if self.rule else {})


DOC, INF = Status.DOCUMENTED, Status.INFERRED
# Each code's severity and the rule it follows: a Reason is the decider's rule as the day's book
# holds it. Windows Hello's severity follows the book (see _windows_hello_attested).
CATALOG: dict[Lint, tuple[Severity, Source | Reason]] = {
    Lint.INVALID: (Severity.ERROR, Source("§1.1 fido2AuthenticationMethodConfiguration", G1, DOC)),
    Lint.TOO_LARGE: (Severity.ERROR, Source("§2 Size limit", S2, DOC)),
    Lint.TOO_MANY_PROFILES: (Severity.ERROR, Source("§2 How many", S2, DOC)),
    # [INFERRED] a profile cannot be deleted while a target has it assigned (S2), so Graph keeps
    # target references whole; the model refuses a dangling one likewise
    Lint.MISSING_PROFILE: (Severity.ERROR,
                           Source("§1.4 allowedPasskeyProfiles; §2 Deleting a profile", S2, INF)),
    Lint.EVERYONE_EXCLUDED: (Severity.ERROR, Reason.USER_EXCLUDED),
    Lint.WINDOWS_HELLO_ATTESTED: (Severity.ERROR, Reason.WINDOWS_HELLO_ATTESTATION_ENFORCED),
    Lint.SYNCED_ATTESTED: (Severity.WARNING, Reason.PASSKEY_TYPE_NOT_ALLOWED),
    Lint.EMPTY_PROFILE_LIST: (Severity.WARNING, Reason.NO_PASSKEY_PROFILE),
    Lint.UNUSED_PROFILE: (Severity.WARNING, Source("§2 Mapping users to profiles", S2, DOC)),
    Lint.INCLUDED_AND_EXCLUDED: (Severity.WARNING, Reason.USER_EXCLUDED),
    Lint.SELF_SERVICE_OFF: (Severity.WARNING, Reason.SELF_SERVICE_DISABLED),
    Lint.FUTURE_VALUE: (Severity.WARNING,
                        Source("§1.3 passkeyProfile enums (unknownFutureValue)", G2, INF)),
    Lint.SELF_ASSERTED_AAGUIDS: (Severity.ADVICE,
                                 Source("§2 What a profile controls; §4 AAGUID when not "
                                        "enforced", S1, DOC)),
}
# What the model refuses too: its problem at the same path is this finding, not a second one
MODEL_REFUSES = frozenset({Lint.TOO_MANY_PROFILES, Lint.MISSING_PROFILE})
# The configuration's own fields (entra-facts §1.1): an object with none of them is no policy
FIDO2_FIELDS = frozenset({"state", "isSelfServiceRegistrationAllowed", "isAttestationEnforced",
                          "keyRestrictions", "defaultPasskeyProfile", "includeTargets",
                          "excludeTargets", "passkeyProfiles"})


class NotAPolicy(ValueError):
    """JSON that is no passkey policy at all: unusable input, not a finding."""


@dataclass(frozen=True)
class Finding:
    code: Lint
    severity: Severity
    path: str
    message: str
    source: Source

    def to_json(self) -> dict[str, Any]:
        return {"code": str(self.code), "severity": str(self.severity), "path": self.path,
                "message": self.message, "source": self.source.to_json()}


@dataclass(frozen=True)
class _Profile:
    """One profile as the checks read it (the legacy form's global settings are one, at `$`)."""

    path: str
    id: str | None
    types: frozenset[str]
    attested: bool
    attestation_path: str
    restrictions: Mapping[str, Any]
    restrictions_path: str

    def allow_list(self) -> frozenset[str]:
        """The AAGUIDs an allow list names, lower-case (enforced or not: they show intent)."""
        kind = _reading(self.restrictions.get("enforcementType"), "enforcementType")
        listed = self.restrictions.get("aaGuids")
        if kind != "allow" or not isinstance(listed, list):
            return frozenset()
        return frozenset(a.lower() for a in listed if isinstance(a, str))


@dataclass(frozen=True)
class _View:
    """The policy's raw JSON, read tolerantly: a value of the wrong type is the model's problem
    (LINT-INVALID), and the checks pass over it."""

    file: Mapping[str, Any]  # the whole file: a fido2 configuration or the methods policy
    config: Mapping[str, Any]  # the fido2 configuration
    root: str  # its JSON path in the file
    book: RuleBook
    legacy: bool
    profiles: tuple[_Profile, ...]
    include: tuple[tuple[str, Mapping[str, Any]], ...]
    exclude: tuple[tuple[str, Mapping[str, Any]], ...]

    def finding(self, code: Lint, path: str, message: str,
                severity: Severity | None = None) -> Finding:
        default, source = CATALOG[code]
        if isinstance(source, Reason):
            source = Source.of(self.book.rule(source))
        return Finding(code, severity or default, path, message, source)


def _ids(targets: tuple[tuple[str, Mapping[str, Any]], ...]) -> dict[str, str]:
    """Target id → the path of its first entry."""
    out: dict[str, str] = {}
    for path, t in targets:
        if isinstance(t.get("id"), str):
            out.setdefault(t["id"], path)
    return out


def _reading(value: Any, key: str) -> Any:
    """A value as the model reads it: unknownFutureValue as its strictest known reading."""
    return FUTURE_VALUE_READING[key] if value == UNKNOWN_FUTURE_VALUE else value


def _objects(obj: Mapping[str, Any], key: str, path: str) -> list[tuple[str, Mapping[str, Any]]]:
    items = obj.get(key)
    return ([(f"{path}.{key}[{i}]", item) for i, item in enumerate(items)
             if isinstance(item, Mapping)] if isinstance(items, list) else [])


def _mapping(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, Mapping) else {}


def _profiles(config: Mapping[str, Any], root: str, legacy: bool) -> tuple[_Profile, ...]:
    if legacy:  # one implicit profile; [DOC S1] attestation off: synced already enabled
        attested = config.get("isAttestationEnforced") is True
        return (_Profile(root, None, frozenset({DEVICE_BOUND} if attested else PASSKEY_TYPES),
                         attested, f"{root}.isAttestationEnforced",
                         _mapping(config, "keyRestrictions"), f"{root}.keyRestrictions"),)
    out = []
    for path, p in _objects(config, "passkeyProfiles", root):
        types = p.get("passkeyTypes")
        out.append(_Profile(
            path, p["id"] if isinstance(p.get("id"), str) else None,
            frozenset(t.strip() for t in types.split(",")) if isinstance(types, str)
            else frozenset(),
            _reading(p.get("attestationEnforcement"), "attestationEnforcement")
            == "registrationOnly",
            f"{path}.attestationEnforcement", _mapping(p, "keyRestrictions"),
            f"{path}.keyRestrictions"))
    return tuple(out)


def policy_configuration(obj: Any) -> tuple[Mapping[str, Any], str]:
    """The fido2 configuration a policy file holds and its JSON path, found as every command
    finds it (`inputs.fido2_configuration`); NotAPolicy when the JSON is no passkey policy."""
    try:
        config, root = fido2_configuration(obj)
    except PolicyError as e:
        raise NotAPolicy("is not usable: " + "; ".join(f"{p}: {m}" for p, m in e.problems)
                         ) from None
    if not isinstance(config, Mapping):
        raise NotAPolicy("is not a JSON object, so not a passkey (FIDO2) policy")
    kind = config.get("@odata.type")
    if kind == FIDO2_ODATA_TYPE or (kind is None and FIDO2_FIELDS & config.keys()):
        return config, root
    raise NotAPolicy(f"is not a fido2AuthenticationMethodConfiguration "
                     f"({'@odata.type ' + repr(kind) if kind else 'none of its fields'})")


def lint(obj: Any, book: RuleBook) -> list[Finding]:
    """Every finding for a policy file's JSON, most severe first, in the order checked within a
    severity. Raises NotAPolicy when the JSON is no passkey policy at all."""
    config, root = policy_configuration(obj)
    legacy = config.get("passkeyProfiles") is None
    view = _View(obj, config, root, book, legacy, _profiles(config, root, legacy),
                 tuple(_objects(config, "includeTargets", root)),
                 tuple(_objects(config, "excludeTargets", root)))
    found = [f for check in CHECKS for f in check(view)]
    covered = {f.path for f in found if f.code in MODEL_REFUSES}
    if not any(f.code is Lint.TOO_LARGE for f in found):  # over 20 KB the model reads no further
        found += [f for f in _model(view) if f.path not in covered]
    return sorted(found, key=lambda f: RANK[f.severity])


def exit_code(findings: list[Finding]) -> int:
    """1 when any finding is an error, else 0."""
    return int(any(f.severity is Severity.ERROR for f in findings))


def _model(view: _View) -> Iterator[Finding]:
    """What the decider's model refuses (each problem), or reads only by inference."""
    def at(path: str) -> str:
        return view.root + path[1:]
    try:
        policy = parse_policy(view.config)
    except PolicyError as e:
        yield from (view.finding(Lint.INVALID, at(path), msg) for path, msg in e.problems)
        return
    yield from (view.finding(Lint.FUTURE_VALUE, at(path), msg) for path, msg in policy.warnings)


def _too_large(view: _View) -> Iterator[Finding]:
    size = len(json.dumps(view.file, separators=(",", ":")).encode())
    if size > MAX_POLICY_BYTES:
        yield view.finding(Lint.TOO_LARGE, "$", f"the policy is {size} bytes; the "
                           f"authentication methods policy may be at most {MAX_POLICY_BYTES} "
                           "bytes (20 KB)")


def _too_many_profiles(view: _View) -> Iterator[Finding]:
    profiles = view.config.get("passkeyProfiles")
    count = len(profiles) if isinstance(profiles, list) else 0
    if count > MAX_PROFILES:
        yield view.finding(Lint.TOO_MANY_PROFILES, f"{view.root}.passkeyProfiles",
                           f"{count} profiles; at most {MAX_PROFILES} are supported, the "
                           "default one included")


def _allowed(target: Mapping[str, Any]) -> list[Any] | None:
    allowed = target.get("allowedPasskeyProfiles")
    return allowed if isinstance(allowed, list) else None


def _missing_profiles(view: _View) -> Iterator[Finding]:
    if view.legacy:
        return
    known = {p.id for p in view.profiles}
    for path, t in view.include:
        for pid in _allowed(t) or ():
            if isinstance(pid, str) and pid not in known:
                yield view.finding(Lint.MISSING_PROFILE, f"{path}.allowedPasskeyProfiles",
                                   f"target {t.get('id')!r} names profile {pid!r}, which is "
                                   "not in passkeyProfiles")
    default = view.config.get("defaultPasskeyProfile")
    if isinstance(default, str) and default not in known:
        yield view.finding(Lint.MISSING_PROFILE, f"{view.root}.defaultPasskeyProfile",
                           f"names profile {default!r}, which is not in passkeyProfiles")


def _everyone_excluded(view: _View) -> Iterator[Finding]:
    excluded, included = _ids(view.exclude), _ids(view.include)
    if ALL_USERS in excluded:
        yield view.finding(Lint.EVERYONE_EXCLUDED, excluded[ALL_USERS],
                           "excludes all_users: exclusion wins over every include target, so "
                           "no one can register or sign in with a passkey")
    elif included and included.keys() <= excluded.keys():
        yield view.finding(Lint.EVERYONE_EXCLUDED, f"{view.root}.includeTargets",
                           "every include target is also excluded, and exclusion wins: no one "
                           "can register or sign in with a passkey")


def _included_and_excluded(view: _View) -> Iterator[Finding]:
    included = _ids(view.include)
    for group, path in _ids(view.exclude).items():
        if group != ALL_USERS and group in included:
            yield view.finding(Lint.INCLUDED_AND_EXCLUDED, path,
                               f"{group!r} is also included ({included[group]}); exclusion "
                               "wins, so the include does nothing for its members")


def _windows_hello_attested(view: _View) -> Iterator[Finding]:
    """Before GA in the tenant's cloud S4 documents the failure: an error. Since GA the book
    keeps it by inference ([NOT FOUND] under GA): a warning, since it may no longer hold."""
    rule = view.book.rule(Reason.WINDOWS_HELLO_ATTESTATION_ENFORCED)
    preview = rule.until is WINDOWS_HELLO_GA
    ga = WINDOWS_HELLO_GA.effective(view.book.cloud)
    when = (f"before Windows Hello passkeys are generally available in the {view.book.cloud} "
            f"cloud ({ga}), S4 says registration on Windows Hello fails" if preview else
            f"since GA ({ga}) the book keeps the preview's failure by inference: Windows Hello "
            "attests with tpm, and an enforcing profile accepts packed only")
    note = view.book.rollout_note(WINDOWS_HELLO_GA)
    for p in view.profiles:
        hello = sorted(p.allow_list() & WINDOWS_HELLO_AAGUIDS)
        if p.attested and hello:
            yield view.finding(Lint.WINDOWS_HELLO_ATTESTED, p.attestation_path,
                               f"allow-lists {len(hello)} Windows Hello AAGUID(s) and enforces "
                               f"attestation: {when}" + (f" ({note})" if note else ""),
                               Severity.ERROR if preview else Severity.WARNING)


def _synced_attested(view: _View) -> Iterator[Finding]:
    for p in view.profiles:
        if p.attested and SYNCED in p.types:
            admits = ("device-bound passkeys only" if p.types - {SYNCED}
                      else "no passkey at all")
            yield view.finding(Lint.SYNCED_ATTESTED, f"{p.path}.passkeyTypes",
                               "lists synced, but attestation is enforced and synced passkeys "
                               f"are excluded (C1): the profile admits {admits}")


def _self_asserted_aaguids(view: _View) -> Iterator[Finding]:
    for p in view.profiles:
        if not p.attested and p.restrictions.get("isEnforced") is True and p.allow_list():
            yield view.finding(Lint.SELF_ASSERTED_AAGUIDS, p.restrictions_path,
                               "an allow list without enforced attestation: an AAGUID is "
                               "self-asserted, so any authenticator can claim a listed one; "
                               "Microsoft: a 'policy guide rather than a strict security "
                               "control'")


def _empty_profile_lists(view: _View) -> Iterator[Finding]:
    for path, t in view.include:
        if not view.legacy and _allowed(t) == []:
            yield view.finding(Lint.EMPTY_PROFILE_LIST, f"{path}.allowedPasskeyProfiles",
                               f"target {t.get('id')!r} scopes no passkey profile: its members "
                               "cannot register (not padded with the default profile)")


def _unused_profiles(view: _View) -> Iterator[Finding]:
    """The default profile is exempt: it cannot be deleted (G1), so there is nothing to do."""
    if view.legacy:
        return
    used = {pid for _, t in view.include for pid in _allowed(t) or () if isinstance(pid, str)}
    default = view.config.get("defaultPasskeyProfile")
    for p in view.profiles:
        if p.id is not None and p.id not in used and p.id != default:
            yield view.finding(Lint.UNUSED_PROFILE, p.path, f"profile {p.id!r} is in no "
                               "target's allowedPasskeyProfiles: it applies to no one")


def _self_service_off(view: _View) -> Iterator[Finding]:
    if view.config.get("isSelfServiceRegistrationAllowed") is not False:
        return
    for path, t in view.include:
        if t.get("isRegistrationRequired") is True:
            yield view.finding(Lint.SELF_SERVICE_OFF, f"{path}.isRegistrationRequired",
                               f"target {t.get('id')!r} requires registration, but "
                               "isSelfServiceRegistrationAllowed is false: its members cannot "
                               "register a passkey through Security info")


CHECKS = (_too_large, _too_many_profiles, _missing_profiles, _everyone_excluded,
          _included_and_excluded, _windows_hello_attested, _synced_attested,
          _self_asserted_aaguids, _empty_profile_lists, _unused_profiles, _self_service_off)
