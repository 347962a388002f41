"""The rule book: every rule the decision engine applies, with its source.

This is the one place where the emulator's choices live. A rule is *documented* when
Microsoft's documentation states it (the fact sheet `shared/entra-facts.md` cites the page),
and *inferred* when the documentation is silent or ambiguous and we chose a behaviour. Every
inferred rule says what we chose and why, so a reader can disagree with one line, not hunt
through the engine.

Reason codes are ours (UPPER_SNAKE): Entra publishes no registration error codes
(entra-facts §8), so none of these is ever presented as an Entra error code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache


class Family(StrEnum):
    """The decision families a rejection falls into."""

    POLICY_SCOPE = "policy_scope"
    BOOTSTRAP = "bootstrap"
    CEREMONY = "ceremony"
    AUTHENTICATOR_GOVERNANCE = "authenticator_governance"
    PLATFORM_PATH = "platform_path"


class Reason(StrEnum):
    """Our reason codes, one per rule of the book below (UPPER_SNAKE): none is Entra's."""

    METHOD_DISABLED = "METHOD_DISABLED"
    USER_EXCLUDED = "USER_EXCLUDED"
    USER_NOT_TARGETED = "USER_NOT_TARGETED"
    NO_PASSKEY_PROFILE = "NO_PASSKEY_PROFILE"
    SELF_SERVICE_DISABLED = "SELF_SERVICE_DISABLED"
    GUEST_NOT_SUPPORTED = "GUEST_NOT_SUPPORTED"
    MFA_REQUIRED = "MFA_REQUIRED"
    MFA_STALE = "MFA_STALE"
    TAP_EXPIRED = "TAP_EXPIRED"
    TAP_NOT_IN_POLICY = "TAP_NOT_IN_POLICY"
    TAP_INTERRUPT_MODE = "TAP_INTERRUPT_MODE"
    GRAPH_SESSION_STALE = "GRAPH_SESSION_STALE"
    CONDITIONAL_ACCESS_UNMET = "CONDITIONAL_ACCESS_UNMET"
    CLIENT_DATA_TYPE_INVALID = "CLIENT_DATA_TYPE_INVALID"
    CHALLENGE_MISMATCH = "CHALLENGE_MISMATCH"
    CHALLENGE_EXPIRED = "CHALLENGE_EXPIRED"
    CHALLENGE_REUSED = "CHALLENGE_REUSED"
    ORIGIN_MISMATCH = "ORIGIN_MISMATCH"
    CROSS_ORIGIN_NOT_ALLOWED = "CROSS_ORIGIN_NOT_ALLOWED"
    RP_ID_HASH_MISMATCH = "RP_ID_HASH_MISMATCH"
    USER_PRESENCE_MISSING = "USER_PRESENCE_MISSING"
    USER_VERIFICATION_MISSING = "USER_VERIFICATION_MISSING"
    AUTHENTICATOR_DATA_INVALID = "AUTHENTICATOR_DATA_INVALID"
    ALGORITHM_UNSUPPORTED = "ALGORITHM_UNSUPPORTED"
    CREDENTIAL_KEY_INVALID = "CREDENTIAL_KEY_INVALID"
    CREDENTIAL_ALREADY_REGISTERED = "CREDENTIAL_ALREADY_REGISTERED"
    CREDENTIAL_NOT_DISCOVERABLE = "CREDENTIAL_NOT_DISCOVERABLE"
    PASSKEY_TYPE_NOT_ALLOWED = "PASSKEY_TYPE_NOT_ALLOWED"
    ATTESTATION_REQUIRED = "ATTESTATION_REQUIRED"
    ATTESTATION_FORMAT_NOT_ACCEPTED = "ATTESTATION_FORMAT_NOT_ACCEPTED"
    ATTESTATION_STATEMENT_INVALID = "ATTESTATION_STATEMENT_INVALID"
    ATTESTATION_STATEMENT_INCOMPLETE = "ATTESTATION_STATEMENT_INCOMPLETE"
    ATTESTATION_SIGNATURE_INVALID = "ATTESTATION_SIGNATURE_INVALID"
    ATTESTATION_AAGUID_MISMATCH = "ATTESTATION_AAGUID_MISMATCH"
    ATTESTATION_NONCE_MISMATCH = "ATTESTATION_NONCE_MISMATCH"
    ATTESTATION_CERTIFICATE_INVALID = "ATTESTATION_CERTIFICATE_INVALID"
    ATTESTATION_CERTIFICATE_EXPIRED = "ATTESTATION_CERTIFICATE_EXPIRED"
    ATTESTATION_CHAIN_INVALID = "ATTESTATION_CHAIN_INVALID"
    ATTESTATION_UNTRUSTED = "ATTESTATION_UNTRUSTED"
    AUTHENTICATOR_NOT_IN_METADATA = "AUTHENTICATOR_NOT_IN_METADATA"
    AUTHENTICATOR_NOT_ELIGIBLE = "AUTHENTICATOR_NOT_ELIGIBLE"
    AUTHENTICATOR_NOT_CERTIFIED = "AUTHENTICATOR_NOT_CERTIFIED"
    AUTHENTICATOR_REVOKED = "AUTHENTICATOR_REVOKED"
    ATTESTATION_KEY_COMPROMISED = "ATTESTATION_KEY_COMPROMISED"
    AAGUID_NOT_ALLOWED = "AAGUID_NOT_ALLOWED"
    AAGUID_BLOCKED = "AAGUID_BLOCKED"
    WINDOWS_HELLO_NOT_ALLOWED = "WINDOWS_HELLO_NOT_ALLOWED"
    WINDOWS_HELLO_ATTESTATION_ENFORCED = "WINDOWS_HELLO_ATTESTATION_ENFORCED"
    NO_PROFILE_SATISFIED = "NO_PROFILE_SATISFIED"
    CROSS_DEVICE_ATTESTED_AUTHENTICATOR = "CROSS_DEVICE_ATTESTED_AUTHENTICATOR"
    WINDOWS_HELLO_FOR_BUSINESS_CONFLICT = "WINDOWS_HELLO_FOR_BUSINESS_CONFLICT"
    PROVISIONING_FORMAT_NOT_SUPPORTED = "PROVISIONING_FORMAT_NOT_SUPPORTED"
    PROVISIONING_AUTHENTICATOR_NOT_SUPPORTED = "PROVISIONING_AUTHENTICATOR_NOT_SUPPORTED"
    ACCEPTED = "ACCEPTED"


