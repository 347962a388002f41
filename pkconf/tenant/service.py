"""The embedded Entra emulator: Graph-shaped endpoints over the decision engine (ASGI, Starlette).

Graph's resources live under `/v1.0` and `/beta`; emulator-only controls (sign-in, clock, reset,
seeding credentials) live under `/_emulator/` so nothing there can be mistaken for Graph.

Every failure is a Graph error envelope. Its `code` is one of Graph's generic error codes
(learn.microsoft.com/graph/errors), never an Entra registration code: Entra publishes none
(entra-facts §8). A registration refusal carries the decision, with our reason code, in
`innerError.pkconfDecision`.

Handlers are `async` and call the store synchronously, so a registration's challenge lookup,
decision and credential insert cannot interleave with another request on the event loop.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from fido2 import cbor
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from .attestation import Metadata
from .decision import (
    CeremonyContext,
    Decision,
    ExistingCredential,
    RegistrationPath,
    TemporaryAccessPass,
    UserContext,
    UserType,
)
from .engine import decide
from .policy import PolicyError, parse_policy
from .registration import MalformedRegistration, Registration, parse_registration
from .rules import (
    ALLOWED_ORIGINS,
    CHALLENGE_TIMEOUT_MINUTES,
    CHALLENGE_TIMEOUT_RANGE_MINUTES,
    RP_ID,
    RP_NAME,
    SUPPORTED_ALGORITHMS,
    Family,
)
from .store import Credential, Session, Store, Tap, User, iso, utc_now

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32  # far beyond any Graph body; keeps hostile nesting away from recursion limits
TAP_LIFETIME_MINUTES = (10, 43200)  # [DOC TAP] allowed range
TAP_DEFAULT_LIFETIME_MINUTES = 60  # [DOC TAP] policy default
SIGN_IN_METHODS = ("password", "mfa", "tap")  # no passwords are checked: any sign-in succeeds
YEARS = (1970, 9000)  # accepted date-times: far from datetime's limits, so lifetimes can't overflow
MAX_ADVANCE_SECONDS = 100 * 365 * 86400
GRAPH = "#microsoft.graph."
_TIMEOUT_CALL = re.compile(r"^creationOptions\(challengeTimeoutInMinutes=(-?\d{1,9})\)$")
_DIRECTORY_REF = re.compile(r"/(?:directoryObjects|users)/([^/?#]+)$")

# Who-questions (scope, bootstrap) are 403: the caller may not do this. What-questions (the
# ceremony, the authenticator, the path) are 400: this credential was refused.
_STATUS_BY_FAMILY = {
    Family.POLICY_SCOPE: (403, "accessDenied"),
    Family.BOOTSTRAP: (403, "accessDenied"),
    Family.CEREMONY: (400, "invalidRequest"),
    Family.AUTHENTICATOR_GOVERNANCE: (400, "invalidRequest"),
    Family.PLATFORM_PATH: (400, "invalidRequest"),
}


class GraphError(Exception):
    """A request refused with a Graph error envelope."""

    def __init__(self, status: int, code: str, message: str, *,
                 details: list[tuple[str, str]] | None = None,
                 inner: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.inner = dict(inner or {})


def _bad(message: str, **kwargs: Any) -> GraphError:
    return GraphError(400, "invalidRequest", message, **kwargs)


def _not_found(what: str, ident: str) -> GraphError:
    return GraphError(404, "itemNotFound", f"{what} {ident!r} does not exist")


# --- request bodies -------------------------------------------------------------------------------

def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


async def capped_body(request: Request, limit: int, what: str = "the body") -> bytes:
    """The request body, refused with a 413 past `limit` bytes (also for chunked bodies)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise GraphError(413, "invalidRequest", f"{what} is over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise GraphError(413, "invalidRequest", f"{what} is over {limit} bytes")
    return bytes(body)


async def _json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, capped at MAX_BODY_BYTES."""
    body = await capped_body(request, MAX_BODY_BYTES)
    if not body:
        raise _bad("the request needs a JSON object body")
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise _bad("the body is not UTF-8") from None
    except (ValueError, RecursionError) as e:
        raise _bad(f"the body is not JSON: {str(e)[:200]}") from None
    if not isinstance(value, dict):
        raise _bad("the body must be a JSON object")
    if _too_deep(value):
        raise _bad(f"the body is nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _json_type(value: Any) -> str:
    return {bool: "a boolean", str: "a string", int: "a number", float: "a number",
            list: "an array", dict: "an object", type(None): "null"}[type(value)]


def _field(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], *,
           required: bool = False, default: Any = None) -> Any:
    """One typed field; a JSON boolean never passes for a number."""
    if obj.get(key) is None:
        if required:
            raise _bad(f"{key} is required")
        return default
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = {str: "a string", bool: "a boolean", int: "an integer", dict: "an object",
                 list: "an array"}
        name = names.get(kind, "a number") if isinstance(kind, type) else "a number"
        raise _bad(f"{key} must be {name}, not {_json_type(value)}")
    if kind is str and not value.strip():
        raise _bad(f"{key} must not be empty")
    return value


def _valid_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy, if the model reads it; else a 400 listing every problem with its path."""
    try:
        parse_policy(policy)
    except PolicyError as e:
        raise _bad("the policy is invalid: " + "; ".join(f"{p}: {m}" for p, m in e.problems),
                   details=e.problems) from None
    return policy


def _with_group_ids(policy: dict[str, Any], groups: Mapping[str, str]) -> dict[str, Any]:
    """The policy with target ids that name one of `groups` replaced by that group's id."""
    def retarget(targets: Any) -> Any:
        if not isinstance(targets, list):
            return targets
        return [{**t, "id": groups[t["id"]]}
                if isinstance(t, dict) and isinstance(t.get("id"), str) and t["id"] in groups
                else t for t in targets]

    return {**policy, "includeTargets": retarget(policy.get("includeTargets")),
            "excludeTargets": retarget(policy.get("excludeTargets", []))}


def _moment(obj: Mapping[str, Any], key: str, default: datetime) -> datetime:
    """An ISO 8601 date-time with an offset, within years that leave room for lifetimes."""
    text = _field(obj, key, str)
    if text is None:
        return default
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _bad(f"{key} is not an ISO 8601 date-time: {text[:40]!r}") from None
    if moment.tzinfo is None:
        raise _bad(f"{key} needs a time zone offset (for example Z)")
    if not YEARS[0] <= moment.astimezone(UTC).year <= YEARS[1]:
        raise _bad(f"{key} must fall in the years {YEARS[0]}-{YEARS[1]}")
    return moment


def b64url(data: bytes) -> str:
    """Base64url without padding, as Graph writes every WebAuthn binary (entra-facts §7.1)."""
    return urlsafe_b64encode(data).rstrip(b"=").decode()


# --- Graph shapes ---------------------------------------------------------------------------------

def _user_json(user: User) -> dict[str, Any]:
    return {"@odata.type": f"{GRAPH}user", "id": user.id, "displayName": user.display_name,
            "userPrincipalName": user.user_principal_name, "userType": str(user.user_type),
            "createdDateTime": iso(user.created)}


def _method_json(cred: Credential) -> dict[str, Any]:
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


def _tap_json(tap: Tap, now: datetime, *, with_pass: bool) -> dict[str, Any]:
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


def _thumbprints(registration: Registration) -> tuple[str, ...]:
    """[INFERRED] Graph's attestationCertificates as SHA-1 thumbprints of the statement's x5c."""
    x5c = registration.attestation_object.att_stmt.get("x5c")
    if not isinstance(x5c, list) or not all(isinstance(c, bytes) for c in x5c):
        return ()
    return tuple(hashlib.sha1(der, usedforsecurity=False).hexdigest() for der in x5c)


class GraphApi:
    """The Graph resources of one API version, backed by the store and the decision engine."""

    def __init__(self, store: Store, metadata: Metadata | None, version: str, *,
                 rp_id: str = RP_ID, origins: tuple[str, ...] = ALLOWED_ORIGINS) -> None:
        self.store, self.metadata, self.version = store, metadata, version
        self.rp_id, self.origins = rp_id, origins

    def routes(self) -> list[BaseRoute]:
        users = "/users/{user_id}/authentication"
        me = "/me/authentication"
        return [
            Route("/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2",
                  self.policy, methods=["GET", "PATCH"]),
            Route("/users", self.create_user, methods=["POST"]),
            Route("/users/{user_id}", self.get_user, methods=["GET"]),
            Route("/groups", self.create_group, methods=["POST"]),
            Route("/groups/{group_id}", self.get_group, methods=["GET"]),
            Route("/groups/{group_id}/members/$ref", self.add_member, methods=["POST"]),
            Route("/groups/{group_id}/members/{user_id}/$ref", self.remove_member,
                  methods=["DELETE"]),
            *(Route(f"{base}/fido2Methods", self.fido2_methods, methods=["GET", "POST"])
              for base in (users, me)),
            *(Route(f"{base}/fido2Methods/{{method_id}}", self.fido2_method,
                    methods=["GET", "DELETE"]) for base in (users, me)),
            Route(f"{users}/temporaryAccessPassMethods", self.create_tap, methods=["POST"]),
        ]

    # --- policy --------------------------------------------------------------------------------
    async def policy(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(self.store.policy())
        patch = await _json_object(request)
        current = self.store.policy()
        merged = {**current, **patch, "@odata.type": current["@odata.type"], "id": current["id"]}
        if current.get("passkeyProfiles") is not None and merged.get("passkeyProfiles") is None:
            raise _bad("$.passkeyProfiles: passkey profiles cannot be turned off once enabled",
                       details=[("$.passkeyProfiles", "cannot opt out of passkey profiles "
                                                      "(entra-facts §2)")])
        self.store.save_policy(_valid_policy(merged))
        return Response(status_code=204)

    # --- directory -----------------------------------------------------------------------------
    async def create_user(self, request: Request) -> Response:
        body = await _json_object(request)
        user_type = _field(body, "userType", str, default=str(UserType.MEMBER))
        if user_type not in tuple(UserType):
            raise _bad(f"userType must be Member or Guest, not {user_type[:40]!r}")
        try:
            user = self.store.add_user(_field(body, "userPrincipalName", str, required=True),
                                       _field(body, "displayName", str, required=True),
                                       UserType(user_type))
        except ValueError as e:
            raise _bad(str(e)) from None
        return JSONResponse(_user_json(user), status_code=201)

    def _user(self, user_id: str) -> User:
        user = self.store.user(user_id)
        if user is None:
            raise _not_found("user", user_id)
        return user

    async def get_user(self, request: Request) -> Response:
        return JSONResponse(_user_json(self._user(request.path_params["user_id"])))

    async def create_group(self, request: Request) -> Response:
        body = await _json_object(request)
        group = self.store.add_group(_field(body, "displayName", str, required=True))
        return JSONResponse({"@odata.type": f"{GRAPH}group", "id": group.id,
                             "displayName": group.display_name, "securityEnabled": True},
                            status_code=201)

    def _group_id(self, request: Request) -> str:
        group_id = request.path_params["group_id"]
        if self.store.group(group_id) is None:
            raise _not_found("group", group_id)
        return group_id

    async def get_group(self, request: Request) -> Response:
        group = self.store.group(self._group_id(request))
        assert group is not None  # checked by _group_id
        return JSONResponse({"@odata.type": f"{GRAPH}group", "id": group.id,
                             "displayName": group.display_name, "securityEnabled": True})

    async def add_member(self, request: Request) -> Response:
        group_id = self._group_id(request)
        ref = _field(await _json_object(request), "@odata.id", str, required=True)
        match = _DIRECTORY_REF.search(ref)
        if not match:
            raise _bad("@odata.id must be a directoryObjects URL ending in the member's id")
        user = self._user(match.group(1))
        if not self.store.add_member(group_id, user.id):
            raise _bad(f"user {user.id!r} is already a member of group {group_id!r}")
        return Response(status_code=204)

    async def remove_member(self, request: Request) -> Response:
        group_id, user_id = self._group_id(request), request.path_params["user_id"]
        if not self.store.remove_member(group_id, user_id):
            raise _not_found(f"member of group {group_id!r}", user_id)
        return Response(status_code=204)

    # --- fido2Methods --------------------------------------------------------------------------
    def _subject(self, request: Request) -> tuple[User, Session | None]:
        """The user a request is about: the path's user, or the signed-in user for /me."""
        if "user_id" in request.path_params:
            return self._user(request.path_params["user_id"]), None
        if self.version == "beta":
            raise _bad("self-service (/me) operations aren't supported in the beta API "
                       "(entra-facts §7.1)")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        session = self.store.session(token.strip()) if scheme.lower() == "bearer" else None
        if session is None:
            raise GraphError(401, "unauthenticated", "/me needs 'Authorization: Bearer <token>' "
                                                     "from POST /_emulator/signIn")
        return self._user(session.user_id), session

    async def fido2_methods(self, request: Request) -> Response:
        user, session = self._subject(request)
        if request.method == "GET":
            return JSONResponse({"value": [_method_json(c) for c in self.store.credentials(user.id)
                                           if not c.windows_hello_for_business]})
        return await self._register(request, user, session)

    async def fido2_method(self, request: Request) -> Response:
        user, _ = self._subject(request)
        method_id = request.path_params["method_id"]
        if request.method == "GET" and method_id.startswith("creationOptions"):
            return self._creation_options(user, self._challenge_minutes(method_id))
        cred = next((c for c in self.store.credentials(user.id)
                     if c.id == method_id and not c.windows_hello_for_business), None)
        if cred is None:
            raise _not_found("fido2AuthenticationMethod", method_id)
        if request.method == "DELETE":
            self.store.delete_credential(user.id, method_id)
            return Response(status_code=204)
        return JSONResponse(_method_json(cred))

    def _challenge_minutes(self, call: str) -> int:
        """v1.0 fixes the timeout; beta takes challengeTimeoutInMinutes (entra-facts §7.1)."""
        if call == "creationOptions":
            return CHALLENGE_TIMEOUT_MINUTES
        if self.version != "beta":
            raise _bad("custom challenge timeout values are not supported in v1.0; use beta")
        match = _TIMEOUT_CALL.match(call)
        if not match:
            raise _bad("expected creationOptions(challengeTimeoutInMinutes=<integer>)")
        minutes = int(match.group(1))
        low, high = CHALLENGE_TIMEOUT_RANGE_MINUTES
        if not low <= minutes <= high:
            raise _bad(f"challengeTimeoutInMinutes must be {low}-{high}, not {minutes}")
        return minutes

    def _creation_options(self, user: User, minutes: int) -> Response:
        challenge, expires = self.store.issue_challenge(user.id, minutes)
        existing = [c for c in self.store.credentials(user.id) if not c.windows_hello_for_business]
        return JSONResponse({
            "@odata.type": f"{GRAPH}webauthnCredentialCreationOptions",
            "challengeTimeoutDateTime": iso(expires),
            "publicKey": {
                "rp": {"id": self.rp_id, "name": RP_NAME},
                # [INFERRED] the object id, not the UPN of the doc example: it survives a rename
                "user": {"id": b64url(user.id.encode()), "name": user.user_principal_name,
                         "displayName": user.display_name},
                "challenge": b64url(challenge),
                "pubKeyCredParams": [{"type": "public-key", "alg": alg}
                                     for alg in SUPPORTED_ALGORITHMS],
                "timeout": minutes * 60 * 1000,  # no longer than the challenge lives
                "excludeCredentials": [{"type": "public-key", "id": b64url(c.credential_id),
                                        "transports": []} for c in existing],
                "authenticatorSelection": {"requireResidentKey": True,
                                           "userVerification": "required"},
                "attestation": "direct",
                "extensions": {},
            },
        })

    def _user_context(self, user: User, session: Session | None, now: datetime) -> UserContext:
        age = (now - session.signed_in).total_seconds() if session else None
        return UserContext(
            user_id=user.id,
            user_type=user.user_type,
            groups=self.store.groups_of(user.id),
            mfa_age_seconds=age if session and session.method == "mfa" else None,
            tap=TemporaryAccessPass(session.tap.is_usable_once, age)
            if session and session.tap and age is not None else None,
            existing_credentials=tuple(
                ExistingCredential(c.credential_id, c.aaguid, c.windows_hello_for_business)
                for c in self.store.credentials(user.id)),
        )

    async def _register(self, request: Request, user: User, session: Session | None) -> Response:
        body = await _json_object(request)
        display_name = _field(body, "displayName", str)
        credential = _field(body, "publicKeyCredential", dict, required=True)
        try:
            registration = parse_registration(credential)
        except MalformedRegistration as e:
            raise _bad(f"publicKeyCredential: {e}") from None
        now = self.store.now()
        path = RegistrationPath.PROVISIONING if session is None else RegistrationPath.SELF_SERVICE
        # consumed before deciding, whatever the outcome; the decision sees it as it was
        challenge = self.store.consume_challenge(registration.client_data.challenge, user.id)
        ceremony = CeremonyContext(now=now, challenge=challenge, rp_id=self.rp_id,
                                   origins=self.origins)
        decision = decide(parse_policy(self.store.policy()),
                          self._user_context(user, session, now), path, registration, ceremony,
                          metadata=self.metadata)
        if not decision.accepted:
            raise _refusal(decision)
        cred = Credential(
            id=b64url(registration.credential_id),
            user_id=user.id,
            credential_id=registration.credential_id,
            aaguid=decision.aaguid or "",
            model=self._model(decision.aaguid),
            attestation_level=decision.attestation_level,
            passkey_type=decision.passkey_type,
            display_name=display_name,
            created=now,
            public_key=_public_key(registration),
            attestation_certificates=_thumbprints(registration),
            windows_hello_for_business=False,
        )
        self.store.add_credential(cred)
        # An OData instance annotation: Graph clients ignore it, the suite reads the decision.
        return JSONResponse({**_method_json(cred), "@pkconf.decision": decision.to_json()},
                            status_code=201)

    def _model(self, aaguid: str | None) -> str | None:
        """The authenticator's name from metadata, when metadata knows it."""
        if self.metadata is None or not aaguid:
            return None
        entry = self.metadata.entry(aaguid)
        return (entry.description or None) if entry is not None else None

    # --- Temporary Access Pass -----------------------------------------------------------------
    async def create_tap(self, request: Request) -> Response:
        user = self._user(request.path_params["user_id"])
        body = await _json_object(request)
        now = self.store.now()
        lifetime = _field(body, "lifetimeInMinutes", int, default=TAP_DEFAULT_LIFETIME_MINUTES)
        low, high = TAP_LIFETIME_MINUTES
        if not low <= lifetime <= high:
            raise _bad(f"lifetimeInMinutes must be {low}-{high}, not {lifetime}")
        tap = self.store.add_tap(user.id,
                                 is_usable_once=_field(body, "isUsableOnce", bool, default=False),
                                 lifetime_minutes=lifetime,
                                 start=_moment(body, "startDateTime", now))
        return JSONResponse(_tap_json(tap, now, with_pass=True), status_code=201)


def _public_key(registration: Registration) -> bytes:
    data = registration.auth_data.credential_data
    assert data is not None  # the parser guarantees attested credential data
    return cbor.encode(dict(data.public_key))


def _refusal(decision: Decision) -> GraphError:
    assert decision.family is not None  # a rejection always has a family
    status, code = _STATUS_BY_FAMILY[decision.family]
    return GraphError(status, code, decision.detail,
                      inner={"pkconfDecision": decision.to_json()})


def tap_sign_in(store: Store, user_id: str, body: Mapping[str, Any], at: datetime) -> Tap:
    """The pass a TAP sign-in uses, after its checks; a one-time pass is spent here.

    Shared by the emulator's sign-in control and the Security-info sign-in page.
    """
    tap = store.tap_by_pass(user_id, _field(body, "temporaryAccessPass", str, required=True))
    if tap is None:
        raise GraphError(401, "unauthenticated", "the Temporary Access Pass is not valid "
                                                 "for this user")
    reason = tap.usability(at)
    if reason == "EnabledByPolicy" and tap.is_usable_once and not store.use_tap(tap.id):
        reason = "OneTimeUsed"  # consumed by a concurrent sign-in
    if reason != "EnabledByPolicy":
        raise GraphError(401, "unauthenticated",
                         f"the Temporary Access Pass is not usable: {reason}")
    return tap


class EmulatorControls:
    """Emulator-only levers: sign-in, the clock, seeding credentials, reset, health."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/health", self.health, methods=["GET"]),
            Route("/reset", self.reset, methods=["POST"]),
            Route("/clock", self.clock, methods=["GET", "PUT"]),
            Route("/clock/advance", self.advance, methods=["POST"]),
            Route("/signIn", self.sign_in, methods=["POST"]),
            Route("/users/{user_id}/credentials", self.add_credential, methods=["POST"]),
            Route("/scenarios", self.scenario, methods=["POST"]),
        ]

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "now": iso(self.store.now())})

    async def reset(self, request: Request) -> Response:
        self.store.reset()
        return Response(status_code=204)

    async def clock(self, request: Request) -> Response:
        if request.method == "PUT":
            body = await _json_object(request)
            if body.get("now") is None:
                raise _bad("now is required")
            self.store.set_clock(_moment(body, "now", self.store.now()))
        return JSONResponse({"now": iso(self.store.now())})

    async def advance(self, request: Request) -> Response:
        seconds = (await _json_object(request)).get("seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            raise _bad("seconds must be a non-negative number (PUT /_emulator/clock goes back)")
        if seconds > MAX_ADVANCE_SECONDS:
            raise _bad(f"seconds must be at most {MAX_ADVANCE_SECONDS}")
        if (self.store.now() + timedelta(seconds=seconds)).year > YEARS[1]:
            raise _bad(f"the clock cannot go past the year {YEARS[1]}")
        return JSONResponse({"now": iso(self.store.advance_clock(seconds))})

    async def sign_in(self, request: Request) -> Response:
        """A session for /me; TAP sign-in checks the pass's window and consumes a one-time pass."""
        body = await _json_object(request)
        user_id = _field(body, "userId", str, required=True)
        if self.store.user(user_id) is None:
            raise _not_found("user", user_id)
        method = _field(body, "method", str, required=True)
        if method not in SIGN_IN_METHODS:
            raise _bad(f"method must be one of {', '.join(SIGN_IN_METHODS)}")
        now = self.store.now()
        at = _moment(body, "at", now)
        if at > now:
            raise _bad("at is later than the emulator clock; advance the clock first")
        tap = tap_sign_in(self.store, user_id, body, at) if method == "tap" else None
        token = self.store.add_session(user_id, method, at, tap.id if tap else None)
        return JSONResponse({"token": token, "userId": user_id, "method": method,
                             "signedInDateTime": iso(at)}, status_code=201)

    async def add_credential(self, request: Request) -> Response:
        """Seed a credential the user already has (e.g. Windows Hello for Business)."""
        user_id = request.path_params["user_id"]
        if self.store.user(user_id) is None:
            raise _not_found("user", user_id)
        body = await _json_object(request)
        encoded = _field(body, "credentialId", str, required=True)
        try:
            credential_id = urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            raise _bad("credentialId is not base64url") from None
        if not credential_id or b64url(credential_id) != encoded.rstrip("="):
            raise _bad("credentialId is not base64url")
        whfb = _field(body, "windowsHelloForBusiness", bool, default=False)
        aaguid = _field(body, "aaGuid", str, default=str(uuid.UUID(int=0)))
        try:
            aaguid = str(uuid.UUID(aaguid))
        except ValueError:
            raise _bad(f"aaGuid {aaguid[:40]!r} is not a GUID") from None
        cred = Credential(
            id=b64url(credential_id), user_id=user_id, credential_id=credential_id,
            aaguid=aaguid, model=None, attestation_level=None,
            passkey_type=None, display_name=_field(body, "displayName", str),
            created=self.store.now(), public_key=None, attestation_certificates=(),
            windows_hello_for_business=whfb)
        if not self.store.add_credential(cred):
            raise _bad(f"the user already has credential {cred.id!r}")
        return JSONResponse({"id": cred.id, "userId": user_id, "aaGuid": cred.aaguid,
                             "windowsHelloForBusiness": whfb}, status_code=201)


    async def scenario(self, request: Request) -> Response:
        """Lay out one test case in a single round trip: policy, fresh groups, user, sign-in.

        The policy replaces the current one whole (a case holds a complete export, and a PATCH
        merge would carry the previous case's profiles over); include/exclude target ids that
        name one of `groups` become the fresh groups' ids, so every case has groups of its own.
        """
        body = await _json_object(request)
        names = _field(body, "groups", list, default=[])
        if not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
            raise _bad("groups must be a list of distinct, non-empty group names")
        spec = _field(body, "user", dict, default={})
        user_type = _field(spec, "userType", str, default=str(UserType.MEMBER))
        if user_type not in tuple(UserType):
            raise _bad(f"user.userType must be Member or Guest, not {user_type[:40]!r}")
        member_of = _field(spec, "memberOf", list, default=[])
        if not all(isinstance(n, str) and n in names for n in member_of):
            raise _bad("user.memberOf must name groups listed in groups")
        sign_in = _field(body, "signIn", dict)
        plan = self._sign_in_plan(sign_in) if sign_in else None
        seeds = _field(body, "existingCredentials", list, default=[])
        if not all(isinstance(c, dict) for c in seeds):
            raise _bad("existingCredentials must be a list of objects")
        credentials = [self._seed("", seed) for seed in seeds]
        policy = _field(body, "policy", dict)
        if policy is not None:  # judged with the names standing in for the groups' ids
            _valid_policy(_with_group_ids(policy, {name: name for name in names}))
        # everything is checked: only now does the store change
        groups = {name: self.store.add_group(name).id for name in names}
        if policy is not None:
            self.store.save_policy(_with_group_ids(policy, groups))
        user = self.store.add_user(f"case-{uuid.uuid4().hex[:12]}@pkconf.test",
                                   _field(spec, "displayName", str, default="Case user"),
                                   UserType(user_type))
        for name in member_of:
            self.store.add_member(groups[name], user.id)
        token = self._sign_in_as(user.id, *plan) if plan else None
        for credential in credentials:
            self.store.add_credential(replace(credential, user_id=user.id))
        return JSONResponse({"userId": user.id, "groups": groups, "token": token},
                            status_code=201)

    def _sign_in_plan(self, spec: Mapping[str, Any]) -> tuple[str, datetime, bool]:
        """A scenario's sign-in, checked: method, when, and whether a TAP is one-time."""
        method = _field(spec, "method", str, required=True)
        if method not in SIGN_IN_METHODS:
            raise _bad(f"signIn.method must be one of {', '.join(SIGN_IN_METHODS)}")
        age = _field(spec, "ageSeconds", (int, float), default=0)
        if age < 0 or age > MAX_ADVANCE_SECONDS:
            raise _bad(f"signIn.ageSeconds must be between 0 and {MAX_ADVANCE_SECONDS}")
        once = _field(spec, "isUsableOnce", bool, default=False)
        return method, self.store.now() - timedelta(seconds=age), once

    def _sign_in_as(self, user_id: str, method: str, at: datetime, once: bool) -> str:
        if method != "tap":
            return self.store.add_session(user_id, method, at)
        tap = self.store.add_tap(user_id, is_usable_once=once, lifetime_minutes=60,
                                 start=at - timedelta(minutes=1))
        if once:
            self.store.use_tap(tap.id)  # the sign-in spends a one-time pass
        return self.store.add_session(user_id, "tap", at, tap.id)

    def _seed(self, user_id: str, spec: Mapping[str, Any]) -> Credential:
        credential_id = secrets.token_bytes(16)
        aaguid = _field(spec, "aaGuid", str, default=str(uuid.UUID(int=0)))
        try:
            aaguid = str(uuid.UUID(aaguid))
        except ValueError:
            raise _bad(f"aaGuid {aaguid[:40]!r} is not a GUID") from None
        return Credential(
            id=b64url(credential_id), user_id=user_id, credential_id=credential_id,
            aaguid=aaguid, model=None, attestation_level=None, passkey_type=None,
            display_name=_field(spec, "displayName", str), created=self.store.now(),
            public_key=None, attestation_certificates=(),
            windows_hello_for_business=_field(spec, "windowsHelloForBusiness", bool,
                                              default=False))

# --- the application ------------------------------------------------------------------------------

def _error_json(request: Request, error: GraphError,
                headers: Mapping[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = [{"code": error.code, "target": target, "message": msg}
                           for target, msg in error.details]
    body["innerError"] = {
        "date": iso(utc_now()),  # wall time, as a log line: it must not need the store
        "request-id": str(uuid.uuid4()),
        "client-request-id": request.headers.get("client-request-id", str(uuid.uuid4())),
        **error.inner,
    }
    return JSONResponse({"error": body}, status_code=error.status, headers=headers)


async def _on_graph_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GraphError)
    return _error_json(request, exc)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "itemNotFound", 405: "notAllowed"}
    message = (f"no resource at {request.url.path}" if exc.status_code == 404
               else f"{request.method} is not allowed on {request.url.path}")
    error = GraphError(exc.status_code, codes.get(exc.status_code, "invalidRequest"), message)
    return _error_json(request, error, exc.headers)


async def _on_crash(request: Request, exc: Exception) -> Response:
    """A bug, not an answer: still a Graph envelope, never a traceback."""
    return _error_json(request, GraphError(500, "generalException",
                                           f"internal emulator error ({type(exc).__name__})"))


def create_app(store: Store, metadata: Metadata | None = None, *, rp_id: str = RP_ID,
               origins: tuple[str, ...] = ALLOWED_ORIGINS) -> Starlette:
    """The emulator as an ASGI app over `store`; `metadata` is an optional FIDO MDS view.

    `rp_id`/`origins` replace Entra's for a browser on `http://localhost` (the pages' fallback).
    """
    from .pages import SecurityInfoPages  # imported here: the pages use this module's helpers

    app = Starlette(
        routes=[
            Mount("/_emulator", routes=EmulatorControls(store).routes()),
            *(Mount(f"/{v}", routes=GraphApi(store, metadata, v, rp_id=rp_id,
                                             origins=origins).routes())
              for v in ("v1.0", "beta")),
            *SecurityInfoPages(store, rp_id=rp_id, origins=origins).routes(),
        ],
        exception_handlers={GraphError: _on_graph_error, HTTPException: _on_http_error,
                            Exception: _on_crash},
    )
    return app
