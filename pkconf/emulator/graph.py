"""Graph's resources of one API version, over the store and the decision engine.

Graph's resources live under `/v1.0` and `/beta`. Handlers are `async` and call the store
synchronously, so a registration's challenge lookup, decision and credential insert cannot
interleave with another request on the event loop.

An admin's calls (`/users/...`, `/groups`, `/domains`, `/policies`) need an application's token
and the Graph permission the call needs once any application is registered (oauth.Identity);
`/me` is the signed-in user's, on the emulator's sessions. Lists are paged as Graph pages them.
"""

from __future__ import annotations

import json
import re
from base64 import urlsafe_b64decode
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
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
from ..tenant.registration import MalformedRegistration, parse_registration
from ..tenant.rules import (
    ALLOWED_ORIGINS,
    CHALLENGE_TIMEOUT_MINUTES,
    CHALLENGE_TIMEOUT_RANGE_MINUTES,
    RP_ID,
    RP_NAME,
    SUPPORTED_ALGORITHMS,
)
from .faults import WriteThrottle, throttled
from .http import GraphError, GraphJson, b64url, bad, json_field, json_object, moment, not_found
from .oauth import (
    DEFAULT_DOMAIN,
    ROLE_AUTH_METHODS,
    ROLE_DOMAINS,
    ROLE_GROUPS,
    ROLE_POLICY_READ,
    ROLE_POLICY_WRITE,
    ROLE_USERS,
    Identity,
)
from .pages import accepted_origins
from .shapes import (
    GRAPH,
    credential_id_text,
    group_json,
    method_json,
    public_key,
    refusal,
    tap_json,
    thumbprints,
    user_json,
    valid_policy,
)
from .store import GRAPH_CLIENT, Credential, Session, Store, User, iso

Endpoint = Callable[[Request], Awaitable[Response]]

TAP_LIFETIME_MINUTES = (10, 43200)  # [DOC TAP] allowed range
TAP_DEFAULT_LIFETIME_MINUTES = 60  # [DOC TAP] policy default
_TIMEOUT_CALL = re.compile(r"^creationOptions\(challengeTimeoutInMinutes=(-?\d{1,9})\)$")
_DIRECTORY_REF = re.compile(r"/(?:directoryObjects|users)/([^/?#]+)$")
_STARTS_WITH = re.compile(r"^startswith\((\w+), *'((?:[^']|'')*)'\)$")
MAX_POLICY_BYTES = 20 * 1024  # entra-facts §2 "Size limit": the policy may be at most 20 KB
MAX_TOP = 999  # Graph's largest page of directory objects


def _starts_with(request: Request, properties: Sequence[str]) -> tuple[str, str] | None:
    """`$filter=startswith(property,'text')` on one of `properties`, the one filter the
    directory lists take here; anything else is Graph's unsupported query."""
    text = request.query_params.get("$filter")
    if text is None:
        return None
    match = _STARTS_WITH.match(text.strip())
    if not match or match.group(1) not in properties:
        raise GraphError(400, "Request_UnsupportedQuery",
                         f"Unsupported Query. The emulator filters only with "
                         f"startswith({'|'.join(properties)},'text'), not {text[:80]!r}")
    return match.group(1), match.group(2).replace("''", "'")


