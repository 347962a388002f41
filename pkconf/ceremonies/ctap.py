"""The CTAP ceremony: a profile's software authenticator, python-fido2's client, the tenant.

One flow serves every registration path: self-service (the user, signed in, on Security info:
`/me/...` with a session), the user's own Graph client (`/me/...` with a Graph client's
session) and admin provisioning through Graph (`/users/{id}/...`, see `graph.py`). Steps: lay
out the case in the tenant (`Setup`), ask creationOptions, make the credential with the
profile's authenticator at Entra's origin, optionally damage it (`VARIATIONS`), POST it, and
read the decision from the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fido2.utils import websafe_decode

from ..authenticators.device import SoftwareAuthenticator
from ..authenticators.profiles import Profile, Uv
from ..tenant.decision import Decision, RegistrationPath, UserContext
from ..tenant.policy import ALL_USERS
from ..tenant.rules import CHALLENGE_TIMEOUT_MINUTES, ORIGIN, RuleBook
from . import client
from .result import CeremonyResult, TenantRefusal
from .tamper import TAMPERS, with_challenge
from .tenant import Tenant, TenantError, decision_of

FLOWS = (
    "expired-challenge",  # the clock passes the challenge's expiry; the user re-does MFA first
    "reused-challenge",  # the same, accepted response is POSTed a second time
    "replayed-credential",  # an accepted credential is POSTed again under a fresh challenge
)
VARIATIONS = (*FLOWS, *TAMPERS)
FRESH_MFA_MEMBER = UserContext(mfa_age_seconds=60)  # who registers unless a Setup says otherwise
# The emulator session's client per path, where it is not Security info (the default).
CLIENTS = {RegistrationPath.GRAPH_ME: "graph"}


@dataclass(frozen=True)
class Setup:
    """What the tenant must look like before the ceremony (the emulator's scenario call): the
    policy and the user, whom the scenario signs in as the user's state says, and the day and
    cloud whose rules decide (None: the emulator's setting stays)."""

    policy: dict[str, Any] | None = None
    user: UserContext = FRESH_MFA_MEMBER
    book: RuleBook | None = None

    def body(self) -> dict[str, Any]:
        """Target ids other than all_users (and the user's groups) are group names, created
        fresh for this ceremony."""
        targets = {t["id"] for key in ("includeTargets", "excludeTargets")
                   for t in (self.policy or {}).get(key) or [] if isinstance(t, dict)
                   and isinstance(t.get("id"), str) and t["id"] != ALL_USERS}
        body: dict[str, Any] = {"policy": self.policy, "user": self.user.to_json(),
                                "groups": sorted(targets | self.user.groups)}
        if self.book is not None:
            body["ruleBook"] = {"asOf": self.book.as_of.isoformat(), "cloud": str(self.book.cloud)}
        return body


@dataclass
class _Attempt:
    api: Tenant
    path: RegistrationPath
    user_id: str
    token: str | None
    result: CeremonyResult

    @property
    def subject(self) -> str | None:
        return self.user_id if self.path is RegistrationPath.PROVISIONING else None

    def options(self) -> dict[str, Any]:
        options = self.api.creation_options(self.subject, self.token)
        self.result.options = options
        self.result.steps.append("creationOptions")
        return options

    def post(self, credential: dict[str, Any], display_name: str) -> Decision | TenantRefusal:
        body = {"displayName": display_name, "publicKeyCredential": credential}
        status, answer = self.api.register(self.subject, body, self.token)
        result = self.result
        result.request, result.status, result.response = body, status, answer
        result.client_data_json = websafe_decode(credential["response"]["clientDataJSON"])
        result.attestation_object = websafe_decode(credential["response"]["attestationObject"])
        decision = result.decision = decision_of(status, answer)
        result.steps.append(f"POST fido2Methods → {status}")
        return decision


_devices: dict[str, SoftwareAuthenticator] = {}


def _device(profile: Profile) -> SoftwareAuthenticator:
    """The profile's authenticator, emptied of credentials: as good as new for a ceremony.

    Reusing it keeps python-fido2's per-device client session warm (about 0.5 ms a case).
    """
    device = _devices.get(profile.name)
    if device is None or device.profile is not profile:
        device = _devices[profile.name] = SoftwareAuthenticator(profile)
    device.credentials.clear()
    return device


def make_credential(profile: Profile, options: dict[str, Any],
                    result: CeremonyResult) -> dict[str, Any]:
    """The registration response JSON from the profile's authenticator, as a browser sends it."""
    public_key = dict(options["publicKey"])
    if profile.uv is Uv.NONE:
        # Entra requires UV and a discoverable credential; an authenticator with neither only
        # gets through a client that does not insist, which lets the tenant's own check run.
        selection = dict(public_key.get("authenticatorSelection") or {})
        public_key["authenticatorSelection"] = {
            **selection, "userVerification": "discouraged", "requireResidentKey": False,
            "residentKey": "discouraged"}
        result.steps.append("client relaxed UV and residentKey (the device has no UV)")
    response = client.register_json(_device(profile), public_key, ORIGIN)
    result.steps.append(f"{profile.name}: makeCredential")
    return response


def register(api: Tenant, profile: Profile, setup: Setup, *,
             path: RegistrationPath = RegistrationPath.SELF_SERVICE,
             variation: str | None = None) -> CeremonyResult:
    """Run one registration ceremony and return the tenant's decision with its material."""
    if variation is not None and variation not in VARIATIONS:
        raise ValueError(f"unknown variation {variation!r}")
    client = CLIENTS.get(path)
    info = api.scenario({**setup.body(), **({"client": client} if client else {})})
    result = CeremonyResult(steps=["scenario"])
    attempt = _Attempt(api, path, info["userId"], info.get("token"), result)
    credential = make_credential(profile, attempt.options(), result)
    if variation == "expired-challenge":
        api.advance_clock(CHALLENGE_TIMEOUT_MINUTES * 60 + 1)
        if attempt.subject is None:  # a fresh MFA, so only the challenge is stale
            attempt.token = api.sign_in(attempt.user_id, client=client)
        result.steps.append("clock advanced past the challenge's expiry")
    elif variation in ("reused-challenge", "replayed-credential"):
        first = attempt.post(credential, profile.name)
        result.steps.append(f"first attempt: {first.reason}")
        if not first.accepted:
            raise TenantError(f"{variation} needs a first registration that is accepted; it "
                              f"was refused: {first.reason}")
        if variation == "replayed-credential":
            fresh = websafe_decode(attempt.options()["publicKey"]["challenge"])
            credential = with_challenge(credential, fresh)
    elif variation is not None:
        credential = TAMPERS[variation](credential)
        result.steps.append(variation)
    attempt.post(credential, profile.name)
    return result
