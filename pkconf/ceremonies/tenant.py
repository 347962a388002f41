"""The tenant's side of a ceremony: its Graph endpoints, over one HTTP connection.

The default target is the embedded emulator; the same calls (creationOptions, POST
fido2Methods) are what a real tenant's Graph answers. `scenario` is the emulator-only setup
call that lays out a case (policy, fresh groups, user, sign-in) in one round trip.
"""

from __future__ import annotations

import ssl
from typing import Any, Protocol

import httpx

from ..tenant.decision import Decision, DecisionFormatError, Outcome
from ..tenant.rules import Reason
from .result import TenantRefusal

GRAPH_METHODS = "authentication/fido2Methods"


class TenantError(RuntimeError):
    """The tenant answered something a ceremony cannot go on from (not a decision)."""


class Tenant(Protocol):
    """What a ceremony asks of a tenant: the emulator (`TenantApi`) or a real one through Graph
    (`graph_target.GraphTenant`)."""

    def scenario(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def creation_options(self, user_id: str | None,
                         token: str | None = None) -> dict[str, Any]: ...

    def register(self, user_id: str | None, body: dict[str, Any],
                 token: str | None = None) -> tuple[int, dict[str, Any]]: ...

    def advance_clock(self, seconds: float) -> None: ...

    def sign_in(self, user_id: str, method: str = "mfa", *, client: str | None = None) -> str: ...


class TenantApi:
    def __init__(self, base_url: str, *, version: str = "v1.0", timeout: float = 15.0,
                 verify: ssl.SSLContext | bool = True):
        """`verify`: the TLS trust for an HTTPS emulator (`TestTls().client_context()`)."""
        self.base_url = base_url.rstrip("/")
        self.version = version
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, verify=verify)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TenantApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _json(self, method: str, url: str, *, expect: int, **kwargs: Any) -> dict[str, Any]:
        response = self._http.request(method, url, **kwargs)
        if response.status_code != expect:
            raise TenantError(f"{method} {url} answered {response.status_code}: "
                              f"{response.text[:300]}")
        return response.json() if response.content else {}

    def scenario(self, body: dict[str, Any]) -> dict[str, Any]:
        """Emulator only: set the policy, create groups and a user, sign them in."""
        return self._json("POST", "/_emulator/scenarios", expect=201, json=body)

    def advance_clock(self, seconds: float) -> None:
        self._json("POST", "/_emulator/clock/advance", expect=200, json={"seconds": seconds})

    def sign_in(self, user_id: str, method: str = "mfa", *, client: str | None = None) -> str:
        """Emulator only: a session token; `client` "graph" for a Graph client's session."""
        body = {"userId": user_id, "method": method, **({"client": client} if client else {})}
        return self._json("POST", "/_emulator/signIn", expect=201, json=body)["token"]

    def _methods(self, user_id: str | None) -> str:
        who = "me" if user_id is None else f"users/{user_id}"
        return f"/{self.version}/{who}/{GRAPH_METHODS}"

    @staticmethod
    def _auth(token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    def creation_options(self, user_id: str | None, token: str | None = None) -> dict[str, Any]:
        """webauthnCredentialCreationOptions; `user_id` None means /me with the session token."""
        return self._json("GET", f"{self._methods(user_id)}/creationOptions", expect=200,
                          headers=self._auth(token))

    def register(self, user_id: str | None, body: dict[str, Any],
                 token: str | None = None) -> tuple[int, dict[str, Any]]:
        """POST fido2Methods: the HTTP status and the JSON answer, whatever they are."""
        response = self._http.post(self._methods(user_id), json=body, headers=self._auth(token))
        try:
            return response.status_code, response.json()
        except ValueError:
            raise TenantError(f"POST fido2Methods answered {response.status_code} without "
                              f"JSON: {response.text[:300]}") from None


def decision_of(status: int, answer: dict[str, Any]) -> Decision | TenantRefusal:
    """The decision inside the tenant's answer: the 201's annotation or the error's inner error.

    Without them (a real tenant's answer), a 201 is an acceptance whose facts are unknown and a
    Graph error envelope is a `TenantRefusal`: the outcome, with Graph's code and message.
    """
    if status == 201:
        if "@pkconf.decision" not in answer:
            return Decision(Outcome.ACCEPTED, Reason.ACCEPTED,
                            "the tenant created the passkey method (no decision annotation)")
        told = answer["@pkconf.decision"]
    else:
        error = answer.get("error")
        if not isinstance(error, dict) or not isinstance(error.get("code"), str):
            raise TenantError(f"the tenant answered {status} without a Graph error: "
                              f"{str(answer)[:300]}")
        inner = error.get("innerError")
        if not isinstance(inner, dict) or "pkconfDecision" not in inner:
            return TenantRefusal(status, error["code"], str(error.get("message", "")))
        told = inner["pkconfDecision"]
    try:
        decision = Decision.from_json(told)
    except DecisionFormatError as e:
        raise TenantError(f"the tenant answered {status} without a usable decision: "
                          f"{e}") from None
    if decision.accepted != (status == 201):
        raise TenantError(f"the tenant answered {status}, yet its decision says "
                          f"{decision.outcome}")
    return decision