class Status(StrEnum):
    """Whether Microsoft's documentation states a rule, we inferred it, or a real tenant was
    seen doing it (the source is an observation file `pkconf discover` read: evidence where
    Microsoft documents nothing, such as Entra's error codes)."""

    DOCUMENTED = "documented"
    INFERRED = "inferred"
    OBSERVED = "observed"


class Cloud(StrEnum):
    """The Microsoft clouds a tenant lives in: changes reach them at different dates."""

    WORLDWIDE = "worldwide"
    GCC = "gcc"
    GCC_HIGH = "gcchigh"
    DOD = "dod"


GOVERNMENT = frozenset({Cloud.GCC, Cloud.GCC_HIGH, Cloud.DOD})


@dataclass(frozen=True)
class Rollout:
    """When a change reached the tenants of some clouds: from `start` until `end`, documented."""

    clouds: frozenset[Cloud]
    start: date
    end: date


@dataclass(frozen=True)
class Change:
    """A dated change in Entra, the notice that dates it, and its rollout in each cloud.

    A tenant inside a rollout window may be either way; the rule book decides by the documented
    end of the rollout ([INFERRED]) and a decision made inside the window says so.
    """

    name: str
    title: str
    notice: str  # the Message Center notice (or page) that dates it
    url: str
    rollouts: tuple[Rollout, ...]
    effect: str = ""  # what it changes in decisions where no rule version names it

    def rollout(self, cloud: Cloud) -> Rollout:
        return next(r for r in self.rollouts if cloud in r.clouds)

    def effective(self, cloud: Cloud) -> date:
        """The day the change holds in `cloud`: the documented end of its rollout there."""
        return self.rollout(cloud).end

    def rolling_out(self, as_of: date, cloud: Cloud) -> bool:
        rollout = self.rollout(cloud)
        return rollout.start <= as_of < rollout.end


