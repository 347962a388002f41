"""What goes into a registration decision and what comes out of it.

Inputs are plain dataclasses so the emulator service, the `pkconf verify` command and the
unit tests all build them the same way; the output is a `Decision`, whose JSON form is the
one object `pkconf verify --json` prints and the emulator puts in a Graph error's inner error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .rules import Family, rule


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class RegistrationPath(StrEnum):
    """How the credential reaches Entra."""

    SELF_SERVICE = "self-service"  # the user, on the Security info page
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


@dataclass(frozen=True)
class UserContext:
    """The user as Entra sees them at registration time."""

    user_id: str = ""
    user_type: UserType = UserType.MEMBER
    groups: frozenset[str] = frozenset()
    mfa_age_seconds: float | None = None  # None: no MFA in this session
    tap: TemporaryAccessPass | None = None
    existing_credentials: tuple[ExistingCredential, ...] = ()


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


@dataclass
class Decision:
    """Entra's (emulated) answer to one registration attempt, with the facts it used."""

    outcome: Outcome
    reason: str
    detail: str
    aaguid: str | None = None
    passkey_type: str | None = None  # deviceBound | synced
    attestation_format: str | None = None
    attestation_level: str | None = None  # attested | notAttested
    matched_profiles: list[str] = field(default_factory=list)
    profile_failures: dict[str, str] = field(default_factory=dict)  # profile id -> reason
    inferred: bool = False  # a documented rule applied where only an inference reaches

    @property
    def family(self) -> Family | None:
        return rule(self.reason).family if self.outcome is Outcome.REJECTED else None

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED

    def to_json(self) -> dict[str, Any]:
        """The decision as one JSON object (field names in Graph's camelCase)."""
        return {
            "outcome": str(self.outcome),
            "family": str(self.family) if self.family else None,
            "reason": self.reason,
            "detail": self.detail,
            "aaguid": self.aaguid,
            "passkeyType": self.passkey_type,
            "attestationFormat": self.attestation_format,
            "attestationLevel": self.attestation_level,
            "matchedProfiles": list(self.matched_profiles),
            "profileFailures": dict(self.profile_failures),
            "source": {**rule(self.reason).source(),
                       **({"status": "inferred"} if self.inferred else {})},
        }
