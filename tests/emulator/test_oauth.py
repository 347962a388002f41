"""The tenant's token service (client credentials, as msal speaks it) and Graph's app-only
authorization: a token and the permission a call needs, once an application is registered."""

from __future__ import annotations

import hashlib
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import msal
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from pkconf.emulator.oauth import (
    DEFAULT_TENANT_ID,
    GRAPH_ROLES,
    GRAPH_SCOPE,
    ROLE_AUTH_METHODS,
    ROLE_DOMAINS,
    ROLE_GROUPS,
    ROLE_POLICY_READ,
    ROLE_POLICY_WRITE,
    ROLE_USERS,
    TOKEN_LIFETIME_SECONDS,
)
from pkconf.emulator.server import EmulatorServer

from .helpers import FIDO2_POLICY, Tenant, error_of

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "s3cret~value-for-tests"  # a test secret
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _certificate(cn: str = "pkconf test app") -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return key, cert


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


KEY, CERT = _certificate()
OTHER_KEY, _ = _certificate("another app")
EC_KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def client(tls_emulator: EmulatorServer, tls_ca_file: Path) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tls_emulator.base_url, timeout=10,
                      verify=ssl.create_default_context(cafile=tls_ca_file)) as client:
        yield client


@pytest.fixture
def app(client: httpx.Client) -> Iterator[dict[str, Any]]:
    """The suite's application, registered with a secret and a certificate."""
    r = client.post("/_emulator/applications", json={
        "clientId": CLIENT_ID, "secret": SECRET, "certificate": _cert_pem(CERT)})
    assert r.status_code == 201, r.text
    yield r.json()
    assert client.delete("/_emulator/applications").status_code == 204


def _msal(tls_emulator: EmulatorServer, tls_ca_file: Path,
          credential: str | dict[str, Any]) -> msal.ConfidentialClientApplication:
    session = requests.Session()
    session.verify, session.trust_env = str(tls_ca_file), False
    return msal.ConfidentialClientApplication(
        CLIENT_ID, client_credential=credential, authority=tls_emulator.authority,
        instance_discovery=False, validate_authority=False, http_client=session)


def _pfx(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "app.pfx"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"app", KEY, CERT, None, serialization.NoEncryption()))
    return {"private_key_pfx_path": str(path)}


def _token(client: httpx.Client, **form: str) -> httpx.Response:
    fields = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "scope": GRAPH_SCOPE,
              **form}
    return client.post(f"/{DEFAULT_TENANT_ID}/oauth2/v2.0/token",
                       data={k: v for k, v in fields.items() if v})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the token service ---------------------------------------------------------------------------

@pytest.mark.parametrize("credential", ["secret", "certificate (x5t, RS256)",
                                        "pfx (x5t#S256, PS256)"])
def test_msal_gets_a_graph_token_that_graph_accepts(
        tls_emulator: EmulatorServer, tls_ca_file: Path, client: httpx.Client, app: dict[str, Any],
        tmp_path: Path, credential: str) -> None:
    chosen: str | dict[str, Any] = {
        "secret": SECRET,
        "certificate (x5t, RS256)": {"private_key": _pem(KEY),
                                     "thumbprint": CERT.fingerprint(hashes.SHA1()).hex()},
    }.get(credential) or _pfx(tmp_path)
    result = _msal(tls_emulator, tls_ca_file, chosen).acquire_token_for_client([GRAPH_SCOPE])
    assert "access_token" in result, result
    assert (result["token_type"], result["expires_in"]) == ("Bearer", TOKEN_LIFETIME_SECONDS)
    assert client.get("/v1.0/domains", headers=_bearer(result["access_token"])).status_code == 200


def test_discovery_document_names_the_tenants_endpoints(tls_emulator: EmulatorServer,
                                                        client: httpx.Client) -> None:
    doc = client.get(f"/{DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration").json()
    assert doc["token_endpoint"] == f"{tls_emulator.authority}/oauth2/v2.0/token"
    assert doc["authorization_endpoint"] == f"{tls_emulator.authority}/oauth2/v2.0/authorize"
    assert doc["issuer"] == f"{tls_emulator.authority}/v2.0"