# --- The 2026 changes (entra-facts §0) ----------------------------------------------------------
# [3P mirror of a Microsoft notice] MC1221452: profiles and synced passkeys GA; tenants not opted in
# were migrated "worldwide April-May 2026, GCC/GCC High/DoD June 2026": whole months, so each
# rollout ends on the first day after them ([INFERRED] day bounds).
PASSKEY_PROFILES_MIGRATION = Change(
    "passkey-profiles-migration", "Passkey profiles and synced passkeys: generally available; "
    "tenants migrated automatically", "MC1221452", "https://mc.merill.net/message/MC1221452",
    (Rollout(frozenset({Cloud.WORLDWIDE}), date(2026, 4, 1), date(2026, 6, 1)),
     Rollout(GOVERNMENT, date(2026, 6, 1), date(2026, 7, 1))),
    "A policy export without passkeyProfiles (the legacy form) read after the migration is a "
    "snapshot from before it: decided as it reads, and the decision says so ([INFERRED]).",
)
# [3P mirror of a Microsoft notice] MC1282568: "rollout worldwide from late April 2026, complete
# mid-June 2026; GCC/GCC High/DoD early to late July 2026" ("late April" = 20 April, "mid-June" =
# 15 June, "early/late July" = 1/31 July: [INFERRED] day bounds).
MC1282568 = (
    "https://message.cengizyilmaz.net/message/"
    "mc1282568-general-availability-microsoft-entra-passkeys-on-windows"
)
WINDOWS_HELLO_GA = Change(
    "windows-hello-ga", "Microsoft Entra passkeys on Windows: generally available; Windows Hello "
    "AAGUIDs no longer need allow-listing", "MC1282568", MC1282568,
    (Rollout(frozenset({Cloud.WORLDWIDE}), date(2026, 4, 20), date(2026, 6, 15)),
     Rollout(GOVERNMENT, date(2026, 7, 1), date(2026, 7, 31))),
)
CHANGES = (PASSKEY_PROFILES_MIGRATION, WINDOWS_HELLO_GA)


S1 = "https://learn.microsoft.com/entra/identity/authentication/how-to-authentication-passkeys-fido2"
S2 = "https://learn.microsoft.com/entra/identity/authentication/how-to-authentication-passkey-profiles"
S3 = "https://learn.microsoft.com/entra/identity/authentication/concept-fido2-hardware-vendor"
S4 = (
    "https://learn.microsoft.com/entra/identity/authentication/"
    "how-to-authentication-entra-passkeys-on-windows"
)
S5 = "https://learn.microsoft.com/entra/identity/authentication/how-to-enable-authenticator-passkey"
S6 = "https://learn.microsoft.com/entra/identity/authentication/how-to-authentication-synced-passkeys"
TAP = (
    "https://learn.microsoft.com/entra/identity/authentication/"
    "howto-authentication-temporary-access-pass"
)
G1 = (
    "https://learn.microsoft.com/graph/api/resources/"
    "fido2authenticationmethodconfiguration?view=graph-rest-1.0"
)
G2 = "https://learn.microsoft.com/graph/api/resources/passkeyprofile?view=graph-rest-1.0"
G6 = (
    "https://learn.microsoft.com/graph/api/"
    "fido2authenticationmethod-creationoptions?view=graph-rest-1.0"
)
G7 = "https://learn.microsoft.com/graph/api/authentication-post-fido2methods?view=graph-rest-1.0"
G8 = "https://learn.microsoft.com/graph/api/authentication-post-fido2methods?view=graph-rest-beta"
SELECTION = (
    "https://learn.microsoft.com/graph/api/resources/"
    "webauthnauthenticatorselectioncriteria?view=graph-rest-beta"
)
WEBAUTHN = "https://www.w3.org/TR/webauthn-3/#sctn-registering-a-new-credential"
WEBAUTHN_AUTH_DATA = "https://www.w3.org/TR/webauthn-3/#sctn-authenticator-data"
C1 = (
    "https://learn.microsoft.com/entra/identity/authentication/"
    "concept-authentication-passkeys-fido2"
)


@dataclass(frozen=True)
class Rule:
    """One rule: its reason code, family, where it comes from, whether that is documented, and
    when it holds (from the change `since` until the change `until`, in `clouds`)."""

    reason: Reason
    family: Family | None  # None for acceptance
    status: Status
    fact: str  # the entra-facts.md section (or spec) the rule implements
    url: str
    note: str = ""  # for inferred rules: what we chose and why
    since: Change | None = None  # None: since before 2026
    until: Change | None = None  # None: still in force
    clouds: frozenset[Cloud] = frozenset(Cloud)

    @property
    def version(self) -> str:
        """Which version of the reason's rule this is: named by the change that began it."""
        return self.since.name if self.since else "original"

    def holds(self, as_of: date, cloud: Cloud) -> bool:
        return (cloud in self.clouds
                and (self.since is None or as_of >= self.since.effective(cloud))
                and (self.until is None or as_of < self.until.effective(cloud)))

    def period(self, cloud: Cloud) -> tuple[date | None, date | None]:
        """From when until when (exclusive) the rule holds in `cloud`."""
        return (self.since.effective(cloud) if self.since else None,
                self.until.effective(cloud) if self.until else None)

    def source(self, cloud: Cloud = Cloud.WORLDWIDE) -> dict[str, str]:
        # str() of a StrEnum is its value, without 3.11's Python-level `value` property
        out = {"rule": str(self.reason), "fact": self.fact, "url": self.url,
               "status": str(self.status)}
        if self.note:
            out["note"] = self.note
        out["version"] = self.version
        if self.since or self.until:
            since, until = self.period(cloud)
            out.update({k: v.isoformat() for k, v in (("since", since), ("until", until)) if v})
        return out


