"""A real tenant as the ceremonies' tenant: cases laid out with Graph directory calls.

`GraphTenant` answers the calls a ceremony makes of a tenant (`scenario`, `creation_options`,
`register`) with an app's Graph calls only (`docs/graph-target.md`): test users and groups under
the run's prefix, the case's policy read — or, only when the owner allowed it, written after the
original was saved to a restore file — and the provisioning API. Everything it creates it
deletes: each case's passkeys and user as the case ends, the groups and the policy at the end.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..tenant.policy import ALL_USERS, Fido2Policy, PolicyError, parse_policy
from ..tenant.rules import MAX_POLICY_BYTES
from .graph_client import GraphClient, GraphError, GraphSettings
from .tenant import TenantError

FIDO2_POLICY = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
METHODS = "authentication/fido2Methods"
PREFIX = "pkconf-"  # every object the suite creates starts with it; `pkconf tenant cleanup`
RESTORE_SCHEMA = 1
SETTLE_SECONDS = 20.0  # Graph replicates a new user or group within seconds (404s until then)
# The created fido2AuthenticationMethod's fields worth keeping (entra-facts §7.2)
METHOD_FIELDS = ("id", "aaGuid", "model", "attestationLevel", "passkeyType", "createdDateTime")
ENCODINGS = ("base64url", "base64", "base64url-padding-digit")


class RestoreFileExists(TenantError):
    """An earlier run changed the policy and did not put it back."""


# --- excludeCredentials ids in the encodings tenants are seen to use -----------------------------

def _b64(text: str, alphabet: bytes) -> bytes | None:
    """Strict base64: canonical (re-encodes to the same text), else None."""
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=alphabet, validate=True)
    except (binascii.Error, ValueError):
        return None
    encoded = base64.b64encode(raw, altchars=alphabet).decode()
    return raw if encoded.rstrip("=") == text.rstrip("=") else None


def decode_credential_id(text: str, known: frozenset[bytes] = frozenset()) -> tuple[bytes, str]:
    """A credential id and the encoding it came in: base64url without padding (documented),
    standard base64 with padding, or base64url with a trailing digit counting the padding that
    was removed (.NET `UrlTokenEncode`). Where two readings are valid, the one naming a known
    credential wins, else the documented one."""
    readings: list[tuple[bytes, str]] = []
    if "=" in text or "+" in text or "/" in text:
        if (raw := _b64(text, b"+/")) is not None and len(text) % 4 == 0:
            readings.append((raw, "base64"))
    else:
        if len(text) % 4 != 1 and (raw := _b64(text, b"-_")) is not None:
            readings.append((raw, "base64url"))
        body, digit = text[:-1], text[-1:]
        if digit in ("0", "1", "2") and (-len(body) % 4) == int(digit) % 4 and (
                raw := _b64(body, b"-_")) is not None:
            readings.append((raw, "base64url-padding-digit"))
    if not readings:
        raise TenantError(f"excludeCredentials id {text[:40]!r} is in no known encoding")
    return next((r for r in readings if r[0] in known), readings[0])


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --- the policy ----------------------------------------------------------------------------------

def policy_model(policy: Any) -> Fido2Policy | None:
    """What the policy means, for comparing two (warnings aside); None if it does not read."""
    try:
        return replace(parse_policy(policy), warnings=())
    except PolicyError:
        return None


def retarget(policy: Mapping[str, Any], groups: dict[str, str]) -> dict[str, Any]:
    """The policy with group names replaced by the tenant's group ids."""
    out = dict(policy)
    for key in ("includeTargets", "excludeTargets"):
        if isinstance(policy.get(key), list):
            out[key] = [{**t, "id": groups.get(t["id"], t["id"])}
                        if isinstance(t, dict) and isinstance(t.get("id"), str) else t
                        for t in policy[key]]
    return out


def target_names(policy: Mapping[str, Any]) -> set[str]:
    return {t["id"] for key in ("includeTargets", "excludeTargets")
            for t in policy.get(key) or [] if isinstance(t, dict)
            and isinstance(t.get("id"), str) and t["id"] != ALL_USERS}


def writable(policy: dict[str, Any]) -> dict[str, Any]:
    """A GET answer as a PATCH body: its annotations other than @odata.type removed."""
    return {k: v for k, v in policy.items() if not k.startswith("@") or k == "@odata.type"}