@pytest.mark.parametrize(("form", "status", "error", "code"), [
    ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
    ({"client_secret": SECRET, "client_id": "00000000-0000-0000-0000-00000000dead"}, 400,
     "unauthorized_client", 700016),
    ({"client_secret": SECRET, "grant_type": "password"}, 400, "unsupported_grant_type", 70003),
    ({"client_secret": SECRET, "scope": "https://graph.microsoft.com/User.Read"}, 400,
     "invalid_scope", 1002012),
    ({"client_secret": SECRET, "scope": "https://vault.azure.net/.default"}, 400,
     "invalid_scope", 500011),
    ({}, 401, "invalid_client", 7000216),
    ({"client_secret": SECRET, "scope": ""}, 400, "invalid_request", 900144),
])
def test_token_request_is_refused_as_azure_ad_refuses_it(
        client: httpx.Client, app: dict[str, Any], form: dict[str, str], status: int,
        error: str, code: int) -> None:
    r = _token(client, **form)
    assert r.status_code == status
    body = r.json()
    assert (body["error"], body["error_codes"]) == (error, [code])
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert "access_token" not in body


@pytest.mark.parametrize("path", ["/oauth2/v2.0/token", "/v2.0/.well-known/openid-configuration"])
def test_unknown_tenant_is_aadsts90002(client: httpx.Client, app: dict[str, Any],
                                       path: str) -> None:
    tenant = "00000000-0000-0000-0000-0000000000aa"
    r = (client.post(f"/{tenant}{path}", data={"grant_type": "client_credentials"})
         if "token" in path else client.get(f"/{tenant}{path}"))
    assert r.status_code == 400
    assert r.json()["error_codes"] == [90002]


def _assertion(client: httpx.Client, *, key: rsa.RSAPrivateKey = KEY,
               cert: x509.Certificate = CERT, **claims: Any) -> str:
    now = int(time.time())
    body = {"aud": f"{str(client.base_url).rstrip('/')}/{DEFAULT_TENANT_ID}/oauth2/v2.0/token",
            "iss": CLIENT_ID, "sub": CLIENT_ID, "jti": "1", "nbf": now, "exp": now + 600,
            **claims}
    thumbprint = jwt.utils.base64url_encode(cert.fingerprint(hashes.SHA1())).decode()
    return jwt.encode(body, key, algorithm="RS256", headers={"x5t": thumbprint})


