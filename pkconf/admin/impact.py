"""What a policy change does to a tenant's users, before it ships.

Registration: each authenticator profile registers once with its software authenticator (one
response serves both paths: the ceremony is the same, only the path's rules differ); then the
pure `decide()` judges it for every user class under the current and the proposed policy.
Classes that the policy cannot tell apart share one decision, so 50,000 users cost as much as
their few distinct combinations of targeted groups.

Sign-in: passkeys users already have are re-judged by what Entra re-evaluates at sign-in —
the method's state, exclusion, targeting, key restrictions and passkey type — and not by
attestation (entra-facts §2).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from fido2.client import ClientError
from fido2.utils import websafe_encode

from ..authenticators.files import resolve_profile
from ..authenticators.profiles import PROFILES, Profile
from ..ceremonies.ctap import make_credential
from ..ceremonies.result import CeremonyResult
from ..tenant import rules
from ..tenant.attestation import Metadata
from ..tenant.decision import (
    CeremonyContext,
    Decision,
    IssuedChallenge,
    RegistrationPath,
    UserContext,
)
from ..tenant.engine import decide
from ..tenant.policy import ALL_USERS, Fido2Policy
from ..tenant.registration import Registration, parse_registration
from ..tenant.rules import Reason, RuleBook
from .directory import Directory, RegisteredPasskey, UserClass

PATHS = (RegistrationPath.SELF_SERVICE, RegistrationPath.PROVISIONING)
FRESH_MFA_SECONDS = 60  # every class is decided as a member who has just done MFA
_CHALLENGE = b"pkconf-impact-challenge-32-bytes"


class Change(StrEnum):
    BLOCKED = "blocked"  # accepted now, rejected under the proposed policy
    ALLOWED = "allowed"  # rejected now, accepted under the proposed policy
    REASON = "reason-changed"  # rejected under both, for another reason


FAIL_ON: dict[str, frozenset[Change]] = {
    "blocked": frozenset({Change.BLOCKED}),
    "allowed": frozenset({Change.ALLOWED}),
    "any": frozenset(Change),
}


@dataclass(frozen=True)
class Row:
    """Users whose registration of one profile on one path changes the same way."""

    change: Change
    profile: str
    path: str  # a RegistrationPath, or "sign-in" for passkeys already registered
    before: Reason
    after: Reason
    users: tuple[str, ...]
    groups: dict[str, int]  # group display name (or id) -> users in this row
    detail: str = ""  # the proposed decision's detail, or the passkey's model

    def to_json(self, cap: int | None) -> dict[str, Any]:
        return {"change": str(self.change), "profile": self.profile, "path": self.path,
                "before": str(self.before), "after": str(self.after),
                "userCount": len(self.users), "groups": self.groups,
                "users": list(self.users[:cap]), "detail": self.detail}


@dataclass
class Impact:
    registration: list[Row]
    sign_in: list[Row]
    users: int  # users (or policy-derived classes) considered
    classes: int
    profiles: tuple[str, ...]
    skipped: dict[str, str] = field(default_factory=dict)  # profile -> why it never registers
    unmatched: tuple[str, ...] = ()  # registered-passkey users not in the directory
    book: RuleBook | None = None

    def changes(self) -> set[Change]:
        return {r.change for r in (*self.registration, *self.sign_in)}

    def fails(self, fail_on: str | None) -> bool:
        return bool(fail_on) and bool(self.changes() & FAIL_ON[fail_on or ""])

    def per_profile(self) -> dict[str, dict[str, int]]:
        """Users per profile and change (a user counted once per path it changes on)."""
        counts: dict[str, Counter[str]] = {}
        for row in self.registration:
            counts.setdefault(row.profile, Counter())[str(row.change)] += len(row.users)
        return {p: dict(c) for p, c in sorted(counts.items())}

    def to_json(self, cap: int | None = None) -> dict[str, Any]:
        return {
            "asOf": self.book.as_of.isoformat() if self.book else None,
            "cloud": str(self.book.cloud) if self.book else None,
            "users": self.users, "classes": self.classes, "profiles": list(self.profiles),
            "perProfile": self.per_profile(),
            "registration": [r.to_json(cap) for r in self.registration],
            "signIn": [r.to_json(cap) for r in self.sign_in],
            "skippedProfiles": self.skipped, "unmatchedUsers": list(self.unmatched),
        }


def chosen_profiles(names: Sequence[str] | None) -> list[Profile]:
    """The named profiles or authenticator files, else every profile that models a real
    product (not test-only)."""
    if not names:
        return [p for p in PROFILES.values() if not p.test_only]
    return [resolve_profile(n) for n in names]


def entra_options() -> dict[str, Any]:
    """Entra's creation options (one fixed challenge): every offline registration answers
    these, so one `ceremony_context` judges them all."""
    return {"publicKey": {
        "rp": {"id": rules.RP_ID, "name": "Microsoft"},
        "user": {"id": websafe_encode(b"impact"), "name": "impact@contoso.com",
                 "displayName": "pkconf impact"},
        "challenge": websafe_encode(_CHALLENGE),
        "pubKeyCredParams": [{"type": "public-key", "alg": a} for a in rules.SUPPORTED_ALGORITHMS],
        "authenticatorSelection": {"requireResidentKey": True, "userVerification": "required"},
        "attestation": "direct",
    }}


def ceremony_context(now: datetime) -> CeremonyContext:
    """The tenant's side of `entra_options()`: its challenge, issued `now`, still unused."""
    issued = IssuedChallenge(_CHALLENGE, now + timedelta(minutes=rules.CHALLENGE_TIMEOUT_MINUTES))
    return CeremonyContext(now=now, challenge=issued, rp_id=rules.RP_ID,
                           origins=rules.ALLOWED_ORIGINS)


