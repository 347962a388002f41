"""Will Entra accept this authenticator? A vendor's answer, with evidence a customer can read.

Two halves. Microsoft's published vendor requirements (entra-facts §9, §4) become a checklist,
each item pass/fail with the evidence it was judged on: getInfo, the registration, the
attestation chain (the tenant's own verifiers) and the FIDO metadata. Then the tenant
configurations that matter for one authenticator — attestation, key restrictions, passkey types,
self-service and provisioning — are built as policies and decided by the pure engine.

One registration serves every configuration: only the policy differs between them, so a
physical key is touched once however many configurations are decided.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import platform
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fido2.client import ClientError
from fido2.ctap import CtapDevice, CtapError
from fido2.ctap2 import Ctap2, Info
from fido2.hid import CAPABILITY
from fido2.mds3 import AuthenticatorStatus
from fido2.webauthn import AuthenticatorData

from .. import __version__
from ..authenticators.device import SoftwareAuthenticator
from ..authenticators.profiles import Profile
from ..ceremonies import CTAP_CEREMONIES
from ..ceremonies.ctap import Setup
from ..ceremonies.graph_target import GraphTenant
from ..ceremonies.physical import register_with_key
from ..ceremonies.result import CeremonyResult, TenantRefusal
from ..tenant import rules
from ..tenant.attestation import (
    AttestationFailure,
    Metadata,
    MetadataEntry,
    VerifiedStatement,
    validate_chain,
    verify_statement,
)
from ..tenant.attestation.certificate import AttestationCertificate
from ..tenant.attestation.der import DerError
from ..tenant.attestation.metadata import (
    CERTIFIED_STATUSES,
    FIDO2_VERSIONS,
    REVOKING_STATUSES,
    SECRET_EXTENSIONS,
    ZERO_AAGUID,
)
from ..tenant.decision import CeremonyContext, Decision, RegistrationPath, UserContext
from ..tenant.engine import decide
from ..tenant.policy import ALL_USERS, Fido2Policy, PolicyError, parse_policy
from ..tenant.registration import Registration, parse_registration
from ..tenant.rules import RuleBook
from .impact import FRESH_MFA_SECONDS, PATHS, ceremony_context, entra_options, registrations

FLAG = AuthenticatorData.FLAG
S3 = "entra-facts §9 (S3 concept-fido2-hardware-vendor)"
# An AAGUID no real model has, for "an allow list that does not name this authenticator".
OTHER_AAGUID = "00000000-0000-4000-8000-0000000c0de5"
FIDO2_CONFIGURATION_TYPE = "#microsoft.graph.fido2AuthenticationMethodConfiguration"


@dataclass(frozen=True)
class Sample:
    """What one authenticator showed: its getInfo (`info_json`; None: it speaks no CTAP2, or
    the response was captured without it) and one registration with the ceremony it answered,
    or the client's reason for refusing to register."""

    name: str
    info: dict[str, Any] | None
    registration: Registration | None
    ceremony: CeremonyContext
    refused: str = ""
    source: str = ""  # "authenticator NAME", "device PATH", "response FILE"
    captured: bool = False  # a response captured elsewhere: no getInfo was asked

    @property
    def aaguid(self) -> str:
        if self.registration is None:
            return str((self.info or {}).get("aaguid") or ZERO_AAGUID)
        credential = self.registration.auth_data.credential_data
        return str(credential.aaguid) if credential else ZERO_AAGUID


def get_info(device: CtapDevice) -> Info | None:
    """authenticatorGetInfo, or None for a key that speaks CTAP1/U2F only."""
    if not device.capabilities & CAPABILITY.CBOR:
        return None
    try:
        return Ctap2(device).info
    except CtapError:
        return None


def info_json(info: Info | None) -> dict[str, Any] | None:
    """The getInfo fields the requirements read, by name (fido2's own dict is CBOR keys)."""
    return None if info is None else {
        "versions": list(info.versions), "extensions": list(info.extensions),
        "aaguid": str(info.aaguid), "options": dict(info.options),
        "transports": list(info.transports)}


def sample_profile(profile: Profile, now: datetime) -> Sample:
    """A built-in or file profile: its software authenticator registers as `impact` does."""
    made, refused, ceremony = registrations([profile], now)
    return Sample(profile.name, info_json(get_info(SoftwareAuthenticator(profile))),
                  made.get(profile.name), ceremony, refused.get(profile.name, ""),
                  f"authenticator {profile.name}")


