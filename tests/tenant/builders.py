"""Builders for tenant unit tests: Graph policies and registration responses made to order.

The registration builder writes authenticator data by hand with python-fido2's types so each
test controls exactly one fact (a flag, the AAGUID, the origin); full authenticators with
attestation chains are exercised in the authenticator and conformance tests.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fido2.cose import ES256, RS256
from fido2.utils import websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

from pkconf.authenticators.statements import Attester
from pkconf.tenant import rules
from pkconf.tenant.decision import (
    CeremonyContext,
    Decision,
    IssuedChallenge,
    RegistrationPath,
    UserContext,
)
from pkconf.tenant.engine import decide
from pkconf.tenant.policy import parse_policy
from pkconf.tenant.registration import parse_registration
from pkconf.tenant.rules import RuleBook

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CHALLENGE = b"c" * 32
DEFAULT_PROFILE = "00000000-0000-0000-0000-000000000001"
FLAG = AuthenticatorData.FLAG

BASE_POLICY: dict[str, Any] = {
    "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
    "id": "Fido2",
    "state": "enabled",
    "isSelfServiceRegistrationAllowed": True,
    "defaultPasskeyProfile": DEFAULT_PROFILE,
    "includeTargets": [
        {"targetType": "group", "id": "all_users", "isRegistrationRequired": False,
         "allowedPasskeyProfiles": [DEFAULT_PROFILE]}
    ],
    "excludeTargets": [],
    "passkeyProfiles": [
        {"id": DEFAULT_PROFILE, "name": "Default passkey profile",
         "passkeyTypes": "deviceBound,synced", "attestationEnforcement": "disabled",
         "keyRestrictions": {"isEnforced": False, "enforcementType": "allow", "aaGuids": []}}
    ],
}


def make_policy(**top: Any) -> dict[str, Any]:
    """The base policy with top-level properties replaced (as a Graph PATCH would)."""
    policy = copy.deepcopy(BASE_POLICY)
    policy.update(copy.deepcopy(top))
    return policy


def profile(pid: str = DEFAULT_PROFILE, *, types: str = "deviceBound,synced",
            attestation: str = "disabled", enforced: bool = False, kind: str = "allow",
            aaguids: tuple[str, ...] = (), name: str | None = None) -> dict[str, Any]:
    return {"id": pid, "name": name or f"profile {pid[-4:]}", "passkeyTypes": types,
            "attestationEnforcement": attestation,
            "keyRestrictions": {"isEnforced": enforced, "enforcementType": kind,
                                "aaGuids": list(aaguids)}}


def with_profiles(*profiles: dict[str, Any], target: str = "all_users") -> dict[str, Any]:
    """A policy whose one include target scopes all the given profiles."""
    return make_policy(
        passkeyProfiles=list(profiles),
        defaultPasskeyProfile=profiles[0]["id"],
        includeTargets=[{"targetType": "group", "id": target, "isRegistrationRequired": False,
                         "allowedPasskeyProfiles": [p["id"] for p in profiles]}],
    )


def make_response(*, aaguid: str = "cb69481e-8ff7-4039-93ec-0a2729a154a8",
                  flags: FLAG = FLAG.UP | FLAG.UV | FLAG.AT,
                  rp_id: str = rules.RP_ID, origin: str = rules.ORIGIN,
                  challenge: bytes = CHALLENGE, type_: str = "webauthn.create",
                  alg: int = -7, fmt: str = "none", att_stmt: dict | None = None,
                  credential_id: bytes = b"\x01" * 16, transports: tuple[str, ...] = ("usb",),
                  attachment: str | None = "cross-platform",
                  extensions: dict | None = None, attester: Attester | None = None,
                  ) -> dict[str, Any]:
    """A registration response JSON, as a browser's PublicKeyCredential.toJSON() gives it.

    With `attester`, its statement (signed over these very bytes) replaces fmt/att_stmt.
    """
    private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if alg == -257:
        private = rsa.generate_private_key(65537, 2048)
        key = RS256.from_cryptography_key(private.public_key())
    else:
        private = ec.generate_private_key(ec.SECP256R1())
        key = ES256.from_cryptography_key(private.public_key())
        key[3] = alg  # a key that claims another algorithm
    cred = AttestedCredentialData.create(bytes.fromhex(aaguid.replace("-", "")), credential_id,
                                         key)
    auth_data = AuthenticatorData.create(sha256(rp_id.encode()).digest(), flags, 0, cred)
    client_data = CollectedClientData.create(type_, challenge, origin)
    if attester is not None:
        fmt, att_stmt = attester.attest(auth_data, client_data.hash, private)
    att = AttestationObject.create(fmt, auth_data, att_stmt or {})
    out: dict[str, Any] = {
        "id": websafe_encode(credential_id), "rawId": websafe_encode(credential_id),
        "type": "public-key",
        "response": {"clientDataJSON": websafe_encode(client_data),
                     "attestationObject": websafe_encode(att), "transports": list(transports)},
        "clientExtensionResults": extensions or {},
    }
    if attachment:
        out["authenticatorAttachment"] = attachment
    return out


def with_client_data(response: dict[str, Any], raw: bytes) -> dict[str, Any]:
    """The response with `raw` as its clientDataJSON bytes, whatever they hold."""
    out = copy.deepcopy(response)
    out["response"]["clientDataJSON"] = websafe_encode(raw)
    return out


def client_data_json(*members: str, challenge: bytes = CHALLENGE,
                     type_: str = "webauthn.create", origin: str = rules.ORIGIN) -> bytes:
    """clientDataJSON text of a registration with extra raw `"name": value` members, written as
    given (duplicates, non-JSON values) since no JSON encoder would write them."""
    fields = [f'"type":"{type_}"', f'"challenge":"{websafe_encode(challenge)}"',
              f'"origin":"{origin}"', *members]
    return ("{" + ",".join(fields) + "}").encode()


def nested(depth: int, opener: str = "[") -> str:
    """A JSON value nested `depth` arrays (or objects) deep."""
    if opener == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def ceremony(*, used: bool = False, expires_in: float = 300, now: datetime = NOW,
             challenge: bytes | None = CHALLENGE) -> CeremonyContext:
    issued = None if challenge is None else IssuedChallenge(
        challenge, now + timedelta(seconds=expires_in), used)
    return CeremonyContext(now=now, challenge=issued, rp_id=rules.RP_ID,
                           origins=rules.ALLOWED_ORIGINS)


def run(policy: dict[str, Any] | None = None, *, user: UserContext | None = None,
        response: dict[str, Any] | None = None, context: CeremonyContext | None = None,
        path: RegistrationPath = RegistrationPath.SELF_SERVICE,
        metadata: Any = None, book: RuleBook | None = None) -> Decision:
    """Decide one attempt; defaults: the base policy, a member with fresh MFA, a clean key,
    today's rule book."""
    return decide(
        parse_policy(policy or make_policy()),
        user or UserContext(user_id="u1", mfa_age_seconds=60),
        path,
        parse_registration(response or make_response()),
        context or ceremony(),
        metadata=metadata,
        book=book,
    )