# --- Time windows (entra-facts §3) -------------------------------------------------------------
MFA_WINDOW_SECONDS = 5 * 60  # [DOC S1] "MFA within the past five minutes"
ONE_TIME_TAP_WINDOW_SECONDS = 10 * 60  # [DOC TAP] one-time TAP: register within 10 minutes
# [DOC G7, zh-CN] Graph /me: MFA again "if they last authenticated more than 10 minutes ago"
GRAPH_ME_WINDOW_SECONDS = 10 * 60
CHALLENGE_TIMEOUT_MINUTES = 5  # [DOC G6] v1.0 system-defined challenge timeout
CHALLENGE_TIMEOUT_RANGE_MINUTES = (5, 43200)  # [DOC G8] beta challengeTimeoutInMinutes

# --- Relying party (entra-facts §3, "RP ID") ---------------------------------------------------
RP_ID = "login.microsoft.com"  # [INFERRED] from the rp entity doc and live 3P evidence
RP_NAME = "Microsoft"  # [DOC] "name is always set to Microsoft"
# [INFERRED] The full list of origins is [NOT FOUND]; the reverse-engineered Security-info flow
# runs the ceremony on https://login.microsoft.com, and no Microsoft text puts it on
# mysignins.microsoft.com (entra-facts §0, §3). That origin is the emulator's own page's
# (pkconf/emulator/pages.py), which the emulator adds for its page's requests only.
ORIGIN = "https://login.microsoft.com"
ALLOWED_ORIGINS = (ORIGIN,)

# --- Algorithms ---------------------------------------------------------------------------------
# [DOC G6] only ES256 (-7) appears; [INFERRED] the second entry DSInternals sees is RS256 (-257),
# which Windows Hello TPM keys use.
SUPPORTED_ALGORITHMS = (-7, -257)

# --- Attestation formats (entra-facts §4) -------------------------------------------------------
ENFORCED_FORMATS = ("packed",)  # [DOC S3] packed with a full chain to an MDS root
UNENFORCED_FORMATS = ("none", "tpm", "packed")  # [DOC S3], plus custom formats <= 32 characters
CUSTOM_FORMAT_MAX_LENGTH = 32  # [DOC S3]
PROVISIONING_FORMATS = ("packed", "none")  # [DOC G8]
# [INFERRED] With attestation not enforced a statement is read, not verified (unattested AAGUIDs
# are taken as claimed, entra-facts §4), and a `packed` one must still have its form: alg, sig and
# an x5c whose certificates all parse. The 2024 vendor page asked for "a valid 'packed' attestation
# statement (but Microsoft will ignore attestation verification results) and a complete
# certificate (which doesn't need to be associated with a particular certificate chain)"; today's
# lists "packed (AttCA)"; third-party evidence says self attestation (no certificate) is refused
# while a self-signed x5c registers. Not checked: the signature, the certificate's contents and
# dates, the chain. Other formats are checked by name only. The refusal is
# ATTESTATION_STATEMENT_INCOMPLETE.
# When metadata is loaded, a statement that does verify to an MDS root still reports "attested".
# [INFERRED] Admin provisioning through Graph acts for the user: the user's own MFA freshness
# (a Security-info rule) does not apply to it.
# [INFERRED] The emulator's /me registration endpoints stand for Security info's registration
# calls (the 5-minute rule of S1), unless the session is a Graph client's (`client: "graph"` at
# sign-in): then the path is Graph /me, whose window is GRAPH_ME_WINDOW_SECONDS (entra-facts §3).
# [INFERRED] Bootstrap needs one satisfied path, not all: recent MFA, or a TAP sign-in. A multi-use
# TAP sign-in is an MFA sign-in: the one-time pass's 10 minutes "doesn't apply" to it (TAP doc), so
# the path's MFA window does, and past it the user signs in again with the pass, which stays
# usable for its lifetime: MFA_STALE (GRAPH_SESSION_STALE), status inferred, never TAP_EXPIRED.
# [INFERRED] Check order follows the Tenant issue (state, exclusion, targeting, self-service,
# guests, MFA); entra-facts Appendix A (itself inferred) puts guests first. Only the reported
# reason differs: every one of these is a rejection.
PROVISIONING_NEEDS_USER_MFA = False
# [INFERRED] Cross-device means a cross-platform attachment over the hybrid transport
# (entra-facts §4, "Cross-device registration flows don't support registration of attested
# passkeys"); transports alone list what an authenticator can do later, not how it came.
CROSS_DEVICE_TRANSPORT = "hybrid"
# [DOC S4] the Windows Hello for Business conflict "may not apply once the user exceeds 50 total
# platform credentials" (FIDO2, WHfB and Mac platform credentials together, per 3P summaries).
# [INFERRED] "may not" read as "does not": from 51 platform credentials on, no conflict.
WHFB_CONFLICT_MAX_PLATFORM_CREDENTIALS = 50