def sample_device(device: CtapDevice, name: str, path: str, now: datetime) -> Sample:
    """An attached key: one real registration (one touch, the PIN from PKCONF_PIN or a prompt)."""
    info, ceremony = info_json(get_info(device)), ceremony_context(now)
    try:
        response = register_with_key(device, entra_options()["publicKey"], rules.ORIGIN)
    except ClientError as e:
        return Sample(name, info, None, ceremony, f"the client refuses to register: {e}",
                      f"device {path}")
    return Sample(name, info, parse_registration(dict(response)), ceremony,
                  source=f"device {path}")


# --- the vendor requirements ----------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One requirement's verdict and what it was judged on."""

    id: str
    title: str
    passed: bool
    evidence: str
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "passed": self.passed,
                "evidence": self.evidence, "source": self.source}


@dataclass
class _Facts:
    """What the checks read, worked out once: the metadata entry and the verified statement."""

    sample: Sample
    entry: MetadataEntry | None
    statement: VerifiedStatement | AttestationFailure | None
    at: datetime

    @classmethod
    def of(cls, sample: Sample, metadata: Metadata | None, at: datetime) -> _Facts:
        reg = sample.registration
        statement: VerifiedStatement | AttestationFailure | None = None
        if reg is not None:
            try:
                statement = verify_statement(reg.attestation_object, reg.client_data.hash, at=at)
            except AttestationFailure as e:
                statement = e
        facts = cls(sample, None, statement, at)
        if metadata is not None:  # as verify_trust finds it: by AAGUID, else by the chain
            facts.entry = (metadata.entry(sample.aaguid) if sample.aaguid != ZERO_AAGUID
                           else None) or metadata.entry_for_chain(facts.x5c())
        return facts

    @property
    def info(self) -> Mapping[str, Any]:
        """getInfo; for a captured response, which carries none, what the metadata states."""
        if self.sample.info is None and self.sample.captured:
            return self.entry_info()
        return self.sample.info or {}

    @property
    def info_said(self) -> str:
        return "metadata getInfo (a captured response has none)" \
            if self.sample.captured else "getInfo"

    @property
    def options(self) -> Mapping[str, Any]:
        return self.info.get("options") or {}

    def flag(self, flag: FLAG) -> bool | None:
        reg = self.sample.registration
        return None if reg is None else bool(reg.auth_data.flags & flag)

    def entry_info(self) -> Mapping[str, Any]:
        statement = self.entry.raw.metadata_statement if self.entry else None
        return (statement.authenticator_get_info if statement else None) or {}

    def x5c(self) -> list[bytes]:
        reg = self.sample.registration
        x5c = reg.attestation_object.att_stmt.get("x5c") if reg else None
        return [c for c in x5c if isinstance(c, bytes)] if isinstance(x5c, list) else []

    def metadata_said(self) -> str:
        return (f"metadata entry {self.entry.description!r}" if self.entry
                else f"no metadata entry for AAGUID {self.sample.aaguid}")


def _registered(facts: _Facts) -> str:
    return "" if facts.sample.registration else f"; no registration ({facts.sample.refused})"


def _fido2(facts: _Facts) -> tuple[bool, str]:
    mine = tuple(facts.info.get("versions") or ())
    listed = tuple(facts.entry_info().get("versions") or ())
    ok = bool(FIDO2_VERSIONS & set(mine)) and bool(FIDO2_VERSIONS & set(listed))
    return ok, f"{facts.info_said} versions: {', '.join(mine) or 'none (U2F only)'}; " \
               f"{facts.metadata_said()} versions: {', '.join(listed) or 'none'}"


def _uv(facts: _Facts) -> tuple[bool, str]:
    capable = "uv" in facts.options or "clientPin" in facts.options
    uv = facts.flag(FLAG.UV)
    return capable and bool(uv), (f"{facts.info_said} options uv={facts.options.get('uv')}, "
                                  f"clientPin={facts.options.get('clientPin')}; "
                                  f"registration UV flag: {uv}{_registered(facts)}")


def _rk(facts: _Facts) -> tuple[bool, str]:
    ok = facts.options.get("rk") is True
    return ok, f"{facts.info_said} option rk={facts.options.get('rk')}"


def _secret(facts: _Facts) -> tuple[bool, str]:
    extensions = set(facts.info.get("extensions") or ())
    return bool(SECRET_EXTENSIONS & extensions), \
        f"{facts.info_said} extensions: {', '.join(sorted(extensions)) or 'none'}"