@dataclass(frozen=True)
class RestoreFile:
    """The policy as it was before the suite's first write, and where it came from."""

    path: Path

    def save(self, settings: GraphSettings, policy: dict[str, Any]) -> None:
        """Written whole and synced before the first PATCH is sent, with where it came from
        (never a secret), so `pkconf tenant restore FILE` needs only the credential."""
        body = {"schema": RESTORE_SCHEMA, "tenant": settings.tenant,
                "clientId": settings.client_id, "graphUrl": settings.graph_url,
                "authority": settings.authority,
                "caFile": str(settings.ca_file) if settings.ca_file else None,
                "savedAt": datetime.now(UTC).isoformat(timespec="seconds"),
                "policy": writable(policy)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w") as f:
            json.dump(body, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.path)

    def read(self) -> dict[str, Any]:
        try:
            body = json.loads(self.path.read_text())
        except OSError as e:
            raise TenantError(f"cannot read restore file {self.path}: {e.strerror or e}") from None
        except ValueError:
            raise TenantError(f"restore file {self.path} is not JSON") from None
        if (not isinstance(body, dict) or body.get("schema") != RESTORE_SCHEMA
                or not isinstance(body.get("policy"), dict)
                or not isinstance(body.get("tenant"), str)):
            raise TenantError(f"{self.path} is not a pkconf restore file")
        return body

    def settings(self) -> GraphSettings:
        """Where the saved policy came from, as the file says."""
        body = self.read()
        try:
            return GraphSettings(tenant=body["tenant"], client_id=body["clientId"],
                                 graph_url=body["graphUrl"], authority=body.get("authority"),
                                 ca_file=Path(body["caFile"]) if body.get("caFile") else None)
        except (KeyError, TypeError):
            raise TenantError(f"{self.path} does not say which tenant and app it came "
                              "from") from None


def restore_policy(client: GraphClient, restore: RestoreFile) -> str:
    """PATCH the saved policy back, check the tenant reads it back the same, then remove the
    file. Returns what was done, for the log."""
    saved = restore.read()
    if saved["tenant"] != client.settings.tenant:
        raise TenantError(f"{restore.path} belongs to tenant {saved['tenant']}, not "
                          f"{client.settings.tenant}")
    current = client.json("GET", FIDO2_POLICY)
    if policy_model(current) != policy_model(saved["policy"]):
        client.request("PATCH", FIDO2_POLICY, json=saved["policy"], expect=(204, 200))
        if policy_model(client.json("GET", FIDO2_POLICY)) != policy_model(saved["policy"]):
            raise TenantError("the tenant's policy still differs from the saved one after the "
                              f"PATCH; {restore.path} is kept")
        done = f"policy restored from {restore.path} (saved {saved.get('savedAt')})"
    else:
        done = f"policy already as saved in {restore.path}"
    restore.path.unlink()
    return done


# --- the tenant ----------------------------------------------------------------------------------

@dataclass
class CaseRecord:
    """What the tenant did in the current case, for its observation."""

    user_id: str | None = None
    method_ids: list[str] = field(default_factory=list)
    credential_ids: list[bytes] = field(default_factory=list)  # of its accepted registrations
    encoding: str | None = None  # of excludeCredentials, when it had ids
    first_exchange: int = 0  # index into the client's exchanges
    policy_changed: bool = False


class GraphTenant:
    """A tenant reached through Graph, with an app's token, answering a ceremony's calls."""

    def __init__(self, client: GraphClient, *, allow_policy_changes: bool = False,
                 restore_file: Path | None = None, write_interval: float = 2.0,
                 run_id: str | None = None) -> None:
        if allow_policy_changes and restore_file is None:
            raise ValueError("policy changes need a restore file")
        self.client = client
        self.allow_policy_changes = allow_policy_changes
        self.restore = RestoreFile(restore_file) if restore_file else None
        self.write_interval = write_interval
        self.prefix = f"{PREFIX}{run_id or secrets.token_hex(3)}-"
        self.case = CaseRecord()
        self._groups: dict[str, str] = {}  # name in the cases -> the tenant's group id
        self._created_groups: list[str] = []
        self._saved = False
        self._last_write = 0.0
        self._domain: str | None = None
        self._original: dict[str, Any] | None = None
        self._current: Fido2Policy | None = None
        self._n = 0
        self._run_group: str | None = None  # every test user of the run is in it

    # --- the run ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Read the tenant: its policy (kept as it is) and the domain for test users."""
        if self.restore and self.restore.path.exists():
            raise RestoreFileExists(
                f"{self.restore.path} exists: an earlier run changed the policy and did not "
                f"restore it; run `pkconf tenant restore {self.restore.path}` first")
        self._original = self.client.json("GET", FIDO2_POLICY)
        self._current = policy_model(self._original)
        domains = list(self.client.pages("/domains"))
        default = next((d for d in domains if d.get("isDefault")), None)
        if default is None or not isinstance(default.get("id"), str):
            raise TenantError("GET /domains named no default domain for test users")
        self._domain = default["id"]
        self._run_group = self._create_group("users")

    def _create_group(self, name: str) -> str:
        created = self.client.json("POST", "/groups", expect=(201,), json={
            "displayName": f"{self.prefix}{name}", "mailEnabled": False, "securityEnabled": True,
            "mailNickname": f"{self.prefix}{secrets.token_hex(4)}",
            "description": "pkconf conformance run; deleted when the run ends"})
        self._created_groups.append(created["id"])
        return str(created["id"])

    @property
    def policy(self) -> dict[str, Any]:
        assert self._original is not None, "start() first"
        return self._original

    def close(self) -> list[str]:
        """Delete what the run created and put the policy back; what was done, for the log."""
        done: list[str] = []
        self.end_case()
        for group_id in self._created_groups:
            self.client.request("DELETE", f"/groups/{group_id}", expect=(204, 404))
        if self._created_groups:
            done.append(f"deleted {len(self._created_groups)} test groups")
        self._created_groups.clear()
        if self._saved and self.restore is not None:
            done.append(restore_policy(self.client, self.restore))
            self._saved = False
        return done

    # --- what can run ----------------------------------------------------------------------------
    def policy_unfit(self, policy: Mapping[str, Any]) -> str | None:
        """Why this case's policy cannot be had on the tenant, or None."""
        names = target_names(policy)
        if self.allow_policy_changes:
            size = len(json.dumps(policy, separators=(",", ":")).encode())
            if size > MAX_POLICY_BYTES:
                return f"its policy is {size} bytes, over Graph's 20 KB limit (entra-facts §2)"
            model = policy_model(policy)
            if model is None:
                return "the case's policy does not read as a fido2 policy"
            if self._current is not None and not self._current.legacy and model.legacy:
                return ("the tenant is on passkey profiles, which cannot be turned off: a "
                        "legacy-form policy cannot be applied (entra-facts §2)")
            if self._current is not None and self._current.legacy and not model.legacy:
                return ("applying it would move the tenant onto passkey profiles, which "
                        "cannot be undone (entra-facts §2)")
            return None
        missing = sorted(n for n in names if self._find_group(n) is None)
        if missing:
            return (f"the policy targets groups the tenant does not have ({', '.join(missing)});"
                    " --allow-policy-changes creates them")
        if policy_model(retarget(policy, self._groups)) != self._current:
            return "its policy differs from the tenant's (read-only; --allow-policy-changes)"
        return None

    def _find_group(self, name: str) -> str | None:
        if name not in self._groups:
            escaped = name.replace("'", "''")  # OData's quote; startswith is what every
            found = [g for g in self.client.pages(  # tenant and the emulator filter on
                "/groups", {"$filter": f"startswith(displayName,'{escaped}')",
                            "$select": "id,displayName"}) if g.get("displayName") == name]
            if len(found) != 1:
                return None
            self._groups[name] = found[0]["id"]
        return self._groups[name]

    def _group(self, name: str) -> str:
        """The group the cases call `name`: the run's own (changes allowed) or the tenant's."""
        if name in self._groups:
            return self._groups[name]
        if not self.allow_policy_changes:
            found = self._find_group(name)
            if found is None:
                raise TenantError(f"the tenant has no group {name!r}")
            return found
        self._groups[name] = self._create_group(name)
        return self._groups[name]

    # --- the ceremony's calls --------------------------------------------------------------------
    def scenario(self, body: dict[str, Any]) -> dict[str, Any]:
        """The case laid out through Graph: its policy in force, a fresh test user in its
        groups. The user's sign-in state is not the tenant's to give: only provisioning runs."""
        self.end_case()
        self.case = CaseRecord(first_exchange=len(self.client.exchanges))
        groups = {name: self._group(name) for name in body.get("groups") or ()}
        policy = body.get("policy")
        if policy is not None:
            self._apply(retarget(policy, groups))
        self._n += 1
        user = self.client.json("POST", "/users", expect=(201,), json={
            "accountEnabled": False,  # no one signs in as a test user
            "displayName": f"{self.prefix}user {self._n}",
            "mailNickname": f"{self.prefix}{self._n}",
            "userPrincipalName": f"{self.prefix}{self._n}@{self._domain}",
            "passwordProfile": {"forceChangePasswordNextSignIn": True,
                                "password": secrets.token_urlsafe(24) + "!aA1"}})
        self.case.user_id = user["id"]
        run_group = [self._run_group] if self._run_group else []
        for group_id in [*run_group, *(groups[n] for n in (body.get("user") or {}).get("groups")
                                       or ())]:
            self.client.request("POST", f"/groups/{group_id}/members/$ref", expect=(204,),
                                json={"@odata.id": f"{self.client.settings.graph_url}/v1.0/"
                                                   f"directoryObjects/{user['id']}"},
                                settle_seconds=SETTLE_SECONDS)
        return {"userId": user["id"]}

    def _apply(self, policy: dict[str, Any]) -> None:
        model = policy_model(policy)
        if model == self._current:
            return
        if not self.allow_policy_changes:
            raise TenantError("the case's policy differs from the tenant's and policy changes "
                              "are not allowed")
        assert self.restore is not None and self._original is not None
        if not self._saved:
            self.restore.save(self.client.settings, self._original)
            self._saved = True
        wait = self._last_write + self.write_interval - time.monotonic()
        if wait > 0:  # Graph throttles policy writes: space them
            self.client.sleep(wait)
        # PATCH keeps what a body leaves out: clear what the tenant has and the case does not
        # (e.g. a defaultPasskeyProfile naming another case's profile) [INFERRED: null clears]
        held = writable(self.client.json("GET", FIDO2_POLICY))
        body = {**{k: None for k in held if k not in policy and k not in ("id", "@odata.type")},
                **policy}
        self.client.request("PATCH", FIDO2_POLICY, json=body, expect=(204, 200))
        self._last_write = time.monotonic()
        self._current = model
        self.case.policy_changed = True

    def _methods(self, user_id: str | None) -> str:
        if user_id is None:
            raise TenantError("an app's token cannot act as the user (/me)")
        return f"/users/{user_id}/{METHODS}"

    def creation_options(self, user_id: str | None, token: str | None = None) -> dict[str, Any]:
        """creationOptions with excludeCredentials ids made base64url, their encoding kept."""
        options = self.client.json("GET", f"{self._methods(user_id)}/creationOptions",
                                   settle_seconds=SETTLE_SECONDS)
        public_key = options.get("publicKey")
        if not isinstance(public_key, dict):
            raise TenantError("creationOptions answered without publicKey")
        excluded = public_key.get("excludeCredentials") or []
        if excluded:
            known = frozenset(self.case.credential_ids)
            decoded = [(d, decode_credential_id(d["id"], known)) for d in excluded
                       if isinstance(d, dict) and isinstance(d.get("id"), str)]
            self.case.encoding = ",".join(sorted({enc for _, (_, enc) in decoded}))
            public_key = {**public_key, "excludeCredentials": [
                {**d, "id": b64url(raw)} for d, (raw, _) in decoded]}
            options = {**options, "publicKey": public_key}
        return options

    def register(self, user_id: str | None, body: dict[str, Any],
                 token: str | None = None) -> tuple[int, dict[str, Any]]:
        """POST fido2Methods, whatever the answer: a 201 or the tenant's refusal."""
        try:
            response = self.client.request("POST", self._methods(user_id), json=body,
                                           expect=(201, 400, 403, 409, 422),
                                           settle_seconds=SETTLE_SECONDS)
        except GraphError as e:
            raise TenantError(str(e)) from None
        try:
            answer = response.json()
        except ValueError:
            raise TenantError(f"POST fido2Methods answered {response.status_code} without "
                              "JSON") from None
        if response.status_code == 201 and isinstance(answer.get("id"), str):
            self.case.method_ids.append(answer["id"])
            credential_id = _b64(str(body["publicKeyCredential"].get("id", "")), b"-_")
            if credential_id is not None:
                self.case.credential_ids.append(credential_id)
        return response.status_code, answer

    def advance_clock(self, seconds: float) -> None:
        raise TenantError("a tenant's clock cannot be moved")

    def sign_in(self, user_id: str, method: str = "mfa", *, client: str | None = None) -> str:
        raise TenantError("the suite cannot sign a test user in to a tenant")

    def end_case(self) -> None:
        """Delete the case's passkeys, then its user."""
        user_id = self.case.user_id
        if user_id is None:
            return
        for method_id in self.case.method_ids:
            self.client.request("DELETE", f"/users/{user_id}/{METHODS}/{method_id}",
                                expect=(204, 404))
        self.client.request("DELETE", f"/users/{user_id}", expect=(204, 404))
        self.case = CaseRecord(first_exchange=len(self.client.exchanges))

    def request_ids(self) -> list[str]:
        """The request ids of the current case's Graph calls, for the observation."""
        return [e.request_id for e in self.client.exchanges[self.case.first_exchange:]
                if e.request_id]
