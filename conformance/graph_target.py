"""The cases on a real tenant (`--target graph`): which can run there, and what each recorded.

A tenant gives the suite what an app can ask of Graph: test users in groups, the policy (read,
or written when its owner allowed it), the provisioning API. A case that needs anything else —
a signed-in user's session, a guest, a moved clock, the browser, another day's rules, the
suite's test attestation CA trusted — is skipped with the reason. What Entra did in each case
that ran is one line of `observations.jsonl` (`docs/graph-target.md` §4).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pkconf.ceremonies.graph_client import (
    GraphClient,
    GraphError,
    GraphSettings,
    client_credential,
    graph_settings,
)
from pkconf.ceremonies.graph_target import METHOD_FIELDS, GraphTenant
from pkconf.ceremonies.result import CeremonyResult, TenantRefusal
from pkconf.inputs import UsageError
from pkconf.tenant.decision import UserContext
from pkconf.tenant.rules import Cloud, Reason, RuleBook

from .cases import Case
from .runner import actual

OBSERVATIONS = "observations.jsonl"
OBSERVATION_SCHEMA = 1
CONFIG_ENV = "PKCONF_CONFIG"
DEFAULT_CONFIG = Path("~/.config/pkconf/config.toml")
RUNS_ON_TENANT = "graph"  # provisioning: the one path an app's token can take
# Sign-in state the provisioning path does not consult (rules.PROVISIONING_NEEDS_USER_MFA): a
# test user who never signed in stands for these; anything else of a user a tenant can't be given.
SIGN_IN_STATE = ("mfa_age_seconds", "tap")
_PLAIN_MEMBER = UserContext()


@dataclass(frozen=True)
class GraphOptions:
    """The graph target's command-line options, checked."""

    settings: GraphSettings
    allow_policy_changes: bool
    restore_file: Path
    write_interval: float
    cloud: Cloud

    def tenant(self, client: GraphClient) -> GraphTenant:
        """The tenant these options reach, through `client`."""
        return GraphTenant(client, allow_policy_changes=self.allow_policy_changes,
                           restore_file=self.restore_file, write_interval=self.write_interval)


def owned_tenants(config: Path | None = None) -> set[str]:
    """The tenants the config file says are the user's own test tenants."""
    path = config or Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG).expanduser()
    if not path.exists():
        return set()
    try:
        owned = tomllib.loads(path.read_text()).get("owned_test_tenants", [])
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise UsageError(f"cannot read config {path}: {e}") from None
    if not isinstance(owned, list) or not all(isinstance(t, str) for t in owned):
        raise UsageError(f"{path}: owned_test_tenants must be a list of tenant ids")
    return {t.lower() for t in owned}


def graph_options(get: Callable[[str], Any], reports: Path, cloud: Cloud) -> GraphOptions:
    """Read --tenant, --client-id and the rest; a missing or contradictory one is a UsageError.
    `get` reads an option by its flag (pytest's getoption)."""
    try:
        settings = graph_settings(get)
    except GraphError as e:
        raise UsageError(str(e)) from None
    tenant = settings.tenant
    allow = bool(get("--allow-policy-changes"))
    if allow:
        confirmed = get("--i-own-this-test-tenant")
        if (confirmed or "").lower() != tenant.lower() and tenant.lower() not in owned_tenants():
            raise UsageError(f"--allow-policy-changes writes tenant {tenant}'s fido2 policy: "
                             f"confirm with --i-own-this-test-tenant {tenant} or list it in "
                             f"owned_test_tenants of ${CONFIG_ENV} ({DEFAULT_CONFIG})")
    try:
        client_credential(settings)  # none in the environment: say so before anything runs
    except GraphError as e:
        raise UsageError(str(e)) from None
    interval = float(get("--policy-write-interval"))
    if interval < 0:
        raise UsageError("--policy-write-interval must be zero or more seconds")
    restore = Path(get("--restore-file") or reports / f"tenant-restore-{tenant}.json")
    if allow and restore.exists():  # before anything runs: the tenant is not as it was
        raise UsageError(f"{restore} exists: an earlier run changed the policy and did not put "
                         f"it back; run `pkconf tenant restore {restore}` first")
    return GraphOptions(settings, allow, restore, interval, cloud)