def _certified(facts: _Facts) -> tuple[bool, str]:
    statuses = facts.entry.raw.status_reports if facts.entry else []
    ok = any(r.status in CERTIFIED_STATUSES for r in statuses)
    return ok, f"{facts.metadata_said()}; statuses: " \
               f"{', '.join(facts.entry.statuses) if facts.entry else 'none'}"


def _packed(facts: _Facts) -> tuple[bool, str]:
    statement = facts.statement
    if statement is None:
        return False, f"no attestation statement{_registered(facts)}"
    if isinstance(statement, AttestationFailure):
        return False, f"the statement does not verify: {statement.reason}: {statement.detail}"
    said = f"fmt {statement.fmt}, {statement.attestation_type} attestation, " \
           f"x5c of {len(statement.trust_path)} certificate(s)"
    if statement.fmt != "packed" or not statement.trust_path:
        return False, f"{said}: not a full packed attestation"
    if facts.entry is None:
        return False, f"{said}; {facts.metadata_said()}: no root to chain to"
    try:
        validate_chain(statement.trust_path, facts.entry.root_certificates, facts.at)
    except AttestationFailure as e:
        return False, f"{said}; the chain fails: {e.reason}: {e.detail}"
    return True, f"{said}; chains to a root of {facts.metadata_said()}"


def _aaguid(facts: _Facts) -> tuple[bool, str]:
    aaguid = facts.sample.aaguid
    if aaguid == ZERO_AAGUID:
        return False, "authData's AAGUID is all zeros"
    x5c = facts.x5c()
    if not x5c:
        return False, f"AAGUID {aaguid}; no attestation certificate to compare it with"
    try:
        vouched = AttestationCertificate.load(x5c[0]).aaguid()
    except (DerError, ValueError) as e:
        return False, f"AAGUID {aaguid}; the attestation certificate does not read: {e}"
    if vouched is None:
        return False, f"AAGUID {aaguid}; the certificate has no id-fido-gen-ce-aaguid extension"
    theirs = str(_uuid(vouched))
    return theirs == aaguid, f"authData AAGUID {aaguid}; certificate's {theirs}"


