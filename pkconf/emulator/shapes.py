"""Graph's JSON shapes: users, methods, passes, refusals, and the policy body checks.

A registration refusal carries the decision, with our reason code, in
`innerError.pkconfDecision`.
"""

from __future__ import annotations

import hashlib
from base64 import b64encode, urlsafe_b64encode
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fido2 import cbor

from ..tenant.attestation.es256_key import SIZE as ES256_KEY_SIZE
from ..tenant.attestation.es256_key import canonical_es256_key
from ..tenant.decision import Decision
from ..tenant.policy import PolicyError, parse_policy
from ..tenant.registration import Registration
from ..tenant.rules import Family
from .http import GraphError, bad
from .store import Credential, Group, Tap, User, iso

GRAPH = "#microsoft.graph."

# Who-questions (scope, bootstrap) are 403: the caller may not do this. What-questions (the
# ceremony, the authenticator, the path) are 400: this credential was refused.
STATUS_BY_FAMILY = {
    Family.POLICY_SCOPE: (403, "accessDenied"),
    Family.BOOTSTRAP: (403, "accessDenied"),
    Family.CEREMONY: (400, "invalidRequest"),
    Family.AUTHENTICATOR_GOVERNANCE: (400, "invalidRequest"),
    Family.PLATFORM_PATH: (400, "invalidRequest"),
}


def user_json(user: User) -> dict[str, Any]:
    return {"@odata.type": f"{GRAPH}user", "id": user.id, "displayName": user.display_name,
            "userPrincipalName": user.user_principal_name, "userType": str(user.user_type),
            "createdDateTime": iso(user.created)}


def group_json(group: Group) -> dict[str, Any]:
    """A security group as Graph shows one (the emulator keeps no mail-enabled groups)."""
    return {"@odata.type": f"{GRAPH}group", "id": group.id, "displayName": group.display_name,
            "mailEnabled": False, "securityEnabled": True}


def method_json(cred: Credential) -> dict[str, Any]:
    return {
        "@odata.type": f"{GRAPH}fido2AuthenticationMethod",
        "id": cred.id,
        "displayName": cred.display_name,
        "createdDateTime": iso(cred.created),
        "aaGuid": cred.aaguid,
        "model": cred.model,
        "attestationCertificates": list(cred.attestation_certificates),
        "attestationLevel": cred.attestation_level,
        "passkeyType": cred.passkey_type,
    }


def tap_json(tap: Tap, now: datetime, *, with_pass: bool) -> dict[str, Any]:
    reason = tap.usability(now)
    out = {
        "@odata.type": f"{GRAPH}temporaryAccessPassAuthenticationMethod",
        "id": tap.id,
        "createdDateTime": iso(tap.created),
        "startDateTime": iso(tap.start),
        "lifetimeInMinutes": tap.lifetime_minutes,
        "isUsableOnce": tap.is_usable_once,
        "isUsable": reason == "EnabledByPolicy",
        "methodUsabilityReason": reason,
    }
    if with_pass:
        out["temporaryAccessPass"] = tap.temporary_access_pass
    return out


def thumbprints(registration: Registration) -> tuple[str, ...]:
    """[INFERRED] Graph's attestationCertificates as SHA-1 thumbprints of the statement's x5c."""
    x5c = registration.attestation_object.att_stmt.get("x5c")
    if not isinstance(x5c, list) or not all(isinstance(c, bytes) for c in x5c):
        return ()
    return tuple(hashlib.sha1(der, usedforsecurity=False).hexdigest() for der in x5c)


def public_key(registration: Registration) -> bytes:
    """The credential key as fido2 encodes it: an ES256 key already in that form (nearly every
    registration's) is its own bytes, which is what the encoding would give back."""
    data = registration.auth_data.credential_data
    assert data is not None  # the parser guarantees attested credential data
    at = 18 + len(data.credential_id)  # past the AAGUID, the id's length and the id
    if len(data) == at + ES256_KEY_SIZE and canonical_es256_key(data, at) is not None:
        return data[at:]
    return cbor.encode(dict(data.public_key))


def refusal(decision: Decision, *, annotate: bool = True) -> GraphError:
    """A refused registration's error; `annotate` adds the emulator's decision (a real tenant
    never sends one)."""
    assert decision.family is not None  # a rejection always has a family
    status, code = STATUS_BY_FAMILY[decision.family]
    return GraphError(status, code, decision.detail,
                      inner={"pkconfDecision": decision.to_json()} if annotate else None)


def credential_id_text(data: bytes, encoding: str) -> str:
    """An `excludeCredentials` id in one of the encodings real tenants were seen to send:
    base64url without padding (documented, entra-facts §7.1), standard base64 with padding,
    or .NET's UrlTokenEncode (base64url without padding, then one digit counting the `=`
    removed)."""
    if encoding == "base64":
        return b64encode(data).decode()
    padded = urlsafe_b64encode(data).decode()
    unpadded = padded.rstrip("=")
    if encoding == "base64url-padding-digit":
        return f"{unpadded}{len(padded) - len(unpadded)}"
    return unpadded


# --- policy bodies --------------------------------------------------------------------------------

def valid_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy, if the model reads it; else a 400 listing every problem with its path."""
    try:
        parse_policy(policy)
    except PolicyError as e:
        raise bad("the policy is invalid: " + "; ".join(f"{p}: {m}" for p, m in e.problems),
                   details=e.problems) from None
    return policy


def with_group_ids(policy: dict[str, Any], groups: Mapping[str, str]) -> dict[str, Any]:
    """The policy with target ids that name one of `groups` replaced by that group's id."""
    def retarget(targets: Any) -> Any:
        if not isinstance(targets, list):
            return targets
        return [{**t, "id": groups[t["id"]]}
                if isinstance(t, dict) and isinstance(t.get("id"), str) and t["id"] in groups
                else t for t in targets]

    return {**policy, "includeTargets": retarget(policy.get("includeTargets")),
            "excludeTargets": retarget(policy.get("excludeTargets", []))}
