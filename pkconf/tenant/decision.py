"""What goes into a registration decision and what comes out of it.

Inputs are plain dataclasses so the emulator service, the `pkconf verify` command and the
unit tests all build them the same way; the output is a `Decision`, whose JSON form is the
one object `pkconf verify --json` prints and the emulator puts in a Graph error's inner error.
Whoever receives that JSON reads it back with `Decision.from_json`, once, where it arrives.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from .rules import VERSIONS, WINDOWS_HELLO_AAGUIDS, Cloud, Family, Reason, Rule, Status, rule


class Outcome(StrEnum):
    """What the tenant answers a registration attempt."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


class RegistrationPath(StrEnum):
    """How the credential reaches Entra."""

    SELF_SERVICE = "self-service"  # the user, on the Security info page
    GRAPH_ME = "graph-me"  # the user, through their own Graph client on /me
    PROVISIONING = "provisioning"  # an admin, through Graph POST fido2Methods


class UserType(StrEnum):
    MEMBER = "Member"
    GUEST = "Guest"


@dataclass(frozen=True)
class TemporaryAccessPass:
    """The Temporary Access Pass the user signed in with."""

    is_usable_once: bool
    age_seconds: float  # seconds since the TAP sign-in


@dataclass(frozen=True)
class ExistingCredential:
    """A passkey the user already has: its id, and for Windows, its container."""

    credential_id: bytes
    aaguid: str = ""
    windows_hello_for_business: bool = False  # a WHfB credential for the same account/container


class UserJsonError(ValueError):
    """A user's JSON that cannot be read; the one-line message names the JSON path."""


_USER_KEYS = ("id", "userType", "groups", "mfaAgeSeconds", "tap", "windowsHelloForBusiness",
              "inTapPolicy", "registrationInterrupt", "conditionalAccessUnmet",
              "platformCredentials")
_TAP_KEYS = ("isUsableOnce", "ageSeconds")
_KNOWN: dict[tuple[str, ...], frozenset[str]] = {keys: frozenset(keys)
                                                 for keys in (_USER_KEYS, _TAP_KEYS)}
# The AAGUID the Windows Hello for Business credential of `windowsHelloForBusiness` carries.
WHFB_AAGUID = sorted(WINDOWS_HELLO_AAGUIDS)[0]


# Bounds far beyond anything a decision counts, so no store or clock arithmetic overflows.
MAX_AGE_SECONDS = 100 * 365 * 86400
MAX_COUNT = 2**31 - 1


def _seconds(obj: dict[str, Any], key: str, where: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not 0 <= value <= MAX_AGE_SECONDS or not math.isfinite(value)):
        raise UserJsonError(f"{where}.{key} must be a number from 0 to {MAX_AGE_SECONDS}, "
                            f"or null")
    return float(value)


def _count(obj: dict[str, Any], key: str, where: str) -> int:
    value = obj.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise UserJsonError(f"{where}.{key} must be an integer from 0 to {MAX_COUNT}")
    return value


def _flag(obj: dict[str, Any], key: str, default: bool, where: str) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        raise UserJsonError(f"{where}.{key} must be true or false")
    return value