def registrations(profiles: Iterable[Profile], now: datetime
                  ) -> tuple[dict[str, Registration], dict[str, str], CeremonyContext]:
    """One registration response per profile, made by its software authenticator against
    Entra's options, and the ceremony context that issued its challenge; profiles whose client
    refuses to register at all are returned with the client's reason."""
    options = entra_options()
    made: dict[str, Registration] = {}
    refused: dict[str, str] = {}
    for profile in profiles:
        try:
            made[profile.name] = parse_registration(
                make_credential(profile, options, CeremonyResult()))
        except ClientError as e:
            refused[profile.name] = f"the client refuses to register: {e}"
    return made, refused, ceremony_context(now)


def _target_ids(policy: Fido2Policy) -> frozenset[str]:
    return frozenset(t.id for t in (*policy.include_targets, *policy.exclude_targets))


class _Decider:
    """decide() once per policy, what the policy can see of a class, profile and path."""

    def __init__(self, registrations: dict[str, Registration], ceremony: CeremonyContext,
                 metadata: Metadata | None, book: RuleBook):
        self.registrations, self.ceremony = registrations, ceremony
        self.metadata, self.book = metadata, book
        self.cache: dict[tuple[Any, ...], Decision] = {}

    def __call__(self, policy: Fido2Policy, user: UserClass, profile: str,
                 path: RegistrationPath) -> Decision:
        seen = user.groups & _target_ids(policy)
        key = (id(policy), seen, user.user_type, profile, path)
        if key not in self.cache:
            context = UserContext(user_type=user.user_type, groups=seen,
                                  mfa_age_seconds=FRESH_MFA_SECONDS)
            self.cache[key] = decide(policy, context, path, self.registrations[profile],
                                     self.ceremony, metadata=self.metadata, book=self.book)
        return self.cache[key]


def _change(before: Decision | Reason, after: Decision | Reason) -> Change | None:
    was, now = (d.reason if isinstance(d, Decision) else d for d in (before, after))
    if was is now:
        return None
    if was is Reason.ACCEPTED:
        return Change.BLOCKED
    return Change.ALLOWED if now is Reason.ACCEPTED else Change.REASON


