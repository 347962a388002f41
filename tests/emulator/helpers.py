"""A thin test client for the emulator: one call per Graph step, responses left to the test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fido2.utils import websafe_decode

from tests.tenant.builders import make_response

FIDO2_POLICY = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"


@dataclass
class Tenant:
    client: httpx.Client

    def user(self, upn: str = "adele@contoso.test", user_type: str = "Member") -> str:
        r = self.client.post("/v1.0/users", json={"userPrincipalName": upn,
                                                  "displayName": upn.split("@")[0],
                                                  "userType": user_type})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def group(self, name: str = "Passkey pilot") -> str:
        r = self.client.post("/v1.0/groups", json={"displayName": name})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def add_member(self, group_id: str, user_id: str) -> httpx.Response:
        ref = f"https://graph.microsoft.com/v1.0/directoryObjects/{user_id}"
        return self.client.post(f"/v1.0/groups/{group_id}/members/$ref", json={"@odata.id": ref})

    def patch_policy(self, **properties: Any) -> httpx.Response:
        return self.client.patch(FIDO2_POLICY, json=properties)

    def options(self, user_id: str | None = None, *, version: str = "v1.0", call: str =
                "creationOptions", token: str | None = None) -> httpx.Response:
        who = f"users/{user_id}" if user_id else "me"
        return self.client.get(f"/{version}/{who}/authentication/fido2Methods/{call}",
                               headers=_bearer(token))

    def challenge(self, user_id: str | None = None, *, token: str | None = None) -> bytes:
        r = self.options(user_id, token=token)
        assert r.status_code == 200, r.text
        return websafe_decode(r.json()["publicKey"]["challenge"])

    def register(self, user_id: str | None, credential: dict[str, Any], *,
                 token: str | None = None, display_name: str | None = None) -> httpx.Response:
        """POST fido2Methods for a user (provisioning) or for /me (self-service, with token)."""
        who = f"users/{user_id}" if user_id else "me"
        body: dict[str, Any] = {"publicKeyCredential": credential}
        if display_name:
            body["displayName"] = display_name
        return self.client.post(f"/v1.0/{who}/authentication/fido2Methods", json=body,
                                headers=_bearer(token))

    def provision(self, user_id: str, **response: Any) -> httpx.Response:
        """creationOptions then POST, with a response built for the issued challenge."""
        return self.register(user_id, make_response(challenge=self.challenge(user_id),
                                                    **response))

    def tap(self, user_id: str, **body: Any) -> httpx.Response:
        return self.client.post(f"/v1.0/users/{user_id}/authentication/temporaryAccessPassMethods",
                                json=body)

    def sign_in(self, user_id: str, method: str = "mfa", **extra: Any) -> httpx.Response:
        return self.client.post("/_emulator/signIn",
                                json={"userId": user_id, "method": method, **extra})

    def token(self, user_id: str, method: str = "mfa", **extra: Any) -> str:
        r = self.sign_in(user_id, method, **extra)
        assert r.status_code == 201, r.text
        return r.json()["token"]

    def advance(self, seconds: float) -> None:
        assert self.client.post("/_emulator/clock/advance",
                                json={"seconds": seconds}).status_code == 200


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The Graph error object of a refusal (asserting the envelope's shape on the way)."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert {"date", "request-id", "client-request-id"} <= set(error["innerError"])
    return error


def reason_of(response: httpx.Response) -> str:
    """Our reason code in a refused registration's inner error."""
    return error_of(response)["innerError"]["pkconfDecision"]["reason"]