# --- Policy limits (entra-facts §2) -------------------------------------------------------------
# [DOC S2] "Up to three passkey profiles, including the Default passkey profile, are supported.
# Support for more passkey profiles is in development." It holds since passkey profiles exist,
# so on every date this book covers; a limit on the policy (a PATCH over it is refused, policy.py)
# rather than a rule with a reason. When Microsoft raises it, the new value is dated by a Change.
MAX_PROFILES = 3
MAX_POLICY_BYTES = 20 * 1024  # [DOC S2] the Authentication methods policy is at most 20 KB

# --- Well-known AAGUIDs (entra-facts §5, §6.1) --------------------------------------------------
WINDOWS_HELLO_AAGUIDS = frozenset(
    {
        "08987058-cadc-4b81-b6e1-30de50dcbe96",  # Windows Hello Hardware Authenticator
        "9ddd1817-af5a-4672-a2b9-3e3dd95000a9",  # Windows Hello VBS Hardware Authenticator
        "6028b017-b1d4-4c02-b4b3-afcdafc96bb2",  # Windows Hello Software Authenticator
    }
)
MICROSOFT_AUTHENTICATOR_AAGUIDS = frozenset(
    {
        "de1e552d-db1d-4423-a619-566b625cdc84",  # Microsoft Authenticator for Android
        "90a3ccdf-635c-4729-a248-9b709135078f",  # Microsoft Authenticator for iOS
    }
)


DOC, INF = Status.DOCUMENTED, Status.INFERRED
PS, BS, CE, AG, PP = (
    Family.POLICY_SCOPE,
    Family.BOOTSTRAP,
    Family.CEREMONY,
    Family.AUTHENTICATOR_GOVERNANCE,
    Family.PLATFORM_PATH,
)

