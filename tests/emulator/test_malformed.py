"""Hostile and broken input at every endpoint: always a typed 4xx Graph error, never a 500,
a traceback or an acceptance."""

from __future__ import annotations

import copy
from base64 import urlsafe_b64encode
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fido2.utils import websafe_decode, websafe_encode

from tests.tenant.builders import make_response

from .helpers import FIDO2_POLICY, Tenant, error_of

JSON_ENDPOINTS = [
    ("PATCH", FIDO2_POLICY),
    ("POST", "/v1.0/users"),
    ("POST", "/v1.0/groups"),
    ("POST", "/v1.0/groups/{group}/members/$ref"),
    ("POST", "/v1.0/users/{user}/authentication/fido2Methods"),
    ("POST", "/v1.0/me/authentication/fido2Methods"),
    ("POST", "/beta/users/{user}/authentication/fido2Methods"),
    ("POST", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods"),
    ("PUT", "/_emulator/clock"),
    ("POST", "/_emulator/clock/advance"),
    ("POST", "/_emulator/signIn"),
    ("POST", "/_emulator/users/{user}/credentials"),
]

BROKEN_BODIES = [
    ("empty", b"", 400),
    ("truncated-json", b'{"displayName": ', 400),
    ("array", b"[]", 400),
    ("string", b'"hello"', 400),
    ("null", b"null", 400),
    ("not-utf8", b'{"displayName": "\xff\xfe"}', 400),
    ("nan", b'{"seconds": NaN}', 400),
    ("trailing-bytes", b'{"displayName": "x"} {}', 400),
    ("deep-objects", b'{"a":' * 40 + b"1" + b"}" * 40, 400),
    ("deeper-than-python", b"[" * 60000, 400),
    ("oversized", b'{"displayName": "' + b"x" * (70 * 1024) + b'"}', 413),
]

FIELD_CASES = [
    # users
    ("POST", "/v1.0/users", {"displayName": "No UPN"}, 400),
    ("POST", "/v1.0/users", {"userPrincipalName": 5, "displayName": "x"}, 400),
    ("POST", "/v1.0/users", {"userPrincipalName": "a@b.test", "displayName": ""}, 400),
    ("POST", "/v1.0/users", {"userPrincipalName": "a@b.test", "displayName": "x",
                             "userType": "Admin"}, 400),
    ("POST", "/v1.0/users", {"userPrincipalName": "a@b.test", "displayName": "x",
                             "userType": True}, 400),
    # groups and memberships
    ("POST", "/v1.0/groups", {}, 400),
    ("POST", "/v1.0/groups", {"displayName": ["x"]}, 400),
    ("POST", "/v1.0/groups/{group}/members/$ref", {}, 400),
    ("POST", "/v1.0/groups/{group}/members/$ref", {"@odata.id": 5}, 400),
    ("POST", "/v1.0/groups/{group}/members/$ref", {"@odata.id": "not a reference"}, 400),
    ("POST", "/v1.0/groups/{group}/members/$ref",
     {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/nobody"}, 404),
    ("POST", "/v1.0/groups/nogroup/members/$ref",
     {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{user}"}, 404),
    # policy
    ("PATCH", FIDO2_POLICY, {"state": 1}, 400),
    ("PATCH", FIDO2_POLICY, {"isSelfServiceRegistrationAllowed": "yes"}, 400),
    ("PATCH", FIDO2_POLICY, {"passkeyProfiles": "deviceBound"}, 400),
    ("PATCH", FIDO2_POLICY, {"passkeyProfiles": [1]}, 400),
    ("PATCH", FIDO2_POLICY, {"includeTargets": [{"id": "all_users",
                                                 "allowedPasskeyProfiles": ["missing"]}]}, 400),
    ("PATCH", FIDO2_POLICY, {"excludeTargets": [{"id": f"group-{i:05}", "targetType": "group"}
                                                for i in range(600)]}, 400),
    # fido2Methods bodies
    ("POST", "/v1.0/users/{user}/authentication/fido2Methods", {}, 400),
    ("POST", "/v1.0/users/{user}/authentication/fido2Methods",
     {"publicKeyCredential": "eyJpZCI6IjEifQ"}, 400),
    ("POST", "/v1.0/users/{user}/authentication/fido2Methods", {"publicKeyCredential": {}}, 400),
    ("POST", "/v1.0/users/nobody/authentication/fido2Methods", {"publicKeyCredential": {}}, 404),
    # TAP
    ("POST", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods",
     {"lifetimeInMinutes": "60"}, 400),
    ("POST", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods",
     {"lifetimeInMinutes": True}, 400),
    ("POST", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods",
     {"lifetimeInMinutes": 60.5}, 400),
    ("POST", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods",
     {"lifetimeInMinutes": 10**30}, 400),
    ("POST", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods",
     {"isUsableOnce": "yes"}, 400),
    ("POST", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods",
     {"startDateTime": "tomorrow"}, 400),
    ("POST", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods",
     {"startDateTime": "2026-01-01T00:00:00"}, 400),
    ("POST", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods",
     {"startDateTime": "9999-12-31T23:59:59Z"}, 400),
    ("POST", "/v1.0/users/nobody/authentication/temporaryAccessPassMethods", {}, 404),
    # emulator controls
    ("PUT", "/_emulator/clock", {}, 400),
    ("PUT", "/_emulator/clock", {"now": 5}, 400),
    ("PUT", "/_emulator/clock", {"now": "yesterday"}, 400),
    ("PUT", "/_emulator/clock", {"now": "0001-01-01T00:00:00Z"}, 400),
    ("POST", "/_emulator/clock/advance", {}, 400),
    ("POST", "/_emulator/clock/advance", {"seconds": "5"}, 400),
    ("POST", "/_emulator/clock/advance", {"seconds": -1}, 400),
    ("POST", "/_emulator/clock/advance", {"seconds": True}, 400),
    ("POST", "/_emulator/clock/advance", {"seconds": 1e300}, 400),
    ("POST", "/_emulator/signIn", {}, 400),
    ("POST", "/_emulator/signIn", {"userId": 5, "method": "mfa"}, 400),
    ("POST", "/_emulator/signIn", {"userId": "nobody", "method": "mfa"}, 404),
    ("POST", "/_emulator/signIn", {"userId": "{user}", "method": "sms"}, 400),
    ("POST", "/_emulator/signIn", {"userId": "{user}", "method": "tap"}, 400),
    ("POST", "/_emulator/signIn", {"userId": "{user}", "method": "mfa", "at": "noon"}, 400),
    ("POST", "/_emulator/users/{user}/credentials", {}, 400),
    ("POST", "/_emulator/users/{user}/credentials", {"credentialId": "!!!"}, 400),
    ("POST", "/_emulator/users/{user}/credentials", {"credentialId": "AAAA",
                                                     "windowsHelloForBusiness": "yes"}, 400),
    ("POST", "/_emulator/users/{user}/credentials", {"credentialId": "AAAA",
                                                     "aaGuid": "yubikey"}, 400),
    ("POST", "/_emulator/users/nobody/credentials", {"credentialId": "AAAA"}, 404),
]

PATH_CASES = [
    ("GET", "/v1.0/users/nobody", 404),
    ("GET", "/v1.0/groups/nogroup", 404),
    ("GET", "/v1.0/users/nobody/authentication/fido2Methods", 404),
    ("GET", "/v1.0/users/nobody/authentication/fido2Methods/creationOptions", 404),
    ("GET", "/v1.0/users/{user}/authentication/fido2Methods/nomethod", 404),
    ("DELETE", "/v1.0/users/{user}/authentication/fido2Methods/nomethod", 404),
    ("DELETE", "/v1.0/groups/nogroup/members/{user}/$ref", 404),
    ("DELETE", "/v1.0/groups/{group}/members/nobody/$ref", 404),
    ("GET", "/v2.0/users/{user}", 404),
    ("GET", "/v1.0/nothing/here", 404),
    ("DELETE", "/v1.0/users", 405),
    ("PUT", FIDO2_POLICY, 405),
    ("POST", "/v1.0/users/{user}/authentication/fido2Methods/creationOptions", 405),
    ("GET", "/v1.0/me/authentication/fido2Methods", 401),
]


@pytest.fixture
def world(tenant: Tenant) -> dict[str, str]:
    user = tenant.user()
    return {"user": user, "group": tenant.group(), "token": tenant.token(user)}


def _send(tenant: Tenant, world: dict[str, str], method: str, path: str,
          content: bytes | Iterator[bytes] | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {world['token']}", "Content-Type": "application/json"}
    return tenant.client.request(method, path.format(**world), content=content, headers=headers)


def _fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.replace("{user}", world["user"])
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


def _assert_refused(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, r.text[:300]
    assert "Traceback" not in r.text
    error_of(r)


@pytest.mark.parametrize(("name", "body", "status"), BROKEN_BODIES,
                         ids=[b[0] for b in BROKEN_BODIES])
@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS, ids=[e[1] for e in JSON_ENDPOINTS])
def test_broken_body_is_a_clean_refusal(tenant: Tenant, world: dict[str, str], method: str,
                                        path: str, name: str, body: bytes, status: int) -> None:
    _assert_refused(_send(tenant, world, method, path, body), status)


def test_oversized_chunked_body_is_refused_as_too_large(tenant: Tenant,
                                                        world: dict[str, str]) -> None:
    chunks = (b"[" + b"0," * 1024 for _ in range(64))  # no Content-Length: chunked
    _assert_refused(_send(tenant, world, "POST", "/v1.0/users", chunks), 413)


@pytest.mark.parametrize(("method", "path", "body", "status"), FIELD_CASES,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(FIELD_CASES)])
def test_wrong_or_missing_field_is_a_clean_refusal(tenant: Tenant, world: dict[str, str],
                                                   method: str, path: str, body: dict[str, Any],
                                                   status: int) -> None:
    r = tenant.client.request(method, path.format(**world), json=_fill(body, world))
    _assert_refused(r, status)


@pytest.mark.parametrize(("method", "path", "status"), PATH_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in PATH_CASES])
def test_unknown_resource_or_method_is_a_clean_refusal(tenant: Tenant, method: str, path: str,
                                                       status: int,
                                                       world: dict[str, str]) -> None:
    _assert_refused(tenant.client.request(method, path.format(**world)), status)


@pytest.mark.parametrize("authorization", ["Bearer bogus", "Basic dXNlcjpwdw==", "Bearer", ""])
def test_me_without_a_valid_session_is_unauthenticated(tenant: Tenant,
                                                       authorization: str) -> None:
    r = tenant.client.get("/v1.0/me/authentication/fido2Methods/creationOptions",
                          headers={"Authorization": authorization})
    _assert_refused(r, 401)


def _att(credential: dict[str, Any], change: Callable[[bytes], bytes]) -> None:
    response = credential["response"]
    response["attestationObject"] = websafe_encode(
        change(websafe_decode(response["attestationObject"])))


def _set(*keys: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(credential: dict[str, Any]) -> None:
        target = credential
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return edit


def _drop(*keys: str) -> Callable[[dict[str, Any]], None]:
    def edit(credential: dict[str, Any]) -> None:
        target = credential
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]
    return edit


CREDENTIAL_DEFECTS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("id-not-base64url", _set("id", value="***")),
    ("id-empty", _set("id", value="")),
    ("id-number", _set("id", value=42)),
    ("rawId-differs", _set("rawId", value="AAAA")),
    ("type-not-public-key", _set("type", value="password")),
    ("response-missing", _drop("response")),
    ("response-string", _set("response", value="x")),
    ("clientDataJSON-missing", _drop("response", "clientDataJSON")),
    ("clientDataJSON-bad-base64", _set("response", "clientDataJSON", value="%%%")),
    ("clientDataJSON-not-json", _set("response", "clientDataJSON",
                                     value=urlsafe_b64encode(b"not json").decode())),
    ("clientDataJSON-array", _set("response", "clientDataJSON",
                                  value=urlsafe_b64encode(b"[1, 2]").decode())),
    ("attestationObject-missing", _drop("response", "attestationObject")),
    ("attestationObject-bad-base64", _set("response", "attestationObject", value="@@@@")),
    ("attestationObject-truncated", lambda c: _att(c, lambda b: b[:-20])),
    ("attestationObject-one-byte", lambda c: _att(c, lambda b: b[:1])),
    ("attestationObject-trailing-bytes", lambda c: _att(c, lambda b: b + b"\x00")),
    ("attestationObject-cbor-list", lambda c: _att(c, lambda b: b"\x83\x01\x02\x03")),
    ("attestationObject-random", lambda c: _att(c, lambda b: bytes(range(256)))),
    ("transports-not-list", _set("response", "transports", value="usb")),
    ("attachment-unknown", _set("authenticatorAttachment", value="roaming")),
    ("extensions-not-object", _set("clientExtensionResults", value=[1])),
]


@pytest.mark.parametrize(("name", "defect"), CREDENTIAL_DEFECTS,
                         ids=[d[0] for d in CREDENTIAL_DEFECTS])
@pytest.mark.parametrize("who", ["users/{user}", "me"])
def test_malformed_credential_is_a_bad_request_and_never_registered(
        tenant: Tenant, world: dict[str, str], who: str, name: str,
        defect: Callable[[dict[str, Any]], None]) -> None:
    credential = copy.deepcopy(make_response(challenge=tenant.challenge(world["user"])))
    defect(credential)
    path = f"/v1.0/{who}/authentication/fido2Methods"
    r = tenant.client.post(path.format(**world), json={"publicKeyCredential": credential},
                           headers={"Authorization": f"Bearer {world['token']}"})
    _assert_refused(r, 400)
    assert "publicKeyCredential" in error_of(r)["message"]
    methods = tenant.client.get(f"/v1.0/users/{world['user']}/authentication/fido2Methods")
    assert methods.json()["value"] == []


def test_display_name_of_the_wrong_type_is_refused(tenant: Tenant,
                                                   world: dict[str, str]) -> None:
    credential = make_response(challenge=tenant.challenge(world["user"]))
    r = tenant.client.post(f"/v1.0/users/{world['user']}/authentication/fido2Methods",
                           json={"displayName": 7, "publicKeyCredential": credential})
    _assert_refused(r, 400)