def _uuid(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" if len(raw) == 16 else h


def _status(facts: _Facts) -> tuple[bool, str]:
    if facts.entry is None:
        return False, facts.metadata_said()
    bad = [r.status.value for r in facts.entry.raw.status_reports
           if r.status in REVOKING_STATUSES
           or r.status == AuthenticatorStatus.ATTESTATION_KEY_COMPROMISE]
    return not bad, f"{facts.metadata_said()}; statuses: {', '.join(facts.entry.statuses)}"


def _device_bound(facts: _Facts) -> tuple[bool, str]:
    be, bs = facts.flag(FLAG.BE), facts.flag(FLAG.BS)
    return be is False, f"authData BE={be}, BS={bs}{_registered(facts)}"


Judge = Callable[[_Facts], tuple[bool, str]]
REQUIREMENTS: tuple[tuple[str, str, Judge, str], ...] = (
    ("fido2", "FIDO2 (2.0 or higher) in getInfo and metadata", _fido2, S3),
    ("user-verification", "User verification (biometrics or PIN)", _uv, S3),
    ("resident-keys", "Resident keys (discoverable credentials)", _rk, S3),
    ("hmac-secret-or-prf", "hmac-secret or PRF extension", _secret, S3),
    ("fido-certified", "FIDO certification at any level", _certified, S3),
    ("packed-attestation", "Full packed attestation, x5c chaining to the metadata's root",
     _packed, "entra-facts §4, §9"),
    ("aaguid", "Non-zero AAGUID matching the certificate's (id-fido-gen-ce-aaguid)", _aaguid,
     "entra-facts §4, §9; WebAuthn §8.2.1"),
    ("metadata-status", "Metadata entry neither revoked nor compromised", _status,
     "entra-facts §9; FIDO MDS3 status reports"),
    ("device-bound", "BE not set: a device-bound key", _device_bound,
     "entra-facts §0, §4: attestation admits device-bound passkeys only"),
)


# --- the configurations ---------------------------------------------------------------------
ATTESTATION = ("disabled", "registrationOnly")
RESTRICTIONS = ("none", "allow-listed", "block-listed", "allow-list-without-it")
PASSKEY_TYPES = ("deviceBound", "synced", "deviceBound,synced")


@dataclass(frozen=True)
class Configuration:
    """One tenant setting for everyone: a single passkey profile and a registration path
    (Security info from one of an authenticator file's declared platform paths, if it has)."""

    attestation: str
    restriction: str
    passkey_types: str
    path: RegistrationPath
    platform_path: str = ""  # "": the sample's only registration

    @property
    def name(self) -> str:
        on = f" on {self.platform_path}" if self.platform_path else ""
        return (f"attestation {self.attestation}, keys {self.restriction}, "
                f"types {self.passkey_types}, {self.path}{on}")

    def policy_json(self, aaguid: str) -> dict[str, Any]:
        """The configuration as Graph's fido2 configuration (the body a PATCH sends, entra-facts
        §1.5), with this authenticator's AAGUID where the key restriction names it."""
        listed = {"none": [], "allow-listed": [aaguid], "block-listed": [aaguid],
                  "allow-list-without-it": [OTHER_AAGUID]}[self.restriction]
        pid = "00000000-0000-0000-0000-000000000001"
        return {
            "@odata.type": FIDO2_CONFIGURATION_TYPE, "id": "Fido2",
            "state": "enabled", "isSelfServiceRegistrationAllowed": True,
            "defaultPasskeyProfile": pid,
            "includeTargets": [{"targetType": "group", "id": ALL_USERS,
                                "isRegistrationRequired": False,
                                "allowedPasskeyProfiles": [pid]}],
            "excludeTargets": [],
            "passkeyProfiles": [{
                "id": pid, "name": "certification", "passkeyTypes": self.passkey_types,
                "attestationEnforcement": self.attestation,
                "keyRestrictions": {"isEnforced": self.restriction != "none",
                                    "enforcementType": "block" if self.restriction
                                    == "block-listed" else "allow",
                                    "aaGuids": listed}}],
        }

    def policy(self, aaguid: str) -> Fido2Policy:
        """The same policy as the engine reads it."""
        return parse_policy(self.policy_json(aaguid))

    def to_json(self) -> dict[str, Any]:
        return {"attestationEnforcement": self.attestation, "keyRestrictions": self.restriction,
                "passkeyTypes": self.passkey_types, "path": str(self.path),
                **({"platformPath": self.platform_path} if self.platform_path else {})}


def plan(platform_paths: Sequence[str] = ()) -> list[Configuration]:
    """Every combination of the settings an admin chooses for one authenticator (issue 11 §3).
    With an authenticator file's declared platform paths, Security info is one configuration
    set per path (the user registers from each), Graph provisioning one set (no client)."""
    per_path = platform_paths or ("",)
    paths = [(path, on) for path in PATHS
             for on in (per_path if path is RegistrationPath.SELF_SERVICE else ("",))]
    return [Configuration(attestation, restriction, types, path, on)
            for attestation, restriction, types in
            itertools.product(ATTESTATION, RESTRICTIONS, PASSKEY_TYPES)
            for path, on in paths]


@dataclass(frozen=True)
class Verdict:
    configuration: Configuration
    decision: Decision | None  # None: the authenticator never registered
    refused: str = ""

    @property
    def accepted(self) -> bool:
        return self.decision is not None and self.decision.accepted

    @property
    def summary(self) -> str:
        if self.decision is None:
            return f"not registered: {self.refused}"
        d = self.decision
        return "accepted" if d.accepted else f"rejected {d.family} {d.reason}: {d.detail}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.configuration.name, **self.configuration.to_json(),
                "accepted": self.accepted,
                "decision": self.decision.to_json() if self.decision else None,
                **({"refused": self.refused} if self.decision is None else {})}


# --- the certification ----------------------------------------------------------------------
USER = UserContext(mfa_age_seconds=FRESH_MFA_SECONDS)  # who registers, in-process and on a tenant


