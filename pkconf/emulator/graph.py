"""Graph's resources of one API version, over the store and the decision engine.

Graph's resources live under `/v1.0` and `/beta`. Handlers are `async` and call the store
synchronously, so a registration's challenge lookup, decision and credential insert cannot
interleave with another request on the event loop.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..tenant.attestation import Metadata
from ..tenant.decision import (
    CeremonyContext,
    ExistingCredential,
    RegistrationPath,
    TemporaryAccessPass,
    UserContext,
    UserType,
)
from ..tenant.engine import decide
from ..tenant.policy import parse_policy
from ..tenant.registration import MalformedRegistration, parse_registration
from ..tenant.rules import (
    ALLOWED_ORIGINS,
    CHALLENGE_TIMEOUT_MINUTES,
    CHALLENGE_TIMEOUT_RANGE_MINUTES,
    RP_ID,
    RP_NAME,
    SUPPORTED_ALGORITHMS,
)
from .http import GraphError, b64url, bad, json_field, json_object, moment, not_found
from .pages import accepted_origins
from .shapes import (
    GRAPH,
    method_json,
    public_key,
    refusal,
    tap_json,
    thumbprints,
    user_json,
    valid_policy,
)
from .store import GRAPH_CLIENT, Credential, Session, Store, User, iso

TAP_LIFETIME_MINUTES = (10, 43200)  # [DOC TAP] allowed range
TAP_DEFAULT_LIFETIME_MINUTES = 60  # [DOC TAP] policy default
_TIMEOUT_CALL = re.compile(r"^creationOptions\(challengeTimeoutInMinutes=(-?\d{1,9})\)$")
_DIRECTORY_REF = re.compile(r"/(?:directoryObjects|users)/([^/?#]+)$")


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
        patch = await json_object(request)
        current = self.store.policy()
        merged = {**current, **patch, "@odata.type": current["@odata.type"], "id": current["id"]}
        if current.get("passkeyProfiles") is not None and merged.get("passkeyProfiles") is None:
            raise bad("$.passkeyProfiles: passkey profiles cannot be turned off once enabled",
                       details=[("$.passkeyProfiles", "cannot opt out of passkey profiles "
                                                      "(entra-facts §2)")])
        self.store.save_policy(valid_policy(merged))
        return Response(status_code=204)

    # --- directory -----------------------------------------------------------------------------
    async def create_user(self, request: Request) -> Response:
        body = await json_object(request)
        user_type = json_field(body, "userType", str, default=str(UserType.MEMBER))
        if user_type not in tuple(UserType):
            raise bad(f"userType must be Member or Guest, not {user_type[:40]!r}")
        try:
            user = self.store.add_user(json_field(body, "userPrincipalName", str, required=True),
                                       json_field(body, "displayName", str, required=True),
                                       UserType(user_type))
        except ValueError as e:
            raise bad(str(e)) from None
        return JSONResponse(user_json(user), status_code=201)

    def _user(self, user_id: str) -> User:
        user = self.store.user(user_id)
        if user is None:
            raise not_found("user", user_id)
        return user

    async def get_user(self, request: Request) -> Response:
        return JSONResponse(user_json(self._user(request.path_params["user_id"])))

    async def create_group(self, request: Request) -> Response:
        body = await json_object(request)
        group = self.store.add_group(json_field(body, "displayName", str, required=True))
        return JSONResponse({"@odata.type": f"{GRAPH}group", "id": group.id,
                             "displayName": group.display_name, "securityEnabled": True},
                            status_code=201)

    def _group_id(self, request: Request) -> str:
        group_id = request.path_params["group_id"]
        if self.store.group(group_id) is None:
            raise not_found("group", group_id)
        return group_id

    async def get_group(self, request: Request) -> Response:
        group = self.store.group(self._group_id(request))
        assert group is not None  # checked by _group_id
        return JSONResponse({"@odata.type": f"{GRAPH}group", "id": group.id,
                             "displayName": group.display_name, "securityEnabled": True})

    async def add_member(self, request: Request) -> Response:
        group_id = self._group_id(request)
        ref = json_field(await json_object(request), "@odata.id", str, required=True)
        match = _DIRECTORY_REF.search(ref)
        if not match:
            raise bad("@odata.id must be a directoryObjects URL ending in the member's id")
        user = self._user(match.group(1))
        if not self.store.add_member(group_id, user.id):
            raise bad(f"user {user.id!r} is already a member of group {group_id!r}")
        return Response(status_code=204)

    async def remove_member(self, request: Request) -> Response:
        group_id, user_id = self._group_id(request), request.path_params["user_id"]
        if not self.store.remove_member(group_id, user_id):
            raise not_found(f"member of group {group_id!r}", user_id)
        return Response(status_code=204)

    # --- fido2Methods --------------------------------------------------------------------------
    def _subject(self, request: Request) -> tuple[User, Session | None]:
        """The user a request is about: the path's user, or the signed-in user for /me."""
        if "user_id" in request.path_params:
            return self._user(request.path_params["user_id"]), None
        if self.version == "beta":
            raise bad("self-service (/me) operations aren't supported in the beta API "
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
            return JSONResponse({"value": [method_json(c) for c in self.store.credentials(user.id)
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
            raise not_found("fido2AuthenticationMethod", method_id)
        if request.method == "DELETE":
            self.store.delete_credential(user.id, method_id)
            return Response(status_code=204)
        return JSONResponse(method_json(cred))

    def _challenge_minutes(self, call: str) -> int:
        """v1.0 fixes the timeout; beta takes challengeTimeoutInMinutes (entra-facts §7.1)."""
        if call == "creationOptions":
            return CHALLENGE_TIMEOUT_MINUTES
        if self.version != "beta":
            raise bad("custom challenge timeout values are not supported in v1.0; use beta")
        match = _TIMEOUT_CALL.match(call)
        if not match:
            raise bad("expected creationOptions(challengeTimeoutInMinutes=<integer>)")
        minutes = int(match.group(1))
        low, high = CHALLENGE_TIMEOUT_RANGE_MINUTES
        if not low <= minutes <= high:
            raise bad(f"challengeTimeoutInMinutes must be {low}-{high}, not {minutes}")
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
        """The user as the decision sees them: the session's MFA and TAP sign-in (both may be
        there) and the bootstrap policies the user is in."""
        age = (now - session.signed_in).total_seconds() if session else None
        mfa_at = session.mfa_at if session else None
        return UserContext(
            user_id=user.id,
            user_type=user.user_type,
            groups=self.store.groups_of(user.id),
            mfa_age_seconds=(now - mfa_at).total_seconds() if mfa_at else None,
            tap=TemporaryAccessPass(session.tap.is_usable_once, age)
            if session and session.tap and age is not None else None,
            **asdict(self.store.bootstrap_scope(user.id)),
            existing_credentials=tuple(
                ExistingCredential(c.credential_id, c.aaguid, c.windows_hello_for_business)
                for c in self.store.credentials(user.id)),
            platform_credentials=self.store.platform_credentials(user.id),
        )

    async def _register(self, request: Request, user: User, session: Session | None) -> Response:
        body = await json_object(request)
        display_name = json_field(body, "displayName", str)
        credential = json_field(body, "publicKeyCredential", dict, required=True)
        try:
            registration = parse_registration(credential)
        except MalformedRegistration as e:
            raise bad(f"publicKeyCredential: {e}") from None
        now = self.store.now()
        path = (RegistrationPath.PROVISIONING if session is None
                else RegistrationPath.GRAPH_ME if session.client == GRAPH_CLIENT
                else RegistrationPath.SELF_SERVICE)
        # consumed before deciding, whatever the outcome; the decision sees it as it was
        challenge = self.store.consume_challenge(registration.client_data.challenge, user.id)
        origins = accepted_origins(self.origins, self.rp_id, request.headers.get("origin"))
        ceremony = CeremonyContext(now=now, challenge=challenge, rp_id=self.rp_id,
                                   origins=origins)
        decision = decide(parse_policy(self.store.policy()),
                          self._user_context(user, session, now), path, registration, ceremony,
                          metadata=self.metadata, book=self.store.rule_book().book(now))
        if not decision.accepted:
            raise refusal(decision)
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
            public_key=public_key(registration),
            attestation_certificates=thumbprints(registration),
            windows_hello_for_business=False,
        )
        self.store.add_credential(cred)
        # An OData instance annotation: Graph clients ignore it, the suite reads the decision.
        return JSONResponse({**method_json(cred), "@pkconf.decision": decision.to_json()},
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
        body = await json_object(request)
        now = self.store.now()
        lifetime = json_field(body, "lifetimeInMinutes", int, default=TAP_DEFAULT_LIFETIME_MINUTES)
        low, high = TAP_LIFETIME_MINUTES
        if not low <= lifetime <= high:
            raise bad(f"lifetimeInMinutes must be {low}-{high}, not {lifetime}")
        once = json_field(body, "isUsableOnce", bool, default=False)
        tap = self.store.add_tap(user.id, is_usable_once=once, lifetime_minutes=lifetime,
                                 start=moment(body, "startDateTime", now))
        return JSONResponse(tap_json(tap, now, with_pass=True), status_code=201)
