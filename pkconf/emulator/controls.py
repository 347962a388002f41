"""Emulator-only controls under `/_emulator/`: sign-in, the clock, the rule book, seeding,
scenarios, reset.

They live apart from Graph's paths so nothing here can be mistaken for Graph.
"""

from __future__ import annotations

import json
import secrets
import uuid
from base64 import urlsafe_b64decode
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..tenant.decision import (
    ExistingCredential,
    TemporaryAccessPass,
    UserContext,
    UserJsonError,
)
from ..tenant.rules import Cloud
from .http import (
    MAX_ADVANCE_SECONDS,
    MAX_BODY_BYTES,
    YEARS,
    GraphJson,
    b64url,
    bad,
    capped_body,
    json_field,
    json_object,
    moment,
    not_found,
    parse_json_object,
)
from .shapes import valid_policy, with_group_ids
from .signin import SIGN_IN_METHODS, tap_sign_in
from .store import (
    CLIENTS,
    SECURITY_INFO_CLIENT,
    BootstrapScope,
    Credential,
    RuleBookSetting,
    Store,
    iso,
)

_RULE_BOOK_KEYS = ("asOf", "cloud")
MAX_REMEMBERED_SCENARIOS = 256  # bodies: more than a run's cases share, few kilobytes each


def _rule_book_setting(obj: Any, where: str = "") -> RuleBookSetting:
    """`{"asOf": "YYYY-MM-DD" | null, "cloud": ...}`, taken whole: an absent or null asOf
    follows the emulator clock's date, an absent cloud is worldwide. `where` prefixes the
    messages (the scenario's "ruleBook.")."""
    if not isinstance(obj, dict):
        raise bad(f"{where.rstrip('.')} must be an object {{asOf, cloud}}")
    if unknown := sorted(set(obj) - set(_RULE_BOOK_KEYS)):
        raise bad(f"{where}{unknown[0]} is unknown (known: {', '.join(_RULE_BOOK_KEYS)})")
    cloud = obj.get("cloud", str(Cloud.WORLDWIDE))
    if cloud not in tuple(Cloud):
        raise bad(f"{where}cloud must be one of {', '.join(Cloud)}")
    text = obj.get("asOf")
    if text is None:
        return RuleBookSetting(None, Cloud(cloud))
    try:
        as_of = date.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        as_of = None
    if as_of is None or as_of.isoformat() != text:  # not the week or compact ISO forms
        raise bad(f"{where}asOf must be a date YYYY-MM-DD or null, not {str(text)[:40]!r}")
    return RuleBookSetting(as_of, Cloud(cloud))


@dataclass(frozen=True)
class _ScenarioPlan:
    """What a scenario body asks for, every check passed; nothing in it is changed after."""

    names: tuple[str, ...]
    user: UserContext
    client: str
    policy: dict[str, Any] | None
    book: RuleBookSetting | None