def _known_keys(obj: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    """A misspelt key would silently mean "no MFA" or "no TAP": it is an error instead."""
    known = _KNOWN[keys]
    if not obj.keys() <= known:
        raise UserJsonError(f"{where}.{sorted(obj.keys() - known)[0]} is unknown (known: "
                            f"{', '.join(keys)})")


@dataclass(frozen=True)
class UserContext:
    """The user as Entra sees them at registration time."""

    user_id: str = ""
    user_type: UserType = UserType.MEMBER
    groups: frozenset[str] = frozenset()
    mfa_age_seconds: float | None = None  # None: no MFA in this session
    tap: TemporaryAccessPass | None = None
    existing_credentials: tuple[ExistingCredential, ...] = ()
    # Bootstrap blockers (entra-facts §0); the defaults are a user none of them touches.
    in_tap_policy: bool = True  # the TAP policy includes the user: a TAP sign-in is possible
    registration_interrupt: bool = False  # in scope of the SSPR / ID Protection registration policy
    conditional_access_unmet: bool = False  # a CA policy on "Register security info" is unmet
    # All the user's platform credentials as Entra counts them (FIDO2 platform passkeys, WHfB,
    # Mac platform credentials): over 50 lifts the WHfB conflict (rules.py).
    platform_credentials: int = 0

    @classmethod
    def from_json(cls, obj: Any, where: str = "user") -> UserContext:
        """The one user vocabulary, read the same for USER.json, fixtures/users.toml and the
        emulator's scenario call: {"userType", "groups", "mfaAgeSeconds": number | null,
        "tap": null | {"isUsableOnce", "ageSeconds"}, "windowsHelloForBusiness", "id",
        "inTapPolicy", "registrationInterrupt", "conditionalAccessUnmet",
        "platformCredentials"}.

        Absent keys take their defaults (a Member, no groups, no MFA, no TAP, in the TAP
        policy, no registration interrupt, no unmet Conditional Access), which is how TOML,
        having no null, says null, and how files older than the bootstrap blockers stay valid.
        `windowsHelloForBusiness` stands for the WHfB credential such a user already has in the
        same container, as the engine sees it. Both `mfaAgeSeconds` and `tap` may be given: the
        session then has both sign-ins, and either may bootstrap.
        """
        if not isinstance(obj, dict):
            raise UserJsonError(f"{where} must be a JSON object")
        _known_keys(obj, _USER_KEYS, where)
        user_type = obj.get("userType", "Member")
        if not isinstance(user_type, str) or user_type not in _members(UserType):
            raise UserJsonError(f"{where}.userType must be Member or Guest, "
                                f"not {str(user_type)[:40]!r}")
        groups = obj.get("groups", [])
        if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
            raise UserJsonError(f"{where}.groups must be a list of group ids (or names)")
        user_id = obj.get("id", "")
        if not isinstance(user_id, str):
            raise UserJsonError(f"{where}.id must be a string")
        whfb = _flag(obj, "windowsHelloForBusiness", False, where)
        return cls(user_id=user_id, user_type=_members(UserType)[user_type],
                   groups=frozenset(groups),
                   mfa_age_seconds=_seconds(obj, "mfaAgeSeconds", where),
                   tap=_tap(obj.get("tap"), f"{where}.tap"),
                   existing_credentials=(ExistingCredential(b"", WHFB_AAGUID, True),)
                   if whfb else (),
                   in_tap_policy=_flag(obj, "inTapPolicy", True, where),
                   registration_interrupt=_flag(obj, "registrationInterrupt", False, where),
                   conditional_access_unmet=_flag(obj, "conditionalAccessUnmet", False, where),
                   platform_credentials=_count(obj, "platformCredentials", where))

    def to_json(self) -> dict[str, Any]:
        """The user in the vocabulary `from_json` reads (other existing credentials than
        Windows Hello for Business have no JSON form)."""
        return {
            **({"id": self.user_id} if self.user_id else {}),
            "userType": str(self.user_type),
            "groups": sorted(self.groups),
            "mfaAgeSeconds": self.mfa_age_seconds,
            "tap": None if self.tap is None else {"isUsableOnce": self.tap.is_usable_once,
                                                  "ageSeconds": self.tap.age_seconds},
            "windowsHelloForBusiness": any(c.windows_hello_for_business
                                           for c in self.existing_credentials),
            "inTapPolicy": self.in_tap_policy,
            "registrationInterrupt": self.registration_interrupt,
            "conditionalAccessUnmet": self.conditional_access_unmet,
            **({"platformCredentials": self.platform_credentials}
               if self.platform_credentials else {}),  # 0, the default, left out like id
        }


def _tap(tap: Any, where: str) -> TemporaryAccessPass | None:
    if tap is None:
        return None
    if not isinstance(tap, dict) or not isinstance(tap.get("isUsableOnce"), bool):
        raise UserJsonError(f"{where} must be null or {{isUsableOnce: bool, ageSeconds}}")
    _known_keys(tap, _TAP_KEYS, where)
    age = _seconds(tap, "ageSeconds", where)
    if age is None:
        raise UserJsonError(f"{where}.ageSeconds is required")
    return TemporaryAccessPass(tap["isUsableOnce"], age)


@dataclass(frozen=True)
class IssuedChallenge:
    """A challenge the relying party handed out, as the server remembers it."""

    value: bytes
    expires_at: datetime
    used: bool = False


@dataclass(frozen=True)
class CeremonyContext:
    """What the server expects of the ceremony: origin, RP ID, challenge, the clock."""

    now: datetime
    challenge: IssuedChallenge | None  # None: the clientData challenge was never issued
    rp_id: str
    origins: tuple[str, ...]


class DecisionFormatError(ValueError):
    """JSON that is not a decision `Decision.to_json()` writes; `field` names the bad field."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field


@dataclass(frozen=True)
class Decision:
    """Entra's (emulated) answer to one registration attempt, with the facts it used."""

    outcome: Outcome
    reason: Reason
    detail: str
    aaguid: str | None = None
    passkey_type: str | None = None  # deviceBound | synced
    attestation_format: str | None = None
    attestation_level: str | None = None  # attested | notAttested
    matched_profiles: tuple[str, ...] = ()
    profile_failures: Mapping[str, Reason] = field(default_factory=dict)  # profile id -> reason
    inferred: bool = False  # a documented rule applied where only an inference reaches
    as_of: date | None = None  # the day whose rule book decided; None: undated
    cloud: Cloud = Cloud.WORLDWIDE
    version: str = "original"  # which version of the reason's rule applied

    @property
    def rule(self) -> Rule:
        return rule(self.reason, self.version)

    @property
    def family(self) -> Family | None:
        return self.rule.family if self.outcome is Outcome.REJECTED else None

    @property
    def status(self) -> Status:
        """The rule's status, or inferred where this application of it rests on an inference."""
        return Status.INFERRED if self.inferred else self.rule.status

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED

    def to_json(self) -> dict[str, Any]:
        """The decision as one JSON object (field names in Graph's camelCase)."""
        return {
            "outcome": str(self.outcome),
            "family": str(self.family) if self.family else None,
            "reason": str(self.reason),
            "detail": self.detail,
            "aaguid": self.aaguid,
            "passkeyType": self.passkey_type,
            "attestationFormat": self.attestation_format,
            "attestationLevel": self.attestation_level,
            "matchedProfiles": list(self.matched_profiles),
            "profileFailures": {pid: str(r) for pid, r in self.profile_failures.items()},
            "source": {**self.rule.source(self.cloud), "status": str(self.status)},
            "asOf": self.as_of.isoformat() if self.as_of else None,
            "cloud": str(self.cloud),
        }

    @classmethod
    def from_json(cls, obj: object) -> Decision:
        """The decision whose `to_json()` is `obj`, exactly: every field is checked, and what
        the rule book derives (family, source) must be what it says."""
        json = _typed(obj, dict, "decision")
        outcome, reason = _enum(json, "outcome", Outcome), _enum(json, "reason", Reason)
        if (outcome is Outcome.ACCEPTED) != (reason is Reason.ACCEPTED):
            raise DecisionFormatError("reason", f"{reason} is no reason for {outcome}")
        failures = _field(json, "profileFailures", dict)
        source = _field(json, "source", dict)
        status = _enum(source, "status", Status, "source.status")
        version = _field(source, "version", str, "source.version")
        if version not in {r.version for r in VERSIONS[reason]}:
            raise DecisionFormatError("source.version", f"{reason} has no version {version!r}")
        decision = cls(
            outcome, reason, _field(json, "detail", str),
            aaguid=_optional_text(json, "aaguid"),
            passkey_type=_optional_text(json, "passkeyType"),
            attestation_format=_optional_text(json, "attestationFormat"),
            attestation_level=_optional_text(json, "attestationLevel"),
            matched_profiles=tuple(_typed(p, str, f"matchedProfiles[{i}]") for i, p
                                   in enumerate(_field(json, "matchedProfiles", list))),
            profile_failures={pid: _enum(failures, pid, Reason, f"profileFailures.{pid}")
                              for pid in failures},
            # an inferred rule is inferred anyway: a documented or observed one can be applied so
            inferred=status is Status.INFERRED and rule(reason, version).status
            is not Status.INFERRED,
            as_of=_optional_date(json, "asOf"),
            cloud=_enum(json, "cloud", Cloud),
            version=version,
        )
        written = decision.to_json()
        if json == written:  # else the first difference, in key order, is reported
            return decision
        for key in sorted(json.keys() | written.keys()):
            if key not in written:
                raise DecisionFormatError(key, "is not a decision field")
            if key not in json:
                raise DecisionFormatError(key, "is missing")
            if json[key] != written[key]:
                raise DecisionFormatError(key, f"is {json[key]!r}; the rule book makes it "
                                               f"{written[key]!r}")
        return decision


T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)
_JSON_TYPES: dict[type, str] = {str: "a string", list: "an array", dict: "an object"}