@dataclass
class Certification:
    sample: Sample
    checks: list[Check]
    verdicts: list[Verdict]
    book: RuleBook
    inputs: dict[str, str] = field(default_factory=dict)  # path -> SHA-256
    tenant: TenantSection | None = None  # set by a run with --target graph

    @property
    def ready(self) -> bool:
        return all(c.passed for c in self.checks)

    def summary_line(self) -> str:
        held = sum(c.passed for c in self.checks)
        accepted = sum(v.accepted for v in self.verdicts)
        return (f"Entra-ready: {'yes' if self.ready else 'no'} — {held}/{len(self.checks)} "
                f"requirements; accepted under {accepted} of {len(self.verdicts)} configurations")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.sample.name, "source": self.sample.source, "aaguid": self.sample.aaguid,
            "entraReady": self.ready, "summary": self.summary_line(),
            "getInfo": self.sample.info,
            "requirements": [c.to_json() for c in self.checks],
            "configurations": [v.to_json() for v in self.verdicts],
            "suiteVersion": __version__,
            "ruleBook": {"asOf": self.book.as_of.isoformat(), "cloud": str(self.book.cloud)},
            "tools": tool_versions(), "inputs": self.inputs,
            **({"tenant": self.tenant.to_json()} if self.tenant else {}),
        }


def tool_versions() -> dict[str, str]:
    """The versions whose behaviour the verdicts depend on, for a report read months later."""
    found = {"python": platform.python_version()}
    for name in ("fido2", "cryptography", "cbor2"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def sha256_files(paths: Sequence[Path]) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def certify(sample: Sample, metadata: Metadata | None, book: RuleBook, now: datetime,
            inputs: Sequence[Path] = (), on_paths: Mapping[str, Sample] | None = None
            ) -> Certification:
    """The checklist from the sample's registration, and every configuration of `plan()`:
    with `on_paths` (an authenticator file's sample on each declared platform path), each
    path's Security-info configurations from that path's own registration."""
    facts = _Facts.of(sample, metadata, now)
    checks = [Check(rid, title, *judge(facts), source)
              for rid, title, judge, source in REQUIREMENTS]

    def verdict(c: Configuration) -> Verdict:
        made = (on_paths or {}).get(c.platform_path, sample)
        if made.registration is None:
            return Verdict(c, None, made.refused)
        return Verdict(c, decide(c.policy(made.aaguid), USER, c.path, made.registration,
                                 made.ceremony, metadata=metadata, book=book))

    verdicts = [verdict(c) for c in plan(list(on_paths or ()))]
    return Certification(sample, checks, verdicts, book, sha256_files(inputs))


# --- on a tenant ----------------------------------------------------------------------------
CURRENT_POLICY = "the tenant's current policy"
TEST_PKI_ATTESTED = ("attestation enforced on a software authenticator whose statement chains "
                     "to the suite's test CA, which no tenant's FIDO metadata lists")
PROVISIONING_ONLY = ("only the provisioning path runs on a tenant: an app's token cannot act "
                     "as a user on Security info")


@dataclass(frozen=True)
class TenantResult:
    """One provisioning on the tenant beside the in-process verdict for the same policy, or
    why it was not run there (`skipped`)."""

    configuration: str  # a Configuration's name, or CURRENT_POLICY
    expected: Decision | None  # in-process
    observed: Decision | TenantRefusal | None = None  # None: skipped
    status: int | None = None
    error: tuple[str, str] | None = None  # Graph's error code and message
    request_ids: tuple[str, ...] = ()
    policy_changed: bool = False
    skipped: str = ""

    @classmethod
    def of(cls, configuration: str, expected: Decision, result: CeremonyResult,
           request_ids: Sequence[str], policy_changed: bool) -> TenantResult:
        """What the tenant answered the ceremony, its error envelope read as Graph sends it."""
        error = (result.response or {}).get("error")
        code_message = ((str(error.get("code")), str(error.get("message", "")))
                        if isinstance(error, dict) else None)
        observed = result.decision
        if not isinstance(observed, Decision | TenantRefusal):  # only a browser refuses first
            raise TypeError(f"a provisioning ceremony ended in {observed!r}")
        return cls(configuration, expected, observed, result.status, code_message,
                   tuple(request_ids), policy_changed)

    @property
    def agrees(self) -> bool | None:
        """Same outcome, and the same reason where the tenant names one of the suite's (the
        emulator does; a real tenant publishes no reasons, entra-facts §8). None: not run."""
        if self.observed is None or self.expected is None:
            return None
        if self.observed.accepted != self.expected.accepted:
            return False
        return isinstance(self.observed, TenantRefusal) or \
            self.observed.reason == self.expected.reason

    @property
    def verdict(self) -> str:
        return {None: "skipped", True: "agrees", False: "differs"}[self.agrees]

    @property
    def observed_summary(self) -> str:
        if self.observed is None:
            return self.skipped
        said = "accepted" if self.observed.accepted else "rejected"
        error = f" {self.error[0]}: {self.error[1]}" if self.error else ""
        return f"{self.status} {said}{error}"

    def to_json(self) -> dict[str, Any]:
        return {
            "configuration": self.configuration, "result": self.verdict,
            "expected": self.expected.to_json() if self.expected else None,
            "tenant": None if self.observed is None else {
                "status": self.status,
                "outcome": "accepted" if self.observed.accepted else "rejected",
                "decision": self.observed.to_json(),
                "error": ({"code": self.error[0], "message": self.error[1]}
                          if self.error else None),
                "requestIds": list(self.request_ids), "policyChanged": self.policy_changed},
            **({"skipped": self.skipped} if self.skipped else {}),
        }


@dataclass(frozen=True)
class TenantSection:
    """The authenticator provisioned on a tenant: where, when, and each result."""

    tenant: str
    graph_url: str
    at: datetime
    policy_changes: bool
    results: list[TenantResult]

    def count(self, verdict: str) -> int:
        return sum(r.verdict == verdict for r in self.results)

    def summary_line(self) -> str:
        skipped = self.count("skipped")
        return (f"tenant: {self.count('agrees')} agree, {self.count('differs')} differ"
                + (f" ({skipped} skipped)" if skipped else ""))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.tenant, "graphUrl": self.graph_url,
                "at": self.at.isoformat(timespec="seconds"),
                "policyChanges": self.policy_changes, "note": PROVISIONING_ONLY,
                "agree": self.count("agrees"), "differ": self.count("differs"),
                "skipped": self.count("skipped"),
                "results": [r.to_json() for r in self.results]}


