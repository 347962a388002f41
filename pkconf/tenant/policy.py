"""The Entra passkey (FIDO2) policy, read exactly as Microsoft Graph exports it.

Source: `GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2`
(entra-facts §1). Both forms load: the passkey-profiles form (`passkeyProfiles`,
`defaultPasskeyProfile`, `includeTargets[].allowedPasskeyProfiles`) and the legacy form
(`isAttestationEnforced` + `keyRestrictions`, no profiles), which becomes one implicit profile.

Unknown fields are tolerated (Graph adds fields over time); invalid values are reported with
their JSON path and never guessed. Graph's evolvable enums end in `unknownFutureValue`, the value
a client sees for a member added after its API version: it is tolerated with a warning (JSON
path and message in `Fido2Policy.warnings`) and read as the known value `FUTURE_VALUE_READING`
gives ([INFERRED]: Graph documents the sentinel, not what Entra does with it; we read it as the
strictest known value, so a policy we cannot fully read never admits more than it says).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import jsontext
from .rules import MAX_POLICY_BYTES, MAX_PROFILES

ALL_USERS = "all_users"
LEGACY_PROFILE_ID = "legacy"  # the implicit profile of a policy that has not opted in
DEVICE_BOUND, SYNCED = "deviceBound", "synced"
PASSKEY_TYPES = (DEVICE_BOUND, SYNCED)
ATTESTATION_ENFORCEMENTS = ("disabled", "registrationOnly")
ENFORCEMENT_TYPES = ("allow", "block")
STATES = ("enabled", "disabled")
TARGET_TYPES = ("group", "user")  # `user` is "no longer recommended" but still a value
UNKNOWN_FUTURE_VALUE = "unknownFutureValue"
# [INFERRED] What unknownFutureValue is read as, per enum (None: ignored, it admits nothing):
# enforcement as registrationOnly and an AAGUID list as an allow list (the stricter reading);
# a passkey type we cannot name admits no passkey of the types we can; a target's type does
# not change how its id is matched.
FUTURE_VALUE_READING: dict[str, str | None] = {
    "attestationEnforcement": "registrationOnly",
    "enforcementType": "allow",
    "passkeyTypes": None,
    "targetType": "group",
}
_AAGUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class PolicyError(ValueError):
    """A policy that cannot be used; `problems` lists each one as (JSON path, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in problems))


@dataclass(frozen=True)
class KeyRestrictions:
    is_enforced: bool
    enforcement_type: str  # allow | block
    aaguids: frozenset[str]  # lower-case

    def admits(self, aaguid: str) -> bool:
        if not self.is_enforced:
            return True
        listed = aaguid.lower() in self.aaguids
        return listed if self.enforcement_type == "allow" else not listed

    def explicitly_allows(self, aaguid: str) -> bool:
        """An enforced allow list naming the AAGUID (Windows Hello preview, entra-facts §5)."""
        return self.is_enforced and self.enforcement_type == "allow" and aaguid in self.aaguids


@dataclass(frozen=True)
class PasskeyProfile:
    id: str
    name: str
    passkey_types: frozenset[str]
    attestation_enforcement: str  # disabled | registrationOnly
    key_restrictions: KeyRestrictions
    readings: tuple[str, ...] = ()  # how its unknownFutureValue fields were read, for details

    @property
    def attestation_enforced(self) -> bool:
        return self.attestation_enforcement == "registrationOnly"


@dataclass(frozen=True)
class Target:
    id: str
    target_type: str
    allowed_passkey_profiles: tuple[str, ...] | None = None  # None in the legacy form


@dataclass(frozen=True)
class Fido2Policy:
    state: str
    self_service_allowed: bool
    include_targets: tuple[Target, ...]
    exclude_targets: tuple[Target, ...]
    profiles: tuple[PasskeyProfile, ...]
    default_profile: str | None
    legacy: bool  # True when the tenant has not opted in to passkey profiles
    warnings: tuple[tuple[str, str], ...] = ()  # (JSON path, message): read, but by inference

    @property
    def enabled(self) -> bool:
        return self.state == "enabled"

    def profile(self, profile_id: str) -> PasskeyProfile:
        return next(p for p in self.profiles if p.id == profile_id)

    def excluded(self, principals: Iterable[str]) -> bool:
        return bool(self.exclude_targets) and not {t.id for t in self.exclude_targets}.isdisjoint(
            principals)

    def matching_targets(self, principals: Iterable[str]) -> list[Target]:
        """Include targets that name the user, one of their groups, or all users."""
        ids = {*principals, ALL_USERS}
        return [t for t in self.include_targets if t.id in ids]

    def scoped_profiles(self, targets: Iterable[Target]) -> list[PasskeyProfile]:
        """The union of the targets' profiles, in policy order (the order carries no meaning)."""
        if self.legacy:
            return list(self.profiles)
        wanted = {pid for t in targets for pid in t.allowed_passkey_profiles or ()}
        return [p for p in self.profiles if p.id in wanted]