class GraphApi:
    """The Graph resources of one API version, backed by the store and the decision engine."""

    def __init__(self, store: Store, metadata: Metadata | None, version: str, *,
                 rp_id: str = RP_ID, origins: tuple[str, ...] = ALLOWED_ORIGINS,
                 identity: Identity | None = None,
                 policy_writes: WriteThrottle | None = None) -> None:
        self.store, self.metadata, self.version = store, metadata, version
        self.rp_id, self.origins = rp_id, origins
        self.identity = identity or Identity()
        self.policy_writes = policy_writes or WriteThrottle()

    def _admin(self, endpoint: Endpoint, read: tuple[str, ...],
               write: tuple[str, ...] | None = None) -> Endpoint:
        """`endpoint` behind the application permissions a call needs: `read` for GET,
        `write` (else `read`) for the other methods."""
        async def guarded(request: Request) -> Response:
            reading = request.method in ("GET", "HEAD")
            self.identity.authorize(request, read if reading or write is None else write)
            return await endpoint(request)
        return guarded

    def routes(self) -> list[BaseRoute]:
        users = "/users/{user_id}/authentication"
        me = "/me/authentication"
        methods = (ROLE_AUTH_METHODS,)
        return [  # /me first, as every ceremony calls it; no two paths overlap, so order is free
            Route(f"{me}/fido2Methods", self.fido2_methods, methods=["GET", "POST"]),
            Route(f"{me}/fido2Methods/{{method_id}}", self.fido2_method,
                  methods=["GET", "DELETE"]),
            Route("/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2",
                  self._admin(self.policy, (ROLE_POLICY_READ, ROLE_POLICY_WRITE),
                              (ROLE_POLICY_WRITE,)), methods=["GET", "PATCH"]),
            Route("/domains", self._admin(self.domains, (ROLE_DOMAINS,)), methods=["GET"]),
            Route("/users", self._admin(self.users, (ROLE_USERS,)), methods=["GET", "POST"]),
            Route("/users/{user_id}", self._admin(self.user, (ROLE_USERS,)),
                  methods=["GET", "DELETE"]),
            Route("/groups", self._admin(self.groups, (ROLE_GROUPS,)), methods=["GET", "POST"]),
            Route("/groups/{group_id}", self._admin(self.group, (ROLE_GROUPS,)),
                  methods=["GET", "DELETE"]),
            Route("/groups/{group_id}/members/$ref", self._admin(self.add_member, (ROLE_GROUPS,)),
                  methods=["POST"]),
            Route("/groups/{group_id}/members/{user_id}/$ref",
                  self._admin(self.remove_member, (ROLE_GROUPS,)), methods=["DELETE"]),
            Route(f"{users}/fido2Methods", self._admin(self.fido2_methods, methods),
                  methods=["GET", "POST"]),
            Route(f"{users}/fido2Methods/{{method_id}}", self._admin(self.fido2_method, methods),
                  methods=["GET", "DELETE"]),
            Route(f"{users}/temporaryAccessPassMethods", self._admin(self.create_tap, methods),
                  methods=["POST"]),
        ]

    # --- paging --------------------------------------------------------------------------------
    def _page(self, request: Request, items: Sequence[dict[str, Any]]) -> Response:
        """One page of `items`: `$top` (else the emulator's page size) from `$skiptoken` on,
        with an absolute `@odata.nextLink` while more follow."""
        size = self.store.options().page_size
        top = request.query_params.get("$top")
        if top is not None:
            if not top.isdigit() or not 1 <= int(top) <= MAX_TOP:
                raise bad(f"$top must be an integer 1-{MAX_TOP}")
            size = min(size, int(top))
        start = _skip(request.query_params.get("$skiptoken"))
        body: dict[str, Any] = {"value": list(items[start:start + size])}
        if start + size < len(items):
            token = b64url(f"skip:{start + size}".encode())
            body["@odata.nextLink"] = str(request.url.include_query_params(
                **{"$skiptoken": token}))
        return GraphJson(body)

    # --- policy --------------------------------------------------------------------------------
    async def policy(self, request: Request) -> Response:
        if request.method == "GET":
            return GraphJson(self.store.policy())
        retry_after = self.policy_writes.admit(self.store.options().policy_writes_per_minute)
        if retry_after is not None:
            return throttled(request, 429, retry_after)
        patch = await json_object(request)
        current = self.store.policy()
        merged = {**current, **patch, "@odata.type": current["@odata.type"], "id": current["id"]}
        if current.get("passkeyProfiles") is not None and merged.get("passkeyProfiles") is None:
            raise bad("$.passkeyProfiles: passkey profiles cannot be turned off once enabled",
                       details=[("$.passkeyProfiles", "cannot opt out of passkey profiles "
                                                      "(entra-facts §2)")])
        # The limit is the whole authentication methods policy's; the emulator holds only its
        # fido2 configuration, so that is what it measures (compact JSON, as Graph sends it).
        size = len(json.dumps(merged, separators=(",", ":")).encode())
        if size > MAX_POLICY_BYTES:
            raise bad(f"the policy would be {size} bytes: the authentication methods policy may "
                      f"be at most 20 KB ({MAX_POLICY_BYTES} bytes, entra-facts §2)")
        self.store.save_policy(valid_policy(merged))
        return Response(status_code=204)

    # --- directory -----------------------------------------------------------------------------
    async def domains(self, request: Request) -> Response:
        """The tenant's one domain: verified, initial and default (test users' UPNs use it)."""
        return GraphJson({"value": [{
            "id": DEFAULT_DOMAIN, "authenticationType": "Managed", "isAdminManaged": True,
            "isDefault": True, "isInitial": True, "isRoot": True, "isVerified": True,
            "supportedServices": ["Email", "OfficeCommunicationsOnline"],
        }]})

    async def users(self, request: Request) -> Response:
        if request.method == "POST":
            return await self.create_user(request)
        found = self.store.users(_starts_with(request, ("displayName", "userPrincipalName")))
        return self._page(request, [user_json(u) for u in found])

    async def user(self, request: Request) -> Response:
        user = self._user(request.path_params["user_id"])
        if request.method == "DELETE":
            self.store.delete_user(user.id)
            return Response(status_code=204)
        return GraphJson(user_json(user))

    async def groups(self, request: Request) -> Response:
        if request.method == "POST":
            return await self.create_group(request)
        found = self.store.groups(_starts_with(request, ("displayName",)))
        return self._page(request, [group_json(g) for g in found])

    async def group(self, request: Request) -> Response:
        group_id = self._group_id(request)
        if request.method == "DELETE":
            self.store.delete_group(group_id)
            return Response(status_code=204)
        group = self.store.group(group_id)
        assert group is not None  # checked by _group_id
        return GraphJson(group_json(group))

    async def create_user(self, request: Request) -> Response:
        """Graph's body for a new user; its password is checked for shape only, never kept,
        echoed or logged (the emulator signs users in without one)."""
        body = await json_object(request)
        json_field(body, "accountEnabled", bool)
        json_field(body, "mailNickname", str)
        profile = json_field(body, "passwordProfile", dict, default={})
        if profile.get("password") is not None and not isinstance(profile["password"], str):
            raise bad("passwordProfile.password must be a string")
        json_field(profile, "forceChangePasswordNextSignIn", bool)
        user_type = json_field(body, "userType", str, default=str(UserType.MEMBER))
        if user_type not in tuple(UserType):
            raise bad(f"userType must be Member or Guest, not {user_type[:40]!r}")
        try:
            user = self.store.add_user(json_field(body, "userPrincipalName", str, required=True),
                                       json_field(body, "displayName", str, required=True),
                                       UserType(user_type))
        except ValueError as e:
            raise bad(str(e)) from None
        return GraphJson(user_json(user), status_code=201)

    def _user(self, user_id: str) -> User:
        user = self.store.user(user_id)
        if user is None:
            raise not_found("user", user_id)
        return user

    async def create_group(self, request: Request) -> Response:
        """Graph's body for a security group (the mail settings are checked, not kept)."""
        body = await json_object(request)
        for flag in ("mailEnabled", "securityEnabled"):
            json_field(body, flag, bool)
        json_field(body, "mailNickname", str)
        group = self.store.add_group(json_field(body, "displayName", str, required=True))
        return GraphJson(group_json(group), status_code=201)

    def _group_id(self, request: Request) -> str:
        group_id = request.path_params["group_id"]
        if self.store.group(group_id) is None:
            raise not_found("group", group_id)
        return group_id

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
        found = self.store.session_user(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise GraphError(401, "unauthenticated", "/me needs 'Authorization: Bearer <token>' "
                                                     "from POST /_emulator/signIn")
        session, user = found
        if user is None:
            raise not_found("user", session.user_id)
        return user, session

    async def fido2_methods(self, request: Request) -> Response:
        user, session = self._subject(request)
        if request.method == "GET":
            return self._page(request, [method_json(c) for c in self.store.credentials(user.id)
                                        if not c.windows_hello_for_business])
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
        return GraphJson(method_json(cred))

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
        settings = self.store.settings()
        challenge, expires = self.store.issue_challenge(user.id, minutes, settings.now)
        existing = [c for c in self.store.credentials(user.id) if not c.windows_hello_for_business]
        encoding = settings.options.exclude_credentials_encoding
        return GraphJson({
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
                "excludeCredentials": [{"type": "public-key",
                                        "id": credential_id_text(c.credential_id, encoding),
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
        standing = self.store.standing(user.id)
        scope = standing.scope
        return UserContext(
            user_id=user.id,
            user_type=user.user_type,
            groups=standing.groups,
            mfa_age_seconds=(now - mfa_at).total_seconds() if mfa_at else None,
            tap=TemporaryAccessPass(session.tap.is_usable_once, age)
            if session and session.tap and age is not None else None,
            in_tap_policy=scope.in_tap_policy,
            registration_interrupt=scope.registration_interrupt,
            conditional_access_unmet=scope.conditional_access_unmet,
            existing_credentials=tuple(
                ExistingCredential(c.credential_id, c.aaguid, c.windows_hello_for_business)
                for c in self.store.credentials(user.id)),
            platform_credentials=standing.platform_credentials,
        )

    async def _register(self, request: Request, user: User, session: Session | None) -> Response:
        body = await json_object(request)
        display_name = json_field(body, "displayName", str)
        credential = json_field(body, "publicKeyCredential", dict, required=True)
        try:
            registration = parse_registration(credential)
        except MalformedRegistration as e:
            raise bad(f"publicKeyCredential: {e}") from None
        settings, policy = self.store.settings_and_policy()
        now = settings.now
        path = (RegistrationPath.PROVISIONING if session is None
                else RegistrationPath.GRAPH_ME if session.client == GRAPH_CLIENT
                else RegistrationPath.SELF_SERVICE)
        # consumed before deciding, whatever the outcome; the decision sees it as it was
        challenge = self.store.consume_challenge(registration.client_data.challenge, user.id)
        origins = accepted_origins(self.origins, self.rp_id, request.headers.get("origin"))
        ceremony = CeremonyContext(now=now, challenge=challenge, rp_id=self.rp_id,
                                   origins=origins)
        decision = decide(policy,
                          self._user_context(user, session, now), path, registration, ceremony,
                          metadata=self.metadata, book=settings.rule_book.book(now))
        annotate = settings.options.annotations
        if not decision.accepted:
            raise refusal(decision, annotate=annotate)
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
        annotation = {"@pkconf.decision": decision.to_json()} if annotate else {}
        return GraphJson({**method_json(cred), **annotation}, status_code=201)

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
        return GraphJson(tap_json(tap, now, with_pass=True), status_code=201)


def _skip(token: str | None) -> int:
    """Where a page starts: the offset our `$skiptoken` carries (0 without one)."""
    if token is None:
        return 0
    try:
        text = urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except ValueError:
        text = ""
    kind, _, offset = text.partition(":")
    if kind != "skip" or not offset.isdigit():
        raise bad("$skiptoken is not one this service issued")
    return int(offset)