def on_tenant(tenant: GraphTenant, profile: Profile, cert: Certification,
              metadata: Metadata | None) -> list[TenantResult]:
    """Provision the authenticator on a started tenant: under its current policy (left as it
    is), then — only when the tenant allows policy changes — under each provisioning
    configuration, each beside its in-process verdict. The caller closes the tenant, which
    puts its policy back."""
    sample = cert.sample
    planned: list[tuple[str, dict[str, Any] | None, Fido2Policy | str, Decision | None]] = [
        (CURRENT_POLICY, None, *_current(tenant.policy, sample, metadata, cert.book))]
    if tenant.allow_policy_changes:
        planned += [(v.configuration.name, v.configuration.policy_json(sample.aaguid),
                     v.configuration.policy(sample.aaguid), v.decision)
                    for v in cert.verdicts
                    if v.configuration.path is RegistrationPath.PROVISIONING]
    results = []
    for name, body, model, expected in planned:
        why = _unfit(tenant, profile, body, model, expected, sample)
        if why:
            results.append(TenantResult(name, expected, skipped=why))
            continue
        assert expected is not None  # _unfit skips a configuration without a verdict
        outcome = CTAP_CEREMONIES["graph"](tenant, profile, Setup(body, USER), variation=None)
        results.append(TenantResult.of(name, expected, outcome, tenant.request_ids(),
                                       tenant.case.policy_changed))
        tenant.end_case()
    return results


def _current(policy: dict[str, Any], sample: Sample, metadata: Metadata | None,
             book: RuleBook) -> tuple[Fido2Policy | str, Decision | None]:
    """The tenant's policy as the engine reads it (or why it does not read) and the in-process
    decision under it."""
    try:
        model = parse_policy(policy)
    except PolicyError as e:
        return f"the tenant's policy does not read as a fido2 policy: {e}", None
    if sample.registration is None:
        return model, None
    return model, decide(model, USER, RegistrationPath.PROVISIONING, sample.registration,
                         sample.ceremony, metadata=metadata, book=book)


def _unfit(tenant: GraphTenant, profile: Profile, body: dict[str, Any] | None,
           model: Fido2Policy | str, expected: Decision | None, sample: Sample) -> str:
    """Why this policy is not run on the tenant, or ""."""
    if isinstance(model, str):
        return model
    if expected is None:
        return f"the authenticator did not register in-process ({sample.refused})"
    if profile.attestation.vendor is not None and any(p.attestation_enforced
                                                      for p in model.profiles):
        return TEST_PKI_ATTESTED
    return (tenant.policy_unfit(body) or "") if body is not None else ""


# --- the report files -----------------------------------------------------------------------
_CSS = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse;width:100%;margin-bottom:2em}"
        "td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}"
        ".pass{color:#1a7f37;font-weight:bold}.fail{color:#cf222e;font-weight:bold}"
        ".skip{color:#555;font-weight:bold}"
        "small{color:#555}")