def skip_reason(case: Case, tenant: GraphTenant, options: GraphOptions, today: date) -> str | None:
    """Why the case cannot run on the tenant, or None."""
    if case.ceremony != RUNS_ON_TENANT:
        return (f"{case.ceremony}: needs a signed-in user's session (Security info or /me), "
                "which an app's token cannot give; only provisioning runs on a tenant")
    user = case.user
    others = {k: v for k, v in vars(user).items() if k not in (*SIGN_IN_STATE, "groups",
                                                                "user_id")}
    if others != {k: v for k, v in vars(_PLAIN_MEMBER).items() if k in others}:
        differs = sorted(k for k in others if others[k] != getattr(_PLAIN_MEMBER, k))
        return (f"user '{case.user_name}' needs state a tenant cannot be given by API "
                f"({', '.join(differs)})")
    if case.variation == "expired-challenge":
        return "needs the tenant's clock moved past the challenge's expiry"
    if case.as_of not in (None, today):
        return f"pinned to {case.as_of}; a tenant decides as of today ({today})"
    if case.cloud not in (None, options.cloud):
        return f"pinned to the {case.cloud} cloud; the tenant is in {options.cloud}"
    if _needs_test_ca(case):
        return ("enforces attestation on a software authenticator whose statement chains to "
                "the suite's test CA, which Entra's FIDO metadata does not list")
    return tenant.policy_unfit(case.policy) if case.policy is not None else None


def _needs_test_ca(case: Case) -> bool:
    """An attested software credential under an enforcing profile: Entra checks the statement
    against the real FIDO MDS, where the suite's test roots are not."""
    profile = case.authenticator
    if profile.attestation.fmt == "none":
        return False
    profiles = (case.policy or {}).get("passkeyProfiles") or []
    return bool((case.policy or {}).get("isAttestationEnforced")) or any(
        isinstance(p, dict) and p.get("attestationEnforcement") not in (None, "disabled")
        for p in profiles)


def observation(case: Case, result: CeremonyResult, tenant: GraphTenant,
                book: RuleBook) -> dict[str, Any]:
    """What Entra did in the case, with what the suite expected and why (no secrets: the
    answer's fields are picked, never copied whole)."""
    answer = result.response or {}
    decision = result.decision
    error = answer.get("error") if isinstance(answer.get("error"), dict) else None
    inner = (error or {}).get("innerError") or {}
    expected = case.expect
    reason = expected.reason
    annotated = "@pkconf.decision" in answer or "pkconfDecision" in inner
    told = decision.to_json() if annotated and not isinstance(decision, TenantRefusal) else None
    profile = case.authenticator
    return {
        "schema": OBSERVATION_SCHEMA,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tenant": tenant.client.settings.tenant,
        "graphUrl": tenant.client.settings.graph_url,
        "case": case.case_id, "id": case.id, "profile": case.profile,
        "aaguid": profile.aaguid, "format": profile.attestation.fmt,
        "passkeyType": str(profile.passkey_type), "variation": case.variation,
        "policyChanged": tenant.case.policy_changed,
        "asOf": book.as_of.isoformat(), "cloud": str(book.cloud),
        "expected": expected.as_dict(),
        "source": {"fact": case.source.fact, "url": case.source.url,
                   "status": case.source.status},
        "rule": _rule(reason, book),
        "observed": {
            "status": result.status,
            "outcome": actual(result).outcome.value,
            "error": None if error is None else {
                "code": error.get("code"), "message": error.get("message"),
                "requestId": inner.get("request-id"), "date": inner.get("date")},
            "method": None if result.status != 201 else {
                key: answer.get(key) for key in METHOD_FIELDS},
            "decision": told,
        },
        "excludeCredentialsEncoding": tenant.case.encoding,
        "requestIds": tenant.request_ids(),
    }


def _rule(reason: Reason | str, book: RuleBook) -> dict[str, Any] | None:
    """The rule book's entry for the expected reason, as of the run's day (None for a client
    error's DOMException name, which is no rule of Entra's)."""
    if not isinstance(reason, Reason):
        return None
    try:
        applied = book.rule(reason)
    except LookupError:
        return None
    return {"reason": str(reason), "status": str(applied.status), "version": applied.version}


def write_observation(reports: Path, line: dict[str, Any]) -> None:
    with (reports / OBSERVATIONS).open("a") as f:
        f.write(json.dumps(line) + "\n")