RULE_BOOK: tuple[Rule, ...] = (
    # Policy scope, in Entra's order (entra-facts §1, §2, §3, Appendix A)
    Rule(Reason.METHOD_DISABLED, PS, DOC, "§1.1 state", G1),
    Rule(Reason.USER_EXCLUDED, PS, DOC, "§2 Exclusion wins", S2),
    Rule(Reason.USER_NOT_TARGETED, PS, DOC, "§2 Mapping users to profiles", S2),
    Rule(
        Reason.NO_PASSKEY_PROFILE, PS, INF, "§2 Default profile behaviour", S2,
        "A target with an empty allowedPasskeyProfiles list scopes no profile: the list is "
        "authoritative and is not padded with the default profile ([NOT FOUND] in the docs).",
    ),
    Rule(
        Reason.SELF_SERVICE_DISABLED, PS, DOC, "§3 Self-service switch; §7.2 Known issues",
        S1,
        "Applies to Security info and, per the Graph known issue, to admin provisioning too.",
    ),
    Rule(Reason.GUEST_NOT_SUPPORTED, PS, DOC, "§3 Guests", S1),
    # The product's policy scope: "the user is not in an applicable passkey profile, or the
    # profile does not allow the type of authenticator being attempted" (the type, per profile)
    Rule(
        Reason.PASSKEY_TYPE_NOT_ALLOWED, PS, DOC,
        "§2 Passkey types; §0 Attestation excludes synced passkeys", C1,
        "The passkey type is derived from the BE flag: backup eligible means synced "
        "(the derivation is [NOT FOUND]). A profile that enforces attestation allows "
        "device-bound passkeys only, whatever its passkeyTypes say.",
    ),
    # Bootstrap (entra-facts §3)
    Rule(Reason.MFA_REQUIRED, BS, DOC, "§3 Recent MFA", S1),
    Rule(
        Reason.MFA_STALE, BS, DOC, "§3 Recent MFA", S1,
        "Also a multi-use TAP sign-in past the window: it counts as an MFA sign-in and the pass "
        "can sign the user in again (inferred).",
    ),
    Rule(
        Reason.TAP_EXPIRED, BS, DOC, "§3 Temporary Access Pass", TAP,
        "One-time passes only: the 10 minutes 'doesn't apply to a TAP that can be used more "
        "than once'.",
    ),
    Rule(
        Reason.TAP_NOT_IN_POLICY, BS, DOC, "§0 Bootstrap blockers beyond MFA age", TAP,
        "Only users the TAP policy includes can sign in with a TAP: such a sign-in bootstraps "
        "nothing, so registration is refused unless recent MFA is another way in.",
    ),
    Rule(
        Reason.TAP_INTERRUPT_MODE, BS, DOC, "§0 Bootstrap blockers beyond MFA age", TAP,
        "In scope of the SSPR or ID Protection registration policy, a TAP sign-in lands in the "
        "interrupt mode, which 'doesn't currently support FIDO2'; recent MFA is still a way in.",
    ),
    Rule(
        Reason.GRAPH_SESSION_STALE, BS, DOC, "§3 Recent MFA (Graph self-service /me)", G7,
        "The last MFA or TAP sign-in of the Graph client's session is over 10 minutes old.",
    ),
    Rule(
        Reason.CONDITIONAL_ACCESS_UNMET, BS, DOC, "§0 Conditional Access", S5,
        "Bootstrap, not policy scope: a Conditional Access policy on 'Register security info' "
        "gates the way to registration, not the passkey profile, and blocks every path. On Graph "
        "/me it is inferred.",
    ),
    # Ceremony integrity (WebAuthn §7.1 and the Graph creation options)
    Rule(Reason.CLIENT_DATA_TYPE_INVALID, CE, DOC, "WebAuthn §7.1 step 7", WEBAUTHN),
    Rule(Reason.CHALLENGE_MISMATCH, CE, DOC, "WebAuthn §7.1 step 8", WEBAUTHN),
    Rule(Reason.CHALLENGE_EXPIRED, CE, DOC, "§7.1 challengeTimeoutDateTime", G6),
    Rule(
        Reason.CHALLENGE_REUSED, CE, INF, "§7.1 creationOptions", G6,
        "A challenge is consumed by its first registration attempt, accepted or not.",
    ),
    Rule(Reason.ORIGIN_MISMATCH, CE, INF, "§3 RP ID; §0 Origins", S1,
         "Origins: https://login.microsoft.com only (the full list is [NOT FOUND])."),
    Rule(
        Reason.CROSS_ORIGIN_NOT_ALLOWED, CE, INF, "WebAuthn §7.1 step 10; §5.8.1 crossOrigin, "
        "topOrigin", WEBAUTHN,
        "Entra's registration page is top-level, never in another origin's frame (embedding is "
        "[NOT FOUND]): crossOrigin true or any topOrigin is refused.",
    ),
    Rule(Reason.RP_ID_HASH_MISMATCH, CE, INF, "§3 RP ID", S1,
         "RP ID login.microsoft.com (3P)."),
    Rule(Reason.USER_PRESENCE_MISSING, CE, DOC, "WebAuthn §7.1 step 14", WEBAUTHN),
    Rule(Reason.USER_VERIFICATION_MISSING, CE, DOC, "§3 User verification", SELECTION),
    Rule(
        Reason.AUTHENTICATOR_DATA_INVALID, CE, DOC,
        "WebAuthn §6.1 flags and extensions; §7.1 step 16", WEBAUTHN_AUTH_DATA,
        "Authenticator data whose flags contradict each other (BS without BE) or whose "
        "extensions (ED) are not a CBOR map: well-formed bytes no authenticator may send.",
    ),
    Rule(
        Reason.ALGORITHM_UNSUPPORTED, CE, INF, "§7.1 pubKeyCredParams", G6,
        "ES256 is documented; RS256 is inferred from the second pubKeyCredParams entry.",
    ),
    Rule(
        Reason.CREDENTIAL_KEY_INVALID, CE, INF, "WebAuthn §7.1 step 23", WEBAUTHN,
        "A credential public key no sign-in could verify (no key type, a point off the curve, "
        "a short RSA modulus) is refused rather than stored.",
    ),
    Rule(
        Reason.CREDENTIAL_ALREADY_REGISTERED, CE, INF, "§3 excludeCredentials", S1,
        "The server refuses a credential id the user already has, as excludeCredentials would.",
    ),
    Rule(
        Reason.CREDENTIAL_NOT_DISCOVERABLE, CE, INF, "§3 Resident key", SELECTION,
        "requireResidentKey is always true; only a credProps.rk of false is refused, since the "
        "server cannot see residency otherwise and some clients omit credProps.",
    ),
    # Authenticator governance: one profile at a time (entra-facts §2, §4, §5)
    Rule(Reason.ATTESTATION_REQUIRED, AG, DOC, "§4 Enforce attestation = Yes", S3),
    Rule(Reason.ATTESTATION_FORMAT_NOT_ACCEPTED, AG, DOC, "§4 Format list", S3),
    Rule(Reason.ATTESTATION_STATEMENT_INVALID, AG, DOC, "§4 Enforce attestation = Yes", S3),
    Rule(
        Reason.ATTESTATION_STATEMENT_INCOMPLETE, AG, INF, "§4 Enforce attestation = No (2024)",
        S3,
        "Not enforced, a packed statement is parsed, not verified: alg, sig and a complete "
        "certificate (every x5c entry parses) are required, so self attestation is refused; "
        "signature results and the chain are ignored.",
    ),
    Rule(Reason.ATTESTATION_SIGNATURE_INVALID, AG, DOC, "§4 Enforce attestation = Yes", S3),
    Rule(Reason.ATTESTATION_AAGUID_MISMATCH, AG, DOC, "§4 Enforce attestation = Yes", S3),
    Rule(Reason.ATTESTATION_NONCE_MISMATCH, AG, DOC, "§4 Enforce attestation = Yes", S3),
    Rule(Reason.ATTESTATION_CERTIFICATE_INVALID, AG, DOC, "§4 Enforce attestation = Yes", S3),
    Rule(Reason.ATTESTATION_CERTIFICATE_EXPIRED, AG, DOC, "§4 Enforce attestation = Yes", S3,
         "Also covers a certificate that is not yet valid."),
    Rule(Reason.ATTESTATION_CHAIN_INVALID, AG, DOC, "§4 Enforce attestation = Yes", S3),
    Rule(Reason.ATTESTATION_UNTRUSTED, AG, DOC, "§4 MDS roots", S3),
    Rule(Reason.AUTHENTICATOR_NOT_IN_METADATA, AG, DOC, "§4 MDS", S3),
    Rule(
        Reason.AUTHENTICATOR_NOT_ELIGIBLE, AG, DOC, "§9 If attestation is enforced", S3,
        "The metadata must declare FIDO 2.0+, user verification or clientPin, resident keys, "
        "and hmac-secret or prf.",
    ),
    Rule(
        Reason.AUTHENTICATOR_NOT_CERTIFIED, AG, DOC, "§9 If attestation is enforced; §0", S3,
        "FIDO2 certification 'at any level': a FIDO_CERTIFIED* status report in the MDS entry "
        "(FIDO_CERTIFIED, or L1 to L3plus).",
    ),
    Rule(
        Reason.AUTHENTICATOR_REVOKED, AG, INF, "§4 MDS", S3,
        "MDS status REVOKED (and the compromise statuses) fail attestation, as in FIDO's "
        "conformance tools; Entra's handling of status reports is [NOT FOUND].",
    ),
    Rule(Reason.ATTESTATION_KEY_COMPROMISED, AG, INF, "§4 MDS", S3,
         "As AUTHENTICATOR_REVOKED."),
    Rule(Reason.AAGUID_NOT_ALLOWED, AG, DOC, "§1.2 fido2KeyRestrictions; §2 key restrictions",
         S2),
    Rule(Reason.AAGUID_BLOCKED, AG, DOC, "§1.2 fido2KeyRestrictions; §2 key restrictions",
         S2),
    Rule(
        Reason.WINDOWS_HELLO_NOT_ALLOWED, AG, DOC, "§5 Required configuration; §0", S4,
        "Preview only: a block list never counts as 'explicitly allowed'. Since GA in the "
        "tenant's cloud Windows Hello needs no allow-listing; allow and block lists still apply "
        "as to any authenticator ([INFERRED] from 'control stays with Authentication Methods "
        "policies').",
        until=WINDOWS_HELLO_GA,
    ),
    Rule(Reason.WINDOWS_HELLO_ATTESTATION_ENFORCED, AG, DOC, "§5 Attestation", S4,
         until=WINDOWS_HELLO_GA),
    Rule(
        Reason.WINDOWS_HELLO_ATTESTATION_ENFORCED, AG, INF, "§0 Windows Hello GA", S4,
        "Attestation for Windows Hello under GA is [NOT FOUND]: the preview's failure is kept, "
        "since Windows Hello attests with tpm and an enforcing profile accepts packed only.",
        since=WINDOWS_HELLO_GA,
    ),
    Rule(
        Reason.NO_PROFILE_SATISFIED, AG, INF, "§2 Precedence", S2,
        "When several scoped profiles fail for different reasons, no single reason is Entra's; "
        "the per-profile reasons are listed in the decision.",
    ),
    # Platform path (entra-facts §4, §5, §7)
    Rule(Reason.CROSS_DEVICE_ATTESTED_AUTHENTICATOR, PP, DOC, "§4 Microsoft Authenticator", S5,
         "Cross-device is recognised (inferred) by a cross-platform attachment over the hybrid "
         "transport; an in-app passkey that merely lists hybrid among its transports is not."),
    Rule(Reason.WINDOWS_HELLO_FOR_BUSINESS_CONFLICT, PP, DOC, "§5 Conflict with WHfB; §0", S4,
         "The block 'may not apply once the user exceeds 50 total platform credentials': we "
         "chose (inferred) that it does not apply from 51 on."),
    Rule(Reason.PROVISIONING_FORMAT_NOT_SUPPORTED, PP, DOC, "§7.2 Attestation formats", G8),
    Rule(
        Reason.PROVISIONING_AUTHENTICATOR_NOT_SUPPORTED, PP, DOC, "§7.2 Known issues", G7,
        "'Provisioning on behalf of users is currently limited to security keys'. Graph's POST "
        "carries no transports or attachment, so a non-key is recognised (inferred) by the BE "
        "flag (a synced passkey) or by a platform authenticator's AAGUID (Windows Hello, "
        "Microsoft Authenticator). The v1.0 example's Authenticator AAGUID, beside the model "
        "'Security Key NFC by Yubico', is read (inferred) as a sample value, not as support.",
    ),
    # Acceptance: a scoped profile is fully satisfied
    Rule(Reason.ACCEPTED, None, DOC, "§2 Precedence", S2),
)
VERSIONS: dict[Reason, tuple[Rule, ...]] = {
    reason: tuple(r for r in RULE_BOOK if r.reason is reason) for reason in Reason}