def _mark(ok: bool) -> str:
    return '<span class="pass">pass</span>' if ok else '<span class="fail">fail</span>'


def render_html(cert: Certification) -> str:
    """A single self-contained page a customer can read: no script, no external files."""
    e = html.escape
    checks = "".join(f"<tr><td>{_mark(c.passed)}</td><td>{e(c.title)}</td>"
                     f"<td>{e(c.evidence)}<br><small>{e(c.source)}</small></td></tr>"
                     for c in cert.checks)
    configs = "".join(f"<tr><td>{_mark(v.accepted)}</td><td>{e(v.configuration.name)}</td>"
                      f"<td>{e(v.summary)}</td></tr>" for v in cert.verdicts)
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>Entra certification: "
            f"{e(cert.sample.name)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{e(cert.sample.name)}</h1><p><strong>{e(cert.summary_line())}</strong></p>"
            f"<p>AAGUID {e(cert.sample.aaguid)} · {e(cert.sample.source)} · rule book as of "
            f"{cert.book.as_of.isoformat()} ({cert.book.cloud}) · pkconf {__version__}</p>"
            f"<h2>Microsoft's vendor requirements</h2><table><tr><th></th><th>requirement</th>"
            f"<th>evidence</th></tr>{checks}</table>"
            f"<h2>Tenant configurations (accepted / rejected)</h2><table><tr><th></th>"
            f"<th>configuration</th><th>decision</th></tr>{configs}</table>"
            f"{_tenant_html(cert.tenant) if cert.tenant else ''}</body></html>\n")


_VERDICT_CLASS = {"agrees": "pass", "differs": "fail", "skipped": "skip"}


def _tenant_html(section: TenantSection) -> str:
    """"On tenant <id>": each result beside the in-process verdict, with the request ids
    Microsoft support can trace."""
    e = html.escape
    rows = "".join(
        f'<tr><td><span class="{_VERDICT_CLASS[r.verdict]}">{r.verdict}</span></td>'
        f"<td>{e(r.configuration)}</td>"
        f"<td>{e(_expected_summary(r.expected))}</td><td>{e(r.observed_summary)}</td>"
        f"<td><small>{e(' '.join(r.request_ids))}</small></td></tr>" for r in section.results)
    changes = "policy changed per configuration, then restored" if section.policy_changes \
        else "policy read only"
    return (f"<h2>On tenant {e(section.tenant)}</h2><p>{e(section.summary_line())} · "
            f"{e(section.graph_url)} · {section.at.isoformat(timespec='seconds')} · "
            f"{changes} · {e(PROVISIONING_ONLY)}</p><table><tr><th></th><th>configuration</th>"
            f"<th>in-process</th><th>tenant</th><th>request ids</th></tr>{rows}</table>")


def _expected_summary(decision: Decision | None) -> str:
    if decision is None:
        return "not registered"
    return "accepted" if decision.accepted else f"rejected {decision.family} {decision.reason}"


def render_junit(cert: Certification) -> str:
    """One testcase per requirement and per configuration. A requirement fails when it does not
    hold; a configuration only when the authenticator never registered, since a rejection there
    can be the tenant working (a block-listed key) — its decision is the testcase's output."""
    suites = ET.Element("testsuites", name=f"pkconf certify {cert.sample.name}")
    for suite_name, cases in (
        ("requirements", [(c.id, c.passed, c.evidence) for c in cert.checks]),
        ("configurations", [(v.configuration.name, v.decision is not None, v.summary)
                            for v in cert.verdicts]),
    ):
        suite = ET.SubElement(suites, "testsuite", name=suite_name, tests=str(len(cases)),
                              failures=str(sum(not ok for _, ok, _ in cases)))
        for name, ok, text in cases:
            case = ET.SubElement(suite, "testcase", classname=f"{cert.sample.name}.{suite_name}",
                                 name=name)
            if ok:
                ET.SubElement(case, "system-out").text = text
            else:
                ET.SubElement(case, "failure", message=text[:200]).text = text
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_reports(cert: Certification, directory: Path) -> list[Path]:
    """certification.json, certification.html and junit.xml in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("certification.json", json.dumps(cert.to_json(), indent=2) + "\n"),
                       ("certification.html", render_html(cert)),
                       ("junit.xml", render_junit(cert))):
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written
