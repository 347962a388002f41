"""What a ceremony brings back: the tenant's decision and the raw material behind it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fido2.utils import websafe_encode
from fido2.webauthn import AttestationObject, AuthenticatorData

from ..tenant.decision import Decision, DecisionFormatError


@dataclass(frozen=True)
class ClientError:
    """The browser refused before the tenant saw a credential: create() rejected.

    No decision of the tenant's, but the Security-info page announces it in a decision's shape
    (`outcome` "client-error", `family` "client"), so it is read and written back the same way.
    """

    OUTCOME: ClassVar[str] = "client-error"  # the page contract's words for it
    FAMILY: ClassVar[str] = "client"

    reason: str  # the DOMException name, e.g. NotAllowedError
    detail: str  # its message

    def to_json(self) -> dict[str, str]:
        return {"outcome": self.OUTCOME, "family": self.FAMILY, "reason": self.reason,
                "detail": self.detail}

    @classmethod
    def from_json(cls, obj: object) -> ClientError:
        """The client error `to_json()` wrote; DecisionFormatError names a bad field."""
        if not isinstance(obj, dict) or set(obj) != {"outcome", "family", "reason", "detail"}:
            raise DecisionFormatError("client error", "must be an object of outcome, family, "
                                                      "reason and detail")
        for key, value in (("outcome", cls.OUTCOME), ("family", cls.FAMILY)):
            if obj[key] != value:
                raise DecisionFormatError(key, f"is {obj[key]!r}, not {value!r}")
        for key in ("reason", "detail"):
            if not isinstance(obj[key], str):
                raise DecisionFormatError(key, "must be a string")
        return cls(obj["reason"], obj["detail"])


@dataclass(frozen=True)
class TenantRefusal:
    """A refusal that names no reason of the suite's: a real tenant's Graph error.

    Entra publishes no registration error codes (entra-facts §8), so only the outcome can be
    compared; the status, code and message are what the observation records.
    """

    OUTCOME: ClassVar[str] = "rejected"
    accepted: ClassVar[bool] = False

    status: int
    code: str
    message: str

    @property
    def reason(self) -> str:
        return self.code

    @property
    def detail(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.OUTCOME, "family": None, "reason": self.code,
                "detail": self.detail}


def announced(obj: object) -> Decision | ClientError:
    """A decision as the page announces it: the tenant's, or the browser's own refusal."""
    if isinstance(obj, dict) and obj.get("outcome") == ClientError.OUTCOME:
        return ClientError.from_json(obj)
    return Decision.from_json(obj)


@dataclass
class CeremonyResult:
    """The decision as the tenant answered it, plus everything exchanged to get there.

    `decision` is set as the ceremony ends: the tenant's, read from its answer
    (`tenant.decision_of`; a real tenant's refusal is a `TenantRefusal`), or in a browser the
    `ClientError` that kept the credential from it.
    """

    decision: Decision | ClientError | TenantRefusal = field(init=False)
    status: int | None = None  # HTTP status of the registration POST
    options: dict[str, Any] | None = None  # the creationOptions JSON
    client_data_json: bytes | None = None
    attestation_object: bytes | None = None
    request: dict[str, Any] | None = None  # the POST body
    response: dict[str, Any] | None = None  # the POST's JSON answer
    steps: list[str] = field(default_factory=list)  # what the runner did, in order

    def client_data(self) -> dict[str, Any] | None:
        """clientDataJSON, decoded."""
        return json.loads(self.client_data_json) if self.client_data_json else None

    def attestation(self) -> dict[str, Any] | None:
        """The attestation object decoded for people: authData split into its fields."""
        if not self.attestation_object:
            return None
        att = AttestationObject(self.attestation_object)
        auth, cred = att.auth_data, att.auth_data.credential_data
        flags = [f.name for f in AuthenticatorData.FLAG if f.name and len(f.name) == 2
                 and auth.flags & f]
        return _jsonable({
            "fmt": att.fmt,
            "attStmt": dict(att.att_stmt),
            "authData": {
                "rpIdHash": auth.rp_id_hash, "flags": flags, "signCount": auth.counter,
                "aaguid": str(cred.aaguid) if cred else None,
                "credentialId": cred.credential_id if cred else None,
                "credentialPublicKey": dict(cred.public_key) if cred else None,
                "extensions": auth.extensions,
            },
        })


def _jsonable(value: Any) -> Any:
    """CBOR values as JSON: bytes as base64url, map keys as strings."""
    if isinstance(value, bytes):
        return websafe_encode(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
