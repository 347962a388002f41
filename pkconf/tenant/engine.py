"""The registration decision: would Entra bind this new passkey to this user, and if not, why?

The checks run in the Tenant issue's order (rules.py says where it differs from entra-facts
Appendix A, itself inferred): policy scope,
bootstrap (recent MFA or TAP), ceremony integrity, then the union of the user's scoped passkey
profiles (accepted when at least one is fully satisfied, in no particular order), then the
documented platform-path rules. The first failing check decides; every rule and the source it
implements are in `rules.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from hashlib import sha256

from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import CoseKey
from fido2.webauthn import AuthenticatorData

from . import rules
from .attestation import (
    AttestationFailure,
    Metadata,
    MetadataEntry,
    VerifiedStatement,
    check_packed_form,
    verify_statement,
    verify_trust,
)
from .decision import (
    CeremonyContext,
    Decision,
    Outcome,
    RegistrationPath,
    TemporaryAccessPass,
    UserContext,
    UserType,
)
from .policy import ALL_USERS, DEVICE_BOUND, SYNCED, Fido2Policy, PasskeyProfile
from .registration import Registration
from .rules import Change, Reason, RuleBook

# authData flag bits (WebAuthn §6.1) as plain ints: fido2's IntFlag makes each test an enum
_UP, _UV, _BE, _BS, _ED = (int(f) for f in (AuthenticatorData.FLAG.UP, AuthenticatorData.FLAG.UV,
                                             AuthenticatorData.FLAG.BE, AuthenticatorData.FLAG.BS,
                                             AuthenticatorData.FLAG.ED))


_P256 = ec.SECP256R1()
_SHA256 = sha256()  # copied for each use: hashlib's constructor looks the algorithm up each call


class _Rejected(Exception):
    def __init__(self, reason: Reason, detail: str, failures: dict[str, Reason] | None = None,
                 *, inferred: bool = False):
        super().__init__(detail)
        self.reason, self.detail = reason, detail
        self.failures = failures or {}
        self.inferred = inferred  # this application of a documented rule rests on an inference


class _Evidence:
    """What the response proves about the authenticator, worked out at most once per decision.

    A plain class with slots: the facts every decision reports are read once up front, the
    statement and its trust on first use (a functools.cached_property takes a lock on each
    instance's first read, one lock shared by all instances).
    """

    __slots__ = ("_statement", "_trust", "aaguid", "assumed", "auth_data", "book", "ceremony",
                 "fmt", "metadata", "notes", "passkey_type", "registration")

    def __init__(self, registration: Registration, ceremony: CeremonyContext,
                 metadata: Metadata | None, book: RuleBook):
        self.registration, self.ceremony, self.metadata, self.book = (registration, ceremony,
                                                                      metadata, book)
        self.auth_data: AuthenticatorData = registration.attestation_object.auth_data
        assert self.auth_data.credential_data is not None  # the parser guarantees it
        self.aaguid = str(self.auth_data.credential_data.aaguid)
        self.fmt: str = registration.attestation_object.fmt
        # [INFERRED] rules.PASSKEY_TYPE_NOT_ALLOWED: backup eligible means synced
        self.passkey_type = SYNCED if self.auth_data.flags & _BE else DEVICE_BOUND
        self.notes: list[str] = []  # said in the detail
        self.assumed = False  # an inferred choice decided it
        self._statement: VerifiedStatement | AttestationFailure | None = None
        self._trust: MetadataEntry | AttestationFailure | None = None

    @property
    def statement(self) -> VerifiedStatement | AttestationFailure:
        if self._statement is None:
            try:
                # fido2's CollectedClientData.hash, by hashlib rather than a cryptography Hash
                digest = _SHA256.copy()
                digest.update(self.registration.client_data)
                client_data_hash = digest.digest()
                self._statement = verify_statement(self.registration.attestation_object,
                                                   client_data_hash, at=self.ceremony.now)
            except AttestationFailure as failure:
                self._statement = failure
        return self._statement

    @property
    def trust(self) -> MetadataEntry | AttestationFailure:
        """The metadata entry the statement chains to, or why it does not."""
        if self._trust is None:
            self._trust = self._chained()
        return self._trust

    def _chained(self) -> MetadataEntry | AttestationFailure:
        statement = self.statement
        if isinstance(statement, AttestationFailure):
            return statement
        if not statement.trust_path:
            return AttestationFailure(Reason.ATTESTATION_REQUIRED,
                                      f"'{self.fmt}' {statement.attestation_type} attestation "
                                      "carries no certificate chain")
        if self.metadata is None:
            return AttestationFailure(Reason.ATTESTATION_UNTRUSTED,
                                      "no FIDO metadata is loaded to verify attestation against")
        try:
            return verify_trust(statement, self.aaguid, self.metadata, self.ceremony.now)
        except AttestationFailure as failure:
            return failure

    @property
    def attestation_level(self) -> str:
        if self.metadata is None or self.fmt == "none":
            return "notAttested"
        return "notAttested" if isinstance(self.trust, AttestationFailure) else "attested"

    def decision(self, outcome: Outcome, reason: Reason, detail: str, *,
                 matched_profiles: tuple[str, ...] = (),
                 profile_failures: dict[str, Reason] | None = None,
                 inferred: bool = False) -> Decision:
        """A decision reporting what the evidence shows, whichever check decided, with the
        rule book's day and the version of the rule that applied."""
        return Decision(outcome, reason, "; ".join([detail, *self.notes]), aaguid=self.aaguid,
                        passkey_type=self.passkey_type, attestation_format=self.fmt,
                        attestation_level=self.attestation_level,
                        matched_profiles=matched_profiles,
                        profile_failures=profile_failures or {},
                        inferred=inferred or self.assumed,
                        as_of=self.book.as_of, cloud=self.book.cloud,
                        version=self.book.rule(reason).version)

    def note_rollout(self, change: Change) -> None:
        """Inside `change`'s rollout window the decision rests on an inference: say so."""
        note = self.book.rollout_note(change)
        if note:
            self.assume(note)

    def assume(self, note: str) -> None:
        """An inferred choice bears on the decision: say which, and mark it inferred."""
        if note not in self.notes:
            self.notes.append(note)
        self.assumed = True


def decide(
    policy: Fido2Policy,
    user: UserContext,
    path: RegistrationPath,
    registration: Registration,
    ceremony: CeremonyContext,
    *,
    metadata: Metadata | None = None,
    book: RuleBook | None = None,
) -> Decision:
    """Decide one registration attempt by the rules as they hold in `book` (default: today,
    worldwide)."""
    evidence = _Evidence(registration, ceremony, metadata, book or RuleBook.today())
    _note_legacy_form(policy, evidence)
    try:
        profiles = _policy_scope(policy, user, path)
        _bootstrap(user, path)
        _ceremony(registration, ceremony, user)
        matched = _profiles(profiles, evidence)
        for profile in matched:
            for reading in profile.readings:
                evidence.assume(reading)  # a field read from unknownFutureValue admitted it
        _platform_path(matched, evidence, user, path)
    except _Rejected as r:
        return evidence.decision(Outcome.REJECTED, r.reason, r.detail,
                                 profile_failures=r.failures, inferred=r.inferred)
    names = ", ".join(f"'{p.name}'" for p in matched)
    return evidence.decision(Outcome.ACCEPTED, Reason.ACCEPTED,
                             f"the passkey fully satisfies the scoped passkey profile(s) {names}",
                             matched_profiles=tuple(p.id for p in matched))


def _note_legacy_form(policy: Fido2Policy, ev: _Evidence) -> None:
    """A legacy-form export (no passkeyProfiles) read after the migration is a snapshot from
    before it: it is decided as it reads, and the decision says so (entra-facts §0)."""
    if not policy.legacy:
        return
    migration = rules.PASSKEY_PROFILES_MIGRATION
    ev.note_rollout(migration)
    migrated = migration.effective(ev.book.cloud)
    if ev.book.as_of >= migrated:
        ev.notes.append(f"the policy has no passkeyProfiles: a snapshot from before the "
                        f"migration to passkey profiles ({migration.notice}), which "
                        f"{ev.book.cloud} tenants completed by {migrated}; read as it was then")


# --- policy scope --------------------------------------------------------------------------------

def _policy_scope(policy: Fido2Policy, user: UserContext,
                  path: RegistrationPath) -> list[PasskeyProfile]:
    """Method state, exclusion over inclusion, targeting, self-service switch, guests."""
    if not policy.enabled:
        raise _Rejected(Reason.METHOD_DISABLED,
                        "the passkey (FIDO2) authentication method is disabled")
    principals = {*user.groups, ALL_USERS}
    if user.user_id:
        principals.add(user.user_id)
    if policy.excluded(principals):
        raise _Rejected(Reason.USER_EXCLUDED, "the user is in a group excluded from the passkey "
                                                "policy; exclusion takes precedence over inclusion")
    targets = policy.matching_targets(principals)
    if not targets:
        raise _Rejected(Reason.USER_NOT_TARGETED, "the user is in none of the passkey policy's "
                                                    "included targets")
    profiles = policy.scoped_profiles(targets)
    if not profiles:
        raise _Rejected(Reason.NO_PASSKEY_PROFILE, "the user's targets assign no passkey profile")
    if not policy.self_service_allowed:
        how = {RegistrationPath.SELF_SERVICE: "through Security info",
               RegistrationPath.GRAPH_ME: "through Graph /me"}.get(
            path, "through Graph provisioning, which also needs 'Allow self-service set up'")
        raise _Rejected(Reason.SELF_SERVICE_DISABLED, f"self-service passkey registration is off: "
                                                        f"users cannot register {how}")
    if user.user_type is UserType.GUEST:
        raise _Rejected(Reason.GUEST_NOT_SUPPORTED, "passkey registration is not supported for "
                                                      "guest (B2B) users")
    return profiles


# --- bootstrap ------------------------------------------------------------------------------------

def _bootstrap(user: UserContext, path: RegistrationPath) -> None:
    """One satisfied path suffices, not all: recent MFA, or a TAP sign-in (rules.py says how
    long each lasts). An unmet Conditional Access policy on "Register security info" blocks
    every path. When none is satisfied the TAP's problem is reported (the user signed in with
    it), else the MFA's."""
    if path is RegistrationPath.PROVISIONING and not rules.PROVISIONING_NEEDS_USER_MFA:
        return
    if user.conditional_access_unmet:
        raise _Rejected(Reason.CONDITIONAL_ACCESS_UNMET, "a Conditional Access policy that "
                                                         "targets 'Register security info' is "
                                                         "not satisfied",
                        inferred=path is RegistrationPath.GRAPH_ME)
    paths = [_tap_path(user.tap, user, path)] if user.tap else []
    paths.append(_mfa_path(user.mfa_age_seconds, path))
    failures = [problem for problem in paths if problem is not None]
    if len(failures) == len(paths):
        raise failures[0]


def _mfa_path(age: float | None, path: RegistrationPath, *,
              sign_in: str = "multifactor authentication", inferred: bool = False
              ) -> _Rejected | None:
    """Recent MFA: within 5 minutes for Security info, 10 for Graph /me; None when met."""
    graph = path is RegistrationPath.GRAPH_ME
    if age is None:
        # Graph's text is about a stale session; that a session without MFA is asked is inferred
        return _Rejected(Reason.MFA_REQUIRED, "the user has not completed multifactor "
                                              "authentication in this session", inferred=graph)
    window = rules.GRAPH_ME_WINDOW_SECONDS if graph else rules.MFA_WINDOW_SECONDS
    if age <= window:
        return None
    reason, via = (Reason.GRAPH_SESSION_STALE, " through Graph /me") if graph else (
        Reason.MFA_STALE, "")
    return _Rejected(reason, f"the last {sign_in} was {age:.0f} s ago; passkey registration{via} "
                             f"needs MFA within the past {window // 60} minutes",
                     inferred=inferred)


def _tap_path(tap: TemporaryAccessPass, user: UserContext,
              path: RegistrationPath) -> _Rejected | None:
    """A TAP sign-in: only for users the TAP policy includes, and not into the registration
    interrupt; a one-time pass then gives 10 minutes, a multi-use one is an MFA sign-in."""
    if not user.in_tap_policy:
        return _Rejected(Reason.TAP_NOT_IN_POLICY, "the Temporary Access Pass policy does not "
                                                   "include the user, so a TAP sign-in "
                                                   "bootstraps nothing")
    if user.registration_interrupt:
        return _Rejected(Reason.TAP_INTERRUPT_MODE,
                         "in scope of the SSPR or ID Protection registration policy, the TAP "
                         "sign-in lands in the registration interrupt mode, which doesn't "
                         "support passkeys (FIDO2)")
    if not tap.is_usable_once:
        return _mfa_path(tap.age_seconds, path, inferred=True,
                         sign_in="multi-use Temporary Access Pass sign-in (an MFA sign-in; the "
                                 "pass, still valid, can sign the user in again)")
    if tap.age_seconds <= rules.ONE_TIME_TAP_WINDOW_SECONDS:
        return None
    return _Rejected(Reason.TAP_EXPIRED, f"the one-time Temporary Access Pass sign-in was "
                                         f"{tap.age_seconds:.0f} s ago; registration must "
                                         f"complete within "
                                         f"{rules.ONE_TIME_TAP_WINDOW_SECONDS // 60} minutes of it")


# --- ceremony integrity ---------------------------------------------------------------------------

def _ceremony(registration: Registration, ceremony: CeremonyContext, user: UserContext) -> None:
    client_data, auth_data = registration.client_data, registration.auth_data
    if client_data.type != "webauthn.create":
        raise _Rejected(Reason.CLIENT_DATA_TYPE_INVALID,
                        f"clientDataJSON.type is {client_data.type!r}, not 'webauthn.create'")
    issued = ceremony.challenge
    if issued is None or issued.value != client_data.challenge:
        raise _Rejected(Reason.CHALLENGE_MISMATCH, "the clientDataJSON challenge was not issued "
                                                     "for this registration")
    if ceremony.now >= issued.expires_at:
        raise _Rejected(Reason.CHALLENGE_EXPIRED, f"the challenge expired at "
                                                    f"{issued.expires_at.isoformat()}")
    if issued.used:
        raise _Rejected(Reason.CHALLENGE_REUSED, "the challenge was already used by an earlier "
                                                   "registration attempt")
    if client_data.origin not in ceremony.origins:
        raise _Rejected(Reason.ORIGIN_MISMATCH, f"origin {client_data.origin!r} is not an "
                                                  f"origin of relying party {ceremony.rp_id!r}")
    _top_level(registration)
    if auth_data.rp_id_hash != _rp_id_hash(ceremony.rp_id):
        raise _Rejected(Reason.RP_ID_HASH_MISMATCH, f"authData.rpIdHash is not SHA-256 of "
                                                      f"{ceremony.rp_id!r}")
    if not auth_data.flags & _UP:
        raise _Rejected(Reason.USER_PRESENCE_MISSING, "the UP flag is not set")
    if not auth_data.flags & _UV:
        raise _Rejected(Reason.USER_VERIFICATION_MISSING, "the UV flag is not set: Entra requires "
                                                            "user verification (biometrics or PIN)")
    _authenticator_data(auth_data)
    assert auth_data.credential_data is not None  # the parser guarantees it
    key = auth_data.credential_data.public_key
    alg = _algorithm(key)
    if alg not in rules.SUPPORTED_ALGORITHMS:
        raise _Rejected(Reason.ALGORITHM_UNSUPPORTED, f"credential algorithm {alg} is not one of "
                                                        f"{list(rules.SUPPORTED_ALGORITHMS)}")
    if not _usable_public_key(key, alg):
        raise _Rejected(Reason.CREDENTIAL_KEY_INVALID, f"the credential public key is not a valid "
                                                         f"COSE key for algorithm {alg}")
    if any(c.credential_id == registration.credential_id for c in user.existing_credentials):
        raise _Rejected(Reason.CREDENTIAL_ALREADY_REGISTERED,
                        "the user already has this credential")
    props = (registration.client_extension_results or {}).get("credProps")
    if isinstance(props, dict) and props.get("rk") is False:
        raise _Rejected(Reason.CREDENTIAL_NOT_DISCOVERABLE, "credProps.rk is false: Entra requires "
                                                              "a discoverable credential")


@lru_cache(maxsize=64)
def _rp_id_hash(rp_id: str) -> bytes:
    """SHA-256 of the RP ID (WebAuthn §7.1 step 13); a tenant has one or two."""
    return sha256(rp_id.encode()).digest()


def _top_level(registration: Registration) -> None:
    """WebAuthn §7.1 step 10: a topOrigin means the page was framed by another origin, which the
    relying party must expect; crossOrigin true (§5.8.1) says the same. Entra's registration
    page is a top-level page, never framed ([INFERRED]: Microsoft documents no embedding)."""
    if registration.client_data.cross_origin:
        raise _Rejected(Reason.CROSS_ORIGIN_NOT_ALLOWED, "clientDataJSON.crossOrigin is true: the "
                                                         "passkey was made in a cross-origin frame")
    if registration.top_origin is not None:
        raise _Rejected(Reason.CROSS_ORIGIN_NOT_ALLOWED, f"clientDataJSON.topOrigin is "
                                                         f"{registration.top_origin[:80]!r}: the "
                                                         f"passkey was made in a framed page")


def _authenticator_data(auth_data: AuthenticatorData) -> None:
    """Flags and extensions as WebAuthn §6.1 lays them out: fido2 reads any bytes that parse."""
    # §6.1 flags: BS "can only be set if BE is set"; §7.1 step 16 has the relying party check
    if auth_data.flags & _BS and not auth_data.flags & _BE:
        raise _Rejected(Reason.AUTHENTICATOR_DATA_INVALID, "the BS (backup state) flag is set "
                                                           "without BE (backup eligibility)")
    # §6.1 extensions: with ED set, "a CBOR [RFC 8949] map" of extension outputs
    if auth_data.flags & _ED and not isinstance(auth_data.extensions, Mapping):
        raise _Rejected(Reason.AUTHENTICATOR_DATA_INVALID, "the authenticator extensions (ED "
                                                           "flag) are not a CBOR map")


def _algorithm(key: CoseKey) -> int | None:
    alg = key.get(3)
    return alg if isinstance(alg, int) else None


def _usable_public_key(key: CoseKey, alg: int | None) -> bool:
    """Whether the COSE key is one a sign-in could ever verify (RFC 9053 §7.1.1, §7.2).

    ES256: kty EC2, crv P-256, a point on the curve; RS256: an RSA public key (`_usable_rsa`).
    """
    try:
        if alg == -7:
            x, y = key[-2], key[-3]
            if key.get(1) != 2 or key.get(-1) != 1 or len(x) != 32 or len(y) != 32:
                return False
            ec.EllipticCurvePublicKey.from_encoded_point(_P256, b"\x04" + x + y)
            return True
        if alg == -257:
            return key.get(1) == 3 and _usable_rsa(int.from_bytes(key[-1], "big"),
                                                  int.from_bytes(key[-2], "big"))
    except (KeyError, TypeError, ValueError):
        return False
    return False


def _usable_rsa(n: int, e: int) -> bool:
    """An RSA public key (n, e) as RFC 8017 §3.1 defines one, at a size a sign-in may use."""
    return (n.bit_length() >= 2048  # NIST SP 800-131A: shorter moduli are disallowed
            and n % 2 == 1  # §3.1: n is a product of odd primes
            and e % 2 == 1 and 3 <= e < n)  # §3.1: e is odd, 3 <= e <= n - 1


# --- passkey profiles -----------------------------------------------------------------------------

def _profiles(profiles: list[PasskeyProfile], evidence: _Evidence) -> list[PasskeyProfile]:
    """The profiles the passkey fully satisfies; rejected when there is none."""
    failures: dict[str, tuple[Reason, str]] = {}
    for profile in profiles:
        problem = next(_profile_problems(profile, evidence), None)
        if problem:
            reason, detail = problem
            # a field read from unknownFutureValue may be why: say how it was read
            failures[profile.id] = (reason, "; ".join((detail, *profile.readings)))
    matched = [p for p in profiles if p.id not in failures]
    if matched:
        return matched
    by_profile = {pid: reason for pid, (reason, _) in failures.items()}
    reasons = set(by_profile.values())
    if len(reasons) == 1:
        reason = reasons.pop()
        detail = "; ".join(f"profile '{_name(profiles, pid)}': {d}"
                           for pid, (_, d) in failures.items())
        raise _Rejected(reason, detail, by_profile, inferred=_read(profiles))
    listing = "; ".join(f"'{_name(profiles, pid)}': {reason}"
                        for pid, reason in by_profile.items())
    raise _Rejected(Reason.NO_PROFILE_SATISFIED,
                    f"no scoped passkey profile is fully satisfied ({listing})", by_profile,
                    inferred=_read(profiles))


def _read(profiles: list[PasskeyProfile]) -> bool:
    """Whether a profile has a field read from unknownFutureValue ([INFERRED] readings)."""
    return any(p.readings for p in profiles)


def _name(profiles: list[PasskeyProfile], profile_id: str) -> str:
    return next(p.name for p in profiles if p.id == profile_id)


def _profile_problems(profile: PasskeyProfile, ev: _Evidence) -> Iterator[tuple[Reason, str]]:
    """Every way the passkey falls short of one profile; the first one is reported.

    Within a profile the checks are an AND, so their order only picks the reported reason:
    the Windows Hello preview rules come before attestation so that an enforcing profile
    reports the documented Windows Hello failure rather than a format mismatch; and "not
    explicitly allowed" comes first, since S4 describes the attestation failure for "a passkey
    profile that allows Windows Hello AAGUIDs" (entra-facts §5).
    """
    if ev.passkey_type not in profile.passkey_types:
        allowed = ",".join(sorted(profile.passkey_types)) or "none"
        yield (Reason.PASSKEY_TYPE_NOT_ALLOWED,
               f"a {ev.passkey_type} passkey (BE flag) is not among the allowed types {allowed}")
    elif ev.passkey_type == SYNCED and profile.attestation_enforced:
        yield (Reason.PASSKEY_TYPE_NOT_ALLOWED, "the profile enforces attestation, so only "
               "device-bound passkeys are allowed; synced passkeys are excluded")
    aaguid, restrictions = ev.aaguid, profile.key_restrictions
    if aaguid in rules.WINDOWS_HELLO_AAGUIDS:
        ev.note_rollout(rules.WINDOWS_HELLO_GA)
        preview = ev.book.holds(Reason.WINDOWS_HELLO_NOT_ALLOWED)
        if preview and not restrictions.explicitly_allows(aaguid):
            yield (Reason.WINDOWS_HELLO_NOT_ALLOWED, f"Windows Hello AAGUID {aaguid} must be on an "
                   "enforced allow list before Windows Hello passkeys are generally available")
        if profile.attestation_enforced:
            when = "(preview)" if preview else "(GA: the preview's rule, kept)"
            yield (Reason.WINDOWS_HELLO_ATTESTATION_ENFORCED, f"Windows Hello passkeys {when} "
                   "cannot register where attestation is enforced")
    yield from _attestation_problems(profile, ev)
    if not restrictions.admits(aaguid):
        if restrictions.enforcement_type == "allow":
            yield (Reason.AAGUID_NOT_ALLOWED, f"AAGUID {aaguid} is not on the profile's allow list")
        else:
            yield (Reason.AAGUID_BLOCKED, f"AAGUID {aaguid} is on the profile's block list")


def _attestation_problems(profile: PasskeyProfile,
                          ev: _Evidence) -> Iterator[tuple[Reason, str]]:
    if not profile.attestation_enforced:
        if (ev.fmt not in rules.UNENFORCED_FORMATS
                and len(ev.fmt) > rules.CUSTOM_FORMAT_MAX_LENGTH):
            yield (Reason.ATTESTATION_FORMAT_NOT_ACCEPTED,
                   f"attestation format '{ev.fmt[:40]}…' is longer than "
                   f"{rules.CUSTOM_FORMAT_MAX_LENGTH} characters")
        elif ev.fmt == "packed" and (incomplete := _packed_form_problem(ev)):
            yield (Reason.ATTESTATION_STATEMENT_INCOMPLETE, f"attestation is not enforced, yet a "
                   f"packed statement needs its form and a complete certificate: {incomplete}")
        return
    statement = ev.statement
    if ev.fmt == "none" or (isinstance(statement, VerifiedStatement)
                            and not statement.trust_path):
        yield (Reason.ATTESTATION_REQUIRED, f"attestation is enforced but the passkey gave "
               f"'{ev.fmt}' without a certificate chain")
        return
    if ev.fmt not in rules.ENFORCED_FORMATS:
        yield (Reason.ATTESTATION_FORMAT_NOT_ACCEPTED, f"attestation is enforced: the format "
               f"must be packed with a full chain, not '{ev.fmt}'")
        return
    trust = ev.trust
    if isinstance(trust, AttestationFailure):
        yield (trust.reason, trust.detail)


def _packed_form_problem(ev: _Evidence) -> str | None:
    """Why the packed statement lacks the form an unenforced profile asks (rules.py), if it
    does."""
    try:
        check_packed_form(ev.registration.attestation_object)
    except AttestationFailure as failure:
        return failure.detail
    return None


# --- platform path -------------------------------------------------------------------------------

def _platform_path(matched: list[PasskeyProfile], ev: _Evidence, user: UserContext,
                   path: RegistrationPath) -> None:
    aaguid = ev.aaguid
    if (aaguid in rules.MICROSOFT_AUTHENTICATOR_AAGUIDS
            and ev.registration.authenticator_attachment == "cross-platform"
            and rules.CROSS_DEVICE_TRANSPORT in ev.registration.transports
            and all(p.attestation_enforced for p in matched)):
        raise _Rejected(Reason.CROSS_DEVICE_ATTESTED_AUTHENTICATOR,
                        "attested Microsoft Authenticator passkeys register only in the "
                        "Authenticator app, not through a cross-device (hybrid) flow")
    if (aaguid in rules.WINDOWS_HELLO_AAGUIDS
            and any(c.windows_hello_for_business for c in user.existing_credentials)):
        limit = rules.WHFB_CONFLICT_MAX_PLATFORM_CREDENTIALS
        if user.platform_credentials <= limit:
            raise _Rejected(Reason.WINDOWS_HELLO_FOR_BUSINESS_CONFLICT,
                            "a Windows Hello for Business credential already exists for this "
                            "account and container: the passkey is already registered")
        ev.assume(f"the user has {user.platform_credentials} platform credentials, over "
                  f"{limit}: the Windows Hello for Business conflict 'may not apply' and is "
                  f"taken not to ([INFERRED])")
    if path is not RegistrationPath.PROVISIONING:
        return
    if ev.fmt not in rules.PROVISIONING_FORMATS:
        raise _Rejected(Reason.PROVISIONING_FORMAT_NOT_SUPPORTED,
                        f"Graph provisioning accepts only packed or none attestation, not "
                        f"'{ev.fmt}'")
    platform = rules.WINDOWS_HELLO_AAGUIDS | rules.MICROSOFT_AUTHENTICATOR_AAGUIDS
    if ev.passkey_type == SYNCED or aaguid in platform:
        what = "a synced passkey" if ev.passkey_type == SYNCED else "a platform authenticator"
        raise _Rejected(Reason.PROVISIONING_AUTHENTICATOR_NOT_SUPPORTED,
                        f"Graph provisioning is limited to security keys; this is {what}",
                        # recognised by its AAGUID, not its BE flag: the detection is inferred
                        inferred=ev.passkey_type != SYNCED)