RULES: dict[Reason, Rule] = {r.reason: r for r in RULE_BOOK}  # each reason's latest version


def rule(reason: Reason, version: str | None = None) -> Rule:
    """The rule behind a reason code: its latest version, or the version named."""
    if version is None:
        return RULES[reason]
    for candidate in VERSIONS[reason]:
        if candidate.version == version:
            return candidate
    raise KeyError(f"{reason} has no rule version {version!r}")


@dataclass(frozen=True)
class RuleBook:
    """The rules as they hold on one day in one cloud: what a decision as of that day applies."""

    as_of: date
    cloud: Cloud = Cloud.WORLDWIDE

    @classmethod
    def today(cls, cloud: Cloud = Cloud.WORLDWIDE) -> RuleBook:
        return cls(date.today(), cloud)

    def holds(self, reason: Reason) -> bool:
        return any(r.holds(self.as_of, self.cloud) for r in VERSIONS[reason])

    def rule(self, reason: Reason) -> Rule:
        """The version of the reason's rule in force; a reason no rule holds for is an error of
        the engine, which must not reach it."""
        return _in_force(reason, self.as_of, self.cloud)

    def in_force(self) -> list[Rule]:
        return [r for r in RULE_BOOK if r.holds(self.as_of, self.cloud)]

    def rollout_note(self, change: Change) -> str | None:
        """Inside a change's rollout window, what the decision assumed ([INFERRED])."""
        if not change.rolling_out(self.as_of, self.cloud):
            return None
        window = change.rollout(self.cloud)
        return (f"{self.as_of} falls in the rollout of '{change.title}' ({change.notice}) to "
                f"{self.cloud} tenants, {window.start} to {window.end}: a tenant may be either "
                f"way; decided as before its end")


@lru_cache(maxsize=4096)
def _in_force(reason: Reason, as_of: date, cloud: Cloud) -> Rule:
    """`RuleBook.rule`, a pure function of the rule book (fixed at import), remembered: every
    decision asks it."""
    for candidate in VERSIONS[reason]:
        if candidate.holds(as_of, cloud):
            return candidate
    raise LookupError(f"no rule for {reason} holds on {as_of} in {cloud}")
