"""What a ceremony brings back: the tenant's decision and the raw material behind it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fido2.utils import websafe_encode
from fido2.webauthn import AttestationObject, AuthenticatorData


@dataclass
class CeremonyResult:
    """The decision as the tenant answered it, plus everything exchanged to get there.

    `decision` has the shape of `Decision.to_json()`: for a 201 the emulator's method object is
    turned into an accepted decision; for a refusal it is the Graph error's
    `innerError.pkconfDecision`.
    """

    decision: dict[str, Any]
    status: int | None = None  # HTTP status of the registration POST
    options: dict[str, Any] | None = None  # the creationOptions JSON
    client_data_json: bytes | None = None
    attestation_object: bytes | None = None
    request: dict[str, Any] | None = None  # the POST body
    response: dict[str, Any] | None = None  # the POST's JSON answer
    steps: list[str] = field(default_factory=list)  # what the runner did, in order

    @property
    def outcome(self) -> str:
        return str(self.decision.get("outcome"))

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