@pytest.mark.parametrize(("assertion", "code"), [
    ({"aud": "https://login.microsoftonline.com/other/oauth2/v2.0/token"}, 700212),
    ({"exp": int(time.time()) - 3600, "nbf": int(time.time()) - 7200}, 700024),
    ({"nbf": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, 700024),
    ({"iss": "someone-else"}, 700021),
    ({"sub": "someone-else"}, 700021),
    ({"key": OTHER_KEY}, 700027),  # the registered certificate's thumbprint, another key
    ({"cert": _certificate("unregistered")[1]}, 700027),
])
def test_client_assertion_must_be_signed_by_the_app_for_this_endpoint_and_time(
        client: httpx.Client, app: dict[str, Any], assertion: dict[str, Any],
        code: int) -> None:
    r = _token(client, client_assertion_type=ASSERTION_TYPE,
               client_assertion=_assertion(client, **assertion))
    assert (r.status_code, r.json()["error"], r.json()["error_codes"]) == (
        401, "invalid_client", [code])


def test_a_valid_client_assertion_gets_a_token(client: httpx.Client,
                                               app: dict[str, Any]) -> None:
    r = _token(client, client_assertion_type=ASSERTION_TYPE,
               client_assertion=_assertion(client))
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer"


def test_registration_answers_without_the_secret(app: dict[str, Any]) -> None:
    assert app["secret"] is True
    assert SECRET not in str(app)
    assert app["roles"] == sorted(GRAPH_ROLES)
    assert app["certificates"] == [
        jwt.utils.base64url_encode(CERT.fingerprint(hashes.SHA1())).decode()]


@pytest.mark.parametrize("body", [
    {"clientId": "x"},
    {"clientId": "x", "secret": "s", "roles": ["Mail.Send"]},
    {"clientId": "x", "certificate": "not a pem"},
    {"clientId": "x", "certificate": _cert_pem(x509.CertificateBuilder()
                                               .subject_name(CERT.subject)
                                               .issuer_name(CERT.subject)
                                               .public_key(EC_KEY.public_key())
                                               .serial_number(1)
                                               .not_valid_before(CERT.not_valid_before_utc)
                                               .not_valid_after(CERT.not_valid_after_utc)
                                               .sign(EC_KEY, hashes.SHA256()))},
])
def test_application_registration_refuses_what_it_cannot_use(client: httpx.Client,
                                                              body: dict[str, Any]) -> None:
    r = client.post("/_emulator/applications", json=body)
    assert r.status_code == 400
    assert error_of(r)["code"] == "invalidRequest"


# --- Graph behind the token ----------------------------------------------------------------------

def _app_token(client: httpx.Client, roles: list[str] | None = None) -> str:
    client_id = hashlib.sha256(str(roles).encode()).hexdigest()[:12]
    r = client.post("/_emulator/applications",
                    json={"clientId": client_id, "secret": SECRET, "roles": roles})
    assert r.status_code == 201, r.text
    r = _token(client, client_id=client_id, client_secret=SECRET)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@pytest.mark.parametrize(("headers", "message"), [
    ({}, "Access token is empty."),
    ({"Authorization": "Bearer not-a-token"}, "Access token validation failure"),
])
def test_graph_admin_call_without_a_valid_token_is_401(client: httpx.Client,
                                                       app: dict[str, Any],
                                                       headers: dict[str, str],
                                                       message: str) -> None:
    r = client.get("/v1.0/domains", headers=headers)
    assert r.status_code == 401
    error = error_of(r)
    assert error["code"] == "InvalidAuthenticationToken"
    assert error["message"].startswith(message)


def test_an_expired_token_is_401(tls_emulator: EmulatorServer, client: httpx.Client,
                                 app: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    token = _app_token(client)
    later = time.time() + TOKEN_LIFETIME_SECONDS + 1
    monkeypatch.setattr(tls_emulator.identity, "clock", lambda: later)
    r = client.get("/v1.0/domains", headers=_bearer(token))
    assert (r.status_code, error_of(r)["code"]) == (401, "InvalidAuthenticationToken")
    assert "expired" in error_of(r)["message"]


USER = "/v1.0/users/{user}"
CALLS = [  # (method, path, a role that allows it)
    ("GET", "/v1.0/domains", ROLE_DOMAINS),
    ("GET", "/v1.0/users", ROLE_USERS),
    ("GET", USER, ROLE_USERS),
    ("GET", "/v1.0/groups", ROLE_GROUPS),
    ("GET", FIDO2_POLICY, ROLE_POLICY_READ),
    ("GET", FIDO2_POLICY, ROLE_POLICY_WRITE),
    ("PATCH", FIDO2_POLICY, ROLE_POLICY_WRITE),
    ("GET", f"{USER}/authentication/fido2Methods", ROLE_AUTH_METHODS),
    ("GET", f"{USER}/authentication/fido2Methods/creationOptions", ROLE_AUTH_METHODS),
]


@pytest.mark.parametrize(("method", "path", "role"), CALLS)
def test_graph_admin_call_needs_its_permission(tenant: Tenant, client: httpx.Client,
                                               app: dict[str, Any], method: str, path: str,
                                               role: str) -> None:
    admin = _app_token(client)
    user = client.post("/v1.0/users", headers=_bearer(admin), json={
        "userPrincipalName": "p@contoso.test", "displayName": "p"}).json()["id"]
    url = path.format(user=user)
    body = {"state": "enabled"} if method == "PATCH" else None
    others = [r for r in GRAPH_ROLES if r != role and not (
        {r, role} == {ROLE_POLICY_READ, ROLE_POLICY_WRITE} and method == "GET")]
    denied = client.request(method, url, json=body, headers=_bearer(_app_token(client, others)))
    assert denied.status_code == 403, denied.text
    assert error_of(denied) | {"innerError": None} == {
        "code": "Authorization_RequestDenied",
        "message": "Insufficient privileges to complete the operation.", "innerError": None}
    allowed = client.request(method, url, json=body,
                             headers=_bearer(_app_token(client, [role])))
    assert allowed.status_code in (200, 204), allowed.text


def test_policy_read_permission_cannot_write_it(client: httpx.Client,
                                                app: dict[str, Any]) -> None:
    r = client.patch(FIDO2_POLICY, json={"state": "enabled"},
                     headers=_bearer(_app_token(client, [ROLE_POLICY_READ])))
    assert (r.status_code, error_of(r)["code"]) == (403, "Authorization_RequestDenied")


def test_me_stays_on_the_emulators_sign_in_sessions(tenant: Tenant, client: httpx.Client,
                                                    app: dict[str, Any]) -> None:
    admin = _bearer(_app_token(client))
    user = client.post("/v1.0/users", headers=admin, json={
        "userPrincipalName": "me@contoso.test", "displayName": "me"}).json()["id"]
    session = tenant.token(user)
    r = client.get("/v1.0/me/authentication/fido2Methods", headers=_bearer(session))
    assert r.status_code == 200, r.text


def test_graph_is_open_while_no_application_is_registered(tenant: Tenant,
                                                          client: httpx.Client) -> None:
    assert client.get("/_emulator/applications").json()["value"] == []
    assert client.get("/v1.0/domains").status_code == 200