class _Reader:
    """Walks the JSON, collecting every problem with its path instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []

    def problem(self, path: str, msg: str) -> None:
        self.problems.append((path, msg))

    def future_value(self, path: str, key: str) -> str | None:
        """unknownFutureValue at `path`: a warning, and the known value it is read as."""
        reading = FUTURE_VALUE_READING[key]
        as_what = f"read as {reading!r}" if reading else "ignored"
        self.warnings.append((path, f"{UNKNOWN_FUTURE_VALUE} (a value newer than this model) "
                                    f"is {as_what} [INFERRED]"))
        return reading

    def readings_since(self, start: int) -> tuple[str, ...]:
        """The warnings from `start` on, as a profile's decision details mention them."""
        return tuple(f"{path} {msg}" for path, msg in self.warnings[start:])

    def get(self, obj: Mapping[str, Any], key: str, path: str, kind: type | tuple[type, ...],
            *, required: bool = True, default: Any = None) -> Any:
        if key not in obj or obj[key] is None:
            if required:
                self.problem(f"{path}.{key}", "is required")
            return default
        value = obj[key]
        if type(value) is kind or (kind is Mapping and type(value) is dict):
            return value  # the usual case, known without the checks below
        # bool is an int in Python: never let true stand for a number or the reverse
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
            self.problem(f"{path}.{key}", f"must be {_kind_name(kind)}, not {_json_type(value)}")
            return default
        return value

    def enum(self, obj: Mapping[str, Any], key: str, path: str, allowed: tuple[str, ...],
             *, required: bool = True) -> str | None:
        value: str | None = self.get(obj, key, path, str, required=required)
        if value == UNKNOWN_FUTURE_VALUE and key in FUTURE_VALUE_READING:
            return self.future_value(f"{path}.{key}", key)
        if value is not None and value not in allowed:
            self.problem(f"{path}.{key}", f"unknown value {value!r} (expected one of "
                                          f"{', '.join(allowed)})")
            return None
        return value

    def objects(self, obj: Mapping[str, Any], key: str, path: str,
                *, required: bool = True) -> list[tuple[str, Mapping[str, Any]]]:
        items = self.get(obj, key, path, list, required=required, default=[])
        out = []
        for i, item in enumerate(items):
            if isinstance(item, Mapping):
                out.append((f"{path}.{key}[{i}]", item))
            else:
                self.problem(f"{path}.{key}[{i}]", f"must be an object, not {_json_type(item)}")
        return out

    def aaguid(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or not _AAGUID.match(value):
            self.problem(path, f"malformed AAGUID {value!r} (expected 8-4-4-4-12 hex digits)")
            return None
        return value.lower()

    def key_restrictions(self, obj: Mapping[str, Any], key: str, path: str,
                         *, required: bool) -> KeyRestrictions:
        kr = self.get(obj, key, path, Mapping, required=required, default=None)
        if kr is None:
            return KeyRestrictions(False, "block", frozenset())
        p = f"{path}.{key}"
        aaguids = self.get(kr, "aaGuids", p, list, required=False, default=[])
        parsed = (self.aaguid(a, f"{p}.aaGuids[{i}]") for i, a in enumerate(aaguids))
        return KeyRestrictions(
            is_enforced=self.get(kr, "isEnforced", p, bool, default=False),
            enforcement_type=self.enum(kr, "enforcementType", p, ENFORCEMENT_TYPES) or "block",
            aaguids=frozenset(a for a in parsed if a),
        )

    def passkey_types(self, obj: Mapping[str, Any], path: str) -> frozenset[str]:
        raw = self.get(obj, "passkeyTypes", path, str)
        if raw is None:
            return frozenset()
        types = [t.strip() for t in raw.split(",")]
        for t in types:
            if t == UNKNOWN_FUTURE_VALUE:
                self.future_value(f"{path}.passkeyTypes", "passkeyTypes")
            elif t not in PASSKEY_TYPES:
                self.problem(f"{path}.passkeyTypes", f"unknown passkey type {t!r} (expected "
                                                     f"a comma list of {', '.join(PASSKEY_TYPES)})")
        return frozenset(t for t in types if t in PASSKEY_TYPES)

    def profile(self, obj: Mapping[str, Any], path: str) -> PasskeyProfile:
        """One passkeyProfile, with the readings of its unknownFutureValue fields."""
        start = len(self.warnings)
        # read in this order, so that warnings and problems come in it; made once, readings too
        profile_id = self.get(obj, "id", path, str, default="")
        name = self.get(obj, "name", path, str, default="")
        passkey_types = self.passkey_types(obj, path)
        enforcement = self.enum(obj, "attestationEnforcement", path,
                                ATTESTATION_ENFORCEMENTS) or "disabled"
        restrictions = self.key_restrictions(obj, "keyRestrictions", path, required=True)
        return PasskeyProfile(profile_id, name, passkey_types, enforcement, restrictions,
                              self.readings_since(start))

    def target(self, obj: Mapping[str, Any], path: str, *, include: bool,
               legacy: bool) -> Target:
        profiles = None
        if include and not legacy:
            raw = self.get(obj, "allowedPasskeyProfiles", path, list, default=[])
            profiles = tuple(p for p in raw if isinstance(p, str))
            if len(profiles) != len(raw):
                self.problem(f"{path}.allowedPasskeyProfiles", "must be a list of profile ids")
        return Target(
            id=self.get(obj, "id", path, str, default=""),
            target_type=self.enum(obj, "targetType", path, TARGET_TYPES, required=False)
            or "group",
            allowed_passkey_profiles=profiles,
        )


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {bool: "a boolean", str: "a string", list: "an array", Mapping: "an object"}
    return " or ".join(names.get(k, k.__name__) for k in _kinds(kind))


def _json_type(value: Any) -> str:
    return {bool: "a boolean", str: "a string", list: "an array", dict: "an object",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), "a value")