def _typed(value: object, kind: type[T], where: str) -> T:
    if not isinstance(value, kind):
        raise DecisionFormatError(where, f"must be {_JSON_TYPES[kind]}, not {_json_type(value)}")
    return value


def _field(json: Mapping[str, object], key: str, kind: type[T], where: str = "") -> T:
    if key not in json:
        raise DecisionFormatError(where or key, "is missing")
    return _typed(json[key], kind, where or key)


def _optional_text(json: Mapping[str, object], key: str) -> str | None:
    if json.get(key, "") is None:
        return None
    return _field(json, key, str)


def _optional_date(json: Mapping[str, object], key: str) -> date | None:
    text = _optional_text(json, key)
    try:
        return None if text is None else date.fromisoformat(text)
    except ValueError:
        raise DecisionFormatError(key, f"{text!r} is not a date (YYYY-MM-DD)") from None


def _enum(json: Mapping[str, object], key: str, kind: type[E], where: str = "") -> E:
    value = _field(json, key, str, where)
    member = _members(kind).get(value)
    if member is None:
        raise DecisionFormatError(where or key, f"{value!r} is not a known "
                                                f"{kind.__name__.lower()}")
    return member


def _members(kind: type[E]) -> dict[str, E]:
    """`kind(value)` as a lookup: the enum's call runs Python code for every member read."""
    members = _MEMBERS.get(kind)
    if members is None:
        members = _MEMBERS[kind] = {str(member): member for member in kind}
    return members


_MEMBERS: dict[type[StrEnum], dict[str, Any]] = {}


def _json_type(value: object) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    return "a number" if isinstance(value, int | float) else _JSON_TYPES.get(
        type(value), type(value).__name__)