def _group_counts(classes: Iterable[tuple[UserClass, int]],
                  names: dict[str, str]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for user_class, count in classes:
        for gid in user_class.groups:
            counts[names.get(gid, gid)] += count
    return dict(sorted(counts.items()))


def registration_rows(current: Fido2Policy, proposed: Fido2Policy, classes: list[UserClass],
                      profiles: Sequence[str], decider: _Decider,
                      names: dict[str, str]) -> list[Row]:
    """Every class × profile × path whose decision differs, merged into one row per profile,
    path and change of reason."""
    merged: dict[tuple[Any, ...], tuple[list[UserClass], Decision]] = {}
    for profile in profiles:
        for path in PATHS:
            for user_class in classes:
                before = decider(current, user_class, profile, path)
                after = decider(proposed, user_class, profile, path)
                if change := _change(before, after):
                    key = (change, profile, str(path), before.reason, after.reason)
                    merged.setdefault(key, ([], after))[0].append(user_class)
    return [Row(change, profile, path, was, now,
                tuple(sorted(u for c in members for u in c.users)),
                _group_counts(((c, len(c)) for c in members), names), after.detail)
            for (change, profile, path, was, now), (members, after) in merged.items()]


def sign_in_reason(policy: Fido2Policy, principals: frozenset[str],
                   passkey: RegisteredPasskey) -> Reason:
    """Whether an existing passkey still signs in, by what Entra re-evaluates at sign-in
    (not attestation, entra-facts §2); a passkey without a passkeyType is not judged on it."""
    if not policy.enabled:
        return Reason.METHOD_DISABLED
    principals = principals | {ALL_USERS}
    if policy.excluded(principals):
        return Reason.USER_EXCLUDED
    targets = policy.matching_targets(principals)
    if not targets:
        return Reason.USER_NOT_TARGETED
    failures = []
    for profile in policy.scoped_profiles(targets):
        restrictions = profile.key_restrictions
        if passkey.passkey_type and passkey.passkey_type not in profile.passkey_types:
            failures.append(Reason.PASSKEY_TYPE_NOT_ALLOWED)
        elif not restrictions.admits(passkey.aaguid):
            failures.append(Reason.AAGUID_NOT_ALLOWED if restrictions.enforcement_type == "allow"
                            else Reason.AAGUID_BLOCKED)
        else:
            return Reason.ACCEPTED
    return failures[0] if failures else Reason.NO_PASSKEY_PROFILE


def sign_in_rows(current: Fido2Policy, proposed: Fido2Policy, directory: Directory,
                 registered: dict[str, tuple[RegisteredPasskey, ...]]
                 ) -> tuple[list[Row], tuple[str, ...]]:
    """Existing passkeys whose sign-in changes, one row per model, change and reason; and the
    registered users the directory does not know."""
    merged: dict[tuple[Any, ...], list[tuple[str, frozenset[str]]]] = {}
    unmatched = []
    for key, passkeys in registered.items():
        user = directory.find(key)
        if user is None:
            unmatched.append(key)
            continue
        principals = user.groups | {user.id}
        for passkey in passkeys:
            before = sign_in_reason(current, principals, passkey)
            after = sign_in_reason(proposed, principals, passkey)
            if change := _change(before, after):
                row = (change, passkey.model or passkey.aaguid, passkey.aaguid, before, after)
                merged.setdefault(row, []).append((user.name, principals & (
                    _target_ids(current) | _target_ids(proposed))))
    rows = []
    for (change, model, aaguid, before, after), users in merged.items():
        groups: Counter[str] = Counter(directory.group_names.get(g, g)
                                       for _, gs in users for g in gs)
        rows.append(Row(change, model, "sign-in", before, after,
                        tuple(sorted({name for name, _ in users})),
                        dict(sorted(groups.items())), f"AAGUID {aaguid}"))
    return rows, tuple(sorted(unmatched))


def impact(current: Fido2Policy, proposed: Fido2Policy, classes: list[UserClass],
           profiles: Sequence[Profile], *, directory: Directory | None = None,
           registered: dict[str, tuple[RegisteredPasskey, ...]] | None = None,
           metadata: Metadata | None = None, book: RuleBook | None = None,
           now: datetime | None = None) -> Impact:
    """The whole comparison (module doc); rows in a stable order for diffs and tests."""
    book = book or RuleBook.today()
    made, refused, ceremony = registrations(profiles, now or datetime.now(UTC))
    names = directory.group_names if directory else {}
    decider = _Decider(made, ceremony, metadata, book)
    rows = registration_rows(current, proposed, classes, list(made), decider, names)
    signed, unmatched = (sign_in_rows(current, proposed, directory, registered)
                         if directory is not None and registered else ([], ()))
    order = list(PROFILES)

    paths = [str(p) for p in PATHS]

    def position(row: Row) -> tuple[Any, ...]:
        return (list(Change).index(row.change),
                order.index(row.profile) if row.profile in order else len(order),
                row.profile, paths.index(row.path) if row.path in paths else 0,
                row.before, row.after)

    return Impact(sorted(rows, key=position), sorted(signed, key=position),
                  sum(len(c) for c in classes), len(classes),
                  tuple(p.name for p in profiles), refused, unmatched, book)