def parse_policy(obj: Any) -> Fido2Policy:
    """Read a fido2AuthenticationMethodConfiguration; raises PolicyError listing every problem."""
    if not isinstance(obj, Mapping):
        raise PolicyError([("$", f"must be an object, not {_json_type(obj)}")])
    size = len(json.dumps(obj, separators=(",", ":")).encode())
    if size > MAX_POLICY_BYTES:
        raise PolicyError([("$", f"policy is {size} bytes, over the 20 KB limit (entra-facts §2)")])
    r = _Reader()
    legacy = "passkeyProfiles" not in obj or obj["passkeyProfiles"] is None
    if legacy:
        enforced = r.get(obj, "isAttestationEnforced", "$", bool, required=False, default=False)
        start = len(r.warnings)
        restrictions = r.key_restrictions(obj, "keyRestrictions", "$", required=False)
        profiles = [PasskeyProfile(
            id=LEGACY_PROFILE_ID,
            name="Legacy global passkey settings",
            # [DOC S1] not opted in and attestation off: synced passkeys are already enabled
            passkey_types=frozenset({DEVICE_BOUND} if enforced else PASSKEY_TYPES),
            attestation_enforcement="registrationOnly" if enforced else "disabled",
            key_restrictions=restrictions,
            readings=r.readings_since(start),
        )]
    else:
        profiles = [r.profile(p, path) for path, p in r.objects(obj, "passkeyProfiles", "$")]
        if len(profiles) > MAX_PROFILES:
            r.problem("$.passkeyProfiles", f"{len(profiles)} profiles; at most {MAX_PROFILES} "
                                           "are supported, the default one included")
        ids = [p.id for p in profiles]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            r.problem("$.passkeyProfiles", f"profile id {dup!r} appears more than once")
    policy = Fido2Policy(
        state=r.enum(obj, "state", "$", STATES) or "disabled",
        self_service_allowed=r.get(obj, "isSelfServiceRegistrationAllowed", "$", bool,
                                   default=False),
        include_targets=tuple(r.target(t, path, include=True, legacy=legacy)
                              for path, t in r.objects(obj, "includeTargets", "$")),
        exclude_targets=tuple(r.target(t, path, include=False, legacy=legacy)
                              for path, t in r.objects(obj, "excludeTargets", "$",
                                                       required=False)),
        profiles=tuple(profiles),
        default_profile=None if legacy else r.get(obj, "defaultPasskeyProfile", "$", str,
                                                  required=False),
        legacy=legacy,
        warnings=tuple(r.warnings),
    )
    known = {p.id for p in profiles}
    for i, t in enumerate(policy.include_targets):
        for pid in t.allowed_passkey_profiles or ():
            if pid not in known:
                r.problem(f"$.includeTargets[{i}].allowedPasskeyProfiles",
                          f"names profile {pid!r}, which is not in passkeyProfiles")
    if policy.default_profile is not None and policy.default_profile not in known:
        r.problem("$.defaultPasskeyProfile",
                  f"names profile {policy.default_profile!r}, which is not in passkeyProfiles")
    if r.problems:
        raise PolicyError(r.problems)
    return policy


def load_policy(text: str | bytes) -> Fido2Policy:
    """Parse policy JSON text; bad JSON, or JSON nested too deeply to read safely (`jsontext`), is
    a PolicyError like any other problem."""
    try:
        obj = jsontext.loads(text if isinstance(text, str)
                             else text.decode(json.detect_encoding(text)))
    except UnicodeDecodeError as e:
        raise PolicyError([("$", f"not JSON: {e}")]) from None
    except jsontext.JsonTextError as e:
        raise PolicyError([("$", str(e))]) from None
    return parse_policy(obj)