class EmulatorControls:
    """Emulator-only levers: sign-in, the clock, the rule book, seeding credentials, reset,
    health."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._plans: dict[bytes, _ScenarioPlan] = {}  # scenario body -> its plan, oldest first

    def routes(self) -> list[BaseRoute]:
        return [  # the per-case scenario first: routes are tried in order, and none overlap
            Route("/scenarios", self.scenario, methods=["POST"]),
            Route("/health", self.health, methods=["GET"]),
            Route("/reset", self.reset, methods=["POST"]),
            Route("/clock", self.clock, methods=["GET", "PUT"]),
            Route("/clock/advance", self.advance, methods=["POST"]),
            Route("/ruleBook", self.rule_book, methods=["GET", "PUT"]),
            Route("/signIn", self.sign_in, methods=["POST"]),
            Route("/users/{user_id}/credentials", self.add_credential, methods=["POST"]),
        ]

    async def health(self, request: Request) -> Response:
        return GraphJson({"status": "ok", "now": iso(self.store.now())})

    async def reset(self, request: Request) -> Response:
        self.store.reset()
        return Response(status_code=204)

    async def clock(self, request: Request) -> Response:
        if request.method == "PUT":
            body = await json_object(request)
            if body.get("now") is None:
                raise bad("now is required")
            self.store.set_clock(moment(body, "now", self.store.now()))
        return GraphJson({"now": iso(self.store.now())})

    async def advance(self, request: Request) -> Response:
        seconds = (await json_object(request)).get("seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            raise bad("seconds must be a non-negative number (PUT /_emulator/clock goes back)")
        if seconds > MAX_ADVANCE_SECONDS:
            raise bad(f"seconds must be at most {MAX_ADVANCE_SECONDS}")
        if (self.store.now() + timedelta(seconds=seconds)).year > YEARS[1]:
            raise bad(f"the clock cannot go past the year {YEARS[1]}")
        return GraphJson({"now": iso(self.store.advance_clock(seconds))})

    async def rule_book(self, request: Request) -> Response:
        """The day and cloud whose rules registrations are decided by (PUT replaces both)."""
        if request.method == "PUT":
            self.store.set_rule_book(_rule_book_setting(await json_object(request)))
        return GraphJson(self.store.rule_book().to_json())

    async def sign_in(self, request: Request) -> Response:
        """A session for /me; TAP sign-in checks the pass's window and consumes a one-time pass."""
        body = await json_object(request)
        user_id = json_field(body, "userId", str, required=True)
        if self.store.user(user_id) is None:
            raise not_found("user", user_id)
        method = json_field(body, "method", str, required=True)
        if method not in SIGN_IN_METHODS:
            raise bad(f"method must be one of {', '.join(SIGN_IN_METHODS)}")
        now = self.store.now()
        at = moment(body, "at", now)
        if at > now:
            raise bad("at is later than the emulator clock; advance the clock first")
        client = _client(body)
        tap = tap_sign_in(self.store, user_id, body, at) if method == "tap" else None
        token = self.store.add_session(user_id, method, at, tap.id if tap else None,
                                       client=client)
        return GraphJson({"token": token, "userId": user_id, "method": method,
                             "client": client, "signedInDateTime": iso(at)}, status_code=201)

    async def add_credential(self, request: Request) -> Response:
        """Seed a credential the user already has (e.g. Windows Hello for Business)."""
        user_id = request.path_params["user_id"]
        if self.store.user(user_id) is None:
            raise not_found("user", user_id)
        body = await json_object(request)
        encoded = json_field(body, "credentialId", str, required=True)
        try:
            credential_id = urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            raise bad("credentialId is not base64url") from None
        if not credential_id or b64url(credential_id) != encoded.rstrip("="):
            raise bad("credentialId is not base64url")
        whfb = json_field(body, "windowsHelloForBusiness", bool, default=False)
        aaguid = json_field(body, "aaGuid", str, default=str(uuid.UUID(int=0)))
        try:
            aaguid = str(uuid.UUID(aaguid))
        except ValueError:
            raise bad(f"aaGuid {aaguid[:40]!r} is not a GUID") from None
        cred = Credential(
            id=b64url(credential_id), user_id=user_id, credential_id=credential_id,
            aaguid=aaguid, model=None, attestation_level=None,
            passkey_type=None, display_name=json_field(body, "displayName", str),
            created=self.store.now(), public_key=None, attestation_certificates=(),
            windows_hello_for_business=whfb)
        if not self.store.add_credential(cred):
            raise bad(f"the user already has credential {cred.id!r}")
        return GraphJson({"id": cred.id, "userId": user_id, "aaGuid": cred.aaguid,
                             "windowsHelloForBusiness": whfb}, status_code=201)


    async def scenario(self, request: Request) -> Response:
        """Lay out one test case in a single round trip: policy, fresh groups, user, sign-in.

        `user` is the one user vocabulary (USER.json's, `UserContext.from_json`); its groups
        name groups of `groups`. The rest follows from it: a TAP sign-in `tap.ageSeconds` ago
        (the pass spent if one-time) when it has a TAP, with the session's MFA `mfaAgeSeconds`
        ago when it has both, else an MFA sign-in `mfaAgeSeconds` ago, else a password sign-in
        now; `windowsHelloForBusiness` seeds that credential; the bootstrap policies
        (`inTapPolicy`, `registrationInterrupt`, `conditionalAccessUnmet`) are stored with the
        user. `client` ("security-info", the default, or "graph") is whom the session is for.
        The policy replaces the current one whole (a case holds a complete export, and a PATCH
        merge would carry the previous case's profiles over); include/exclude target ids that
        name one of `groups` become the fresh groups' ids, so every case has groups of its own.
        `ruleBook` (`/_emulator/ruleBook`'s body), when given, sets the day and cloud whose
        rules decide the case; absent, the setting stays as it is.
        Everything is checked before the store changes.

        A body seen before is not read again: its checked plan is remembered by its bytes
        (cases repeat theirs for every profile), and only the stored policy's identity, which
        the store may have changed since, is checked again.
        """
        raw = await capped_body(request, MAX_BODY_BYTES)
        plan = self._plans.get(raw)
        if plan is None:
            plan = self._checked(parse_json_object(raw))
            if len(self._plans) >= MAX_REMEMBERED_SCENARIOS:
                del self._plans[next(iter(self._plans))]  # the oldest
            self._plans[raw] = plan
        elif plan.policy is not None:
            self._same_configuration(plan.policy)
        user = plan.user
        # everything is checked: only now does the store change, in one transaction (which
        # reads the clock once)
        with self.store.transaction():
            method, at, mfa_at = self._sign_in_plan(user)
            credentials = [self._seed(existing) for existing in user.existing_credentials]
            groups = {name: self.store.add_group(name).id for name in plan.names}
            if plan.policy is not None:
                self.store.save_policy_text(json.dumps(with_group_ids(plan.policy, groups)))
            if plan.book is not None:
                self.store.set_rule_book(plan.book)
            added = self.store.add_user(f"case-{uuid.uuid4().hex[:12]}@pkconf.test",
                                        "Case user", user.user_type)
            for name in sorted(user.groups):
                self.store.add_member(groups[name], added.id)
            scope = BootstrapScope(user.in_tap_policy, user.registration_interrupt,
                                   user.conditional_access_unmet)
            if scope != BootstrapScope():  # a fresh user without a row stands as the default
                self.store.set_bootstrap_scope(added.id, scope)
            token = self._sign_in_as(added.id, user.tap, method, at, client=plan.client,
                                     mfa_at=mfa_at)
            for credential in credentials:
                self.store.add_credential(replace(credential, user_id=added.id))
            if user.platform_credentials:  # likewise: no row counts none
                self.store.set_platform_credentials(added.id, user.platform_credentials)
        return GraphJson({"userId": added.id, "groups": groups, "token": token},
                            status_code=201)

    def _checked(self, body: dict[str, Any]) -> _ScenarioPlan:
        """A scenario body's every check, in the order its errors are answered."""
        names = json_field(body, "groups", list, default=[])
        if not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
            raise bad("groups must be a list of distinct, non-empty group names")
        try:
            user = UserContext.from_json({} if body.get("user") is None else body["user"],
                                         "user")
        except UserJsonError as e:
            raise bad(str(e)) from None
        if user.user_id:
            raise bad("user.id: the scenario creates a fresh user; leave id out")
        if not user.groups <= set(names):
            raise bad("user.groups must name groups listed in groups")
        client = _client(body)
        policy = json_field(body, "policy", dict)
        if policy is not None:  # judged with the names standing in for the groups' ids
            valid_policy(with_group_ids(policy, {name: name for name in names}))
            self._same_configuration(policy)
        book = body.get("ruleBook")
        return _ScenarioPlan(
            tuple(names), user, client, policy,
            None if book is None else _rule_book_setting(book, "ruleBook."))

    def _same_configuration(self, policy: dict[str, Any]) -> None:
        """The policy must be the stored fido2 configuration, as after a PATCH: PATCH keeps the
        stored `@odata.type` and `id` whatever its body says, and a policy stored without them
        would leave the next PATCH nothing to keep."""
        for key, stored in self.store.policy_identity().items():
            if policy.get(key) != stored:
                raise bad(f"policy.{key} must be {stored!r} (the fido2 configuration), "
                          f"not {str(policy.get(key))[:60]!r}")

    def _sign_in_plan(self, user: UserContext) -> tuple[str, datetime, datetime | None]:
        """The sign-in the user's state describes: its method and when, and the session's MFA
        (a TAP sign-in may have one too: then either bootstraps)."""
        now = self.store.now()  # ages are bounded by UserContext.from_json: no overflow here
        mfa_at = (None if user.mfa_age_seconds is None
                  else now - timedelta(seconds=user.mfa_age_seconds))
        if user.tap is not None:
            return "tap", now - timedelta(seconds=user.tap.age_seconds), mfa_at
        return ("mfa", mfa_at, mfa_at) if mfa_at else ("password", now, None)

    def _sign_in_as(self, user_id: str, tap: TemporaryAccessPass | None, method: str,
                    at: datetime, *, client: str, mfa_at: datetime | None) -> str:
        if tap is None:
            return self.store.add_session(user_id, method, at, client=client)
        issued = self.store.add_tap(user_id, is_usable_once=tap.is_usable_once,
                                    lifetime_minutes=60, start=at - timedelta(minutes=1))
        if tap.is_usable_once:
            self.store.use_tap(issued.id)  # the sign-in spends a one-time pass
        return self.store.add_session(user_id, "tap", at, issued.id, client=client,
                                      mfa_at=mfa_at)

    def _seed(self, existing: ExistingCredential) -> Credential:
        """A credential the user already has (its id made up when the JSON gives none)."""
        credential_id = existing.credential_id or secrets.token_bytes(16)
        return Credential(
            id=b64url(credential_id), user_id="", credential_id=credential_id,
            aaguid=existing.aaguid or str(uuid.UUID(int=0)), model=None, attestation_level=None,
            passkey_type=None, display_name=None, created=self.store.now(), public_key=None,
            attestation_certificates=(),
            windows_hello_for_business=existing.windows_hello_for_business)


def _client(body: dict[str, Any]) -> str:
    """Whom a session is for: Security info (the default) or the user's own Graph client."""
    client = json_field(body, "client", str, default=SECURITY_INFO_CLIENT)
    if client not in CLIENTS:
        raise bad(f"client must be one of {', '.join(CLIENTS)}")
    return client
