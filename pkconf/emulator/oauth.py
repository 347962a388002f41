"""The tenant's token service: OAuth 2.0 client credentials for Graph, as Azure AD answers it.

An admin tool (the suite's graph target) gets an app-only token from
`/{tenant}/oauth2/v2.0/token` with a client secret or a certificate's signed assertion, after
reading `/{tenant}/v2.0/.well-known/openid-configuration` — msal's two requests. Applications are
registered with `POST /_emulator/applications` or `pkconf serve --app`; while any is registered,
Graph's admin resources need one of their tokens and the role the call needs (`authorize`).

Tokens are opaque random strings held in memory with a wall-clock expiry: nothing about them
is ever written to the store or a log. Secrets are kept only as hashes.

The AADSTS codes and messages follow Microsoft's published AADSTS error reference; entra-facts
does not cover the token service, so every code here is [INFERRED] from that reference.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from base64 import urlsafe_b64encode
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .http import MAX_BODY_BYTES, GraphError, bad, capped_body, json_field, json_object

DEFAULT_TENANT_ID = "7f3b2c1d-5e4f-4a6b-9c8d-0e1f2a3b4c5d"  # the emulator's tenant, made up
DEFAULT_DOMAIN = "pkconf-emulator.onmicrosoft.com"  # its one verified (initial) domain
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# Graph's resource in each cloud (and its app id): a national cloud's adapter asks for its own
_GRAPH_RESOURCES = ("https://graph.microsoft.com", "https://graph.microsoft.us",
                    "https://dod-graph.microsoft.us", "https://microsoftgraph.chinacloudapi.cn",
                    "00000003-0000-0000-c000-000000000000")
TOKEN_LIFETIME_SECONDS = 3599  # what Azure AD answers for app-only tokens (expires_in)
ASSERTION_SKEW_SECONDS = 300  # [INFERRED] Azure AD's tolerance for client assertion clocks
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# The Graph application permissions the emulator checks (learn.microsoft.com/graph/permissions)
ROLE_AUTH_METHODS = "UserAuthenticationMethod.ReadWrite.All"
ROLE_POLICY_READ = "Policy.Read.All"
ROLE_POLICY_WRITE = "Policy.ReadWrite.AuthenticationMethod"
ROLE_USERS = "User.ReadWrite.All"
ROLE_GROUPS = "Group.ReadWrite.All"
ROLE_DOMAINS = "Domain.Read.All"
GRAPH_ROLES = (ROLE_AUTH_METHODS, ROLE_POLICY_READ, ROLE_POLICY_WRITE, ROLE_USERS, ROLE_GROUPS,
               ROLE_DOMAINS)


def _secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _thumbprint(cert: x509.Certificate, algorithm: str) -> str:
    """A certificate's JOSE thumbprint (`x5t` SHA-1, `x5t#S256` SHA-256), base64url."""
    der = cert.public_bytes(serialization.Encoding.DER)
    digest = hashlib.new(algorithm, der, usedforsecurity=False).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class Application:
    """A confidential client: its id, a secret's hash and/or certificates, and its roles."""

    client_id: str
    secret_hash: bytes | None = None
    certificates: tuple[x509.Certificate, ...] = ()
    roles: frozenset[str] = frozenset(GRAPH_ROLES)

    @classmethod
    def create(cls, client_id: str, *, secret: str | None = None,
               certificate_pem: bytes | None = None,
               roles: Iterable[str] | None = None) -> Application:
        """An application from what an admin registers; ValueError names what is wrong."""
        if not client_id.strip():
            raise ValueError("clientId must not be empty")
        if secret is None and certificate_pem is None:
            raise ValueError("an application needs a secret or a certificate")
        certificates: tuple[x509.Certificate, ...] = ()
        if certificate_pem is not None:
            try:  # a PEM may carry the key beside the certificate: only certificates are read
                certificates = tuple(x509.load_pem_x509_certificates(certificate_pem))
            except ValueError:
                raise ValueError("certificate holds no PEM certificate") from None
            if not all(isinstance(c.public_key(), rsa.RSAPublicKey) for c in certificates):
                # client assertions are RS256 or PS256, as Azure AD takes them
                raise ValueError("certificate must have an RSA key")
        chosen = frozenset(GRAPH_ROLES if roles is None else roles)
        if unknown := sorted(chosen - set(GRAPH_ROLES)):
            raise ValueError(f"role {unknown[0]!r} is unknown (known: {', '.join(GRAPH_ROLES)})")
        return cls(client_id, None if secret is None else _secret_hash(secret), certificates,
                   chosen)

    def secret_matches(self, secret: str) -> bool:
        return (self.secret_hash is not None
                and hmac.compare_digest(self.secret_hash, _secret_hash(secret)))

    def certificate(self, header: dict[str, Any]) -> x509.Certificate | None:
        """The registered certificate an assertion's header names by thumbprint."""
        for name, algorithm in (("x5t#S256", "sha256"), ("x5t", "sha1")):
            if isinstance(header.get(name), str):  # msal pads it, RFC 7515 does not
                named = header[name].rstrip("=")
                return next((c for c in self.certificates
                             if hmac.compare_digest(_thumbprint(c, algorithm), named)), None)
        return None

    def to_json(self) -> dict[str, Any]:
        """What the registration answers: never the secret, only that there is one."""
        return {"clientId": self.client_id, "roles": sorted(self.roles),
                "secret": self.secret_hash is not None,
                "certificates": [_thumbprint(c, "sha1") for c in self.certificates]}


@dataclass(frozen=True)
class AccessToken:
    tenant_id: str
    client_id: str
    roles: frozenset[str]
    expires: float  # wall-clock seconds: the emulator's own clock is for the tenant's rules


class TokenError(Exception):
    """A token request refused the way Azure AD refuses it."""

    def __init__(self, status: int, error: str, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.code, self.message = status, error, code, message

    def response(self) -> JSONResponse:
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return JSONResponse({
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.message} Trace ID: {trace} "
                                 f"Correlation ID: {correlation} Timestamp: {stamp}",
            "error_codes": [self.code], "timestamp": stamp, "trace_id": trace,
            "correlation_id": correlation,
        }, status_code=self.status)


def _missing(name: str) -> TokenError:
    return TokenError(400, "invalid_request", 900144,
                      f"The request body must contain the following parameter: '{name}'.")


def _invalid_assertion(message: str) -> TokenError:
    return TokenError(401, "invalid_client", 700027, message)


@dataclass
class Identity:
    """The tenant's registered applications and the access tokens issued to them."""

    tenant_id: str = DEFAULT_TENANT_ID
    clock: Callable[[], float] = time.time
    applications: dict[str, Application] = field(default_factory=dict)
    _tokens: dict[str, AccessToken] = field(default_factory=dict)

    @property
    def enforcing(self) -> bool:
        """Graph's admin resources need a token once any application is registered."""
        return bool(self.applications)

    def register(self, app: Application) -> None:
        self.applications[app.client_id] = app

    def clear(self) -> None:
        self.applications.clear()
        self._tokens.clear()

    def issue(self, app: Application) -> tuple[str, int]:
        token = secrets.token_urlsafe(48)
        self._tokens[token] = AccessToken(self.tenant_id, app.client_id, app.roles,
                                          self.clock() + TOKEN_LIFETIME_SECONDS)
        return token, TOKEN_LIFETIME_SECONDS

    def authorize(self, request: Request, roles: tuple[str, ...]) -> None:
        """Let a Graph admin call through if its bearer token holds one of `roles`."""
        if not self.enforcing:
            return
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        token = self._tokens.get(value.strip())
        if token is None:
            raise GraphError(401, "InvalidAuthenticationToken",
                             "Access token validation failure. Invalid audience.")
        if token.expires <= self.clock():
            self._tokens.pop(value.strip(), None)
            raise GraphError(401, "InvalidAuthenticationToken",
                             "Lifetime validation failed, the token is expired.")
        if not token.roles & set(roles):
            raise GraphError(403, "Authorization_RequestDenied",
                             "Insufficient privileges to complete the operation.")

    # --- the token service -----------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        """The authority's endpoints, at the server's root as `{authority}/...`."""
        return [
            Route("/{tenant}/v2.0/.well-known/openid-configuration", self.discovery,
                  methods=["GET"]),
            Route("/{tenant}/discovery/v2.0/keys", self.keys, methods=["GET"]),
            Route("/{tenant}/oauth2/v2.0/token", self.token, methods=["POST"]),
        ]

    def _known_tenant(self, tenant: str) -> bool:
        return tenant.lower() in (self.tenant_id.lower(), DEFAULT_DOMAIN)

    @staticmethod
    def _unknown_tenant(tenant: str, error: str) -> TokenError:
        return TokenError(400, error, 90002,
                          f"Tenant '{tenant[:100]}' not found. Check to make sure you have the "
                          "correct tenant ID and are signing into the correct cloud.")

    async def discovery(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        if not self._known_tenant(tenant):
            return self._unknown_tenant(tenant, "invalid_tenant").response()
        base = f"{str(request.base_url).rstrip('/')}/{tenant}"
        return JSONResponse({
            "issuer": f"{str(request.base_url).rstrip('/')}/{self.tenant_id}/v2.0",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "tenant_region_scope": "WW",
        })

    async def keys(self, request: Request) -> Response:
        """No keys: the emulator's tokens are opaque, nothing verifies them but the emulator."""
        return JSONResponse({"keys": []})

    async def token(self, request: Request) -> Response:
        try:
            return self._grant(request, await self._form(request))
        except TokenError as e:
            return e.response()

    @staticmethod
    async def _form(request: Request) -> dict[str, str]:
        body = await capped_body(request, MAX_BODY_BYTES)
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise TokenError(400, "invalid_request", 900144,
                             "The request body must be form-encoded UTF-8.") from None

    def _grant(self, request: Request, form: dict[str, str]) -> Response:
        tenant = request.path_params["tenant"]
        if not self._known_tenant(tenant):
            raise self._unknown_tenant(tenant, "invalid_request")
        grant = form.get("grant_type") or ""
        if not grant:
            raise _missing("grant_type")
        if grant != "client_credentials":
            raise TokenError(400, "unsupported_grant_type", 70003,
                             f"The app requested an unsupported grant type '{grant[:60]}'.")
        client_id = form.get("client_id") or ""
        if not client_id:
            raise _missing("client_id")
        app = self.applications.get(client_id)
        if app is None:
            raise TokenError(400, "unauthorized_client", 700016,
                             f"Application with identifier '{client_id[:100]}' was not found in "
                             f"the directory '{self.tenant_id}'.")
        self._authenticate(app, form, token_endpoint=str(request.url.replace(query="")))
        self._check_scope(form.get("scope") or "")
        token, lifetime = self.issue(app)
        return JSONResponse({"token_type": "Bearer", "expires_in": lifetime,
                             "ext_expires_in": lifetime, "access_token": token})

    @staticmethod
    def _check_scope(scope: str) -> None:
        if not scope:
            raise _missing("scope")
        requested = [s for s in scope.split() if s not in ("openid", "profile", "offline_access")]
        if len(requested) != 1 or not requested[0].endswith("/.default"):
            raise TokenError(400, "invalid_scope", 1002012,
                             f"The provided value for scope {scope[:100]} is not valid. Client "
                             "credential flows must have a scope value with /.default suffixed "
                             "to the resource identifier (application ID URI).")
        if requested[0].removesuffix("/.default") not in _GRAPH_RESOURCES:
            raise TokenError(400, "invalid_scope", 500011,
                             f"The resource principal named {requested[0][:100]} was not found "
                             "in the tenant; the emulator serves only Microsoft Graph.")

    def _authenticate(self, app: Application, form: dict[str, str], *,
                      token_endpoint: str) -> None:
        if "client_secret" in form:
            if not app.secret_matches(form["client_secret"]):
                raise TokenError(401, "invalid_client", 7000215,
                                 "Invalid client secret provided. Ensure the secret being sent "
                                 "in the request is the client secret value, not the client "
                                 f"secret ID, for a secret added to app '{app.client_id}'.")
            return
        if "client_assertion" not in form:
            raise TokenError(401, "invalid_client", 7000216,
                             "'client_assertion', 'client_secret' or 'request' is required for "
                             "the 'client_credentials' grant type.")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise TokenError(400, "invalid_request", 50027,
                             f"client_assertion_type must be {ASSERTION_TYPE}.")
        self._verify_assertion(app, form["client_assertion"], token_endpoint)

    @staticmethod
    def _verify_assertion(app: Application, assertion: str, token_endpoint: str) -> None:
        """RFC 7523: signed by a registered certificate, for this token endpoint, issued by
        and about the client, within its lifetime (`nbf` when present: msal sends none)."""
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise _invalid_assertion("The client assertion is not a well-formed JWT.") from None
        cert = app.certificate(header)
        if cert is None:
            raise _invalid_assertion("The certificate with identifier used to sign the client "
                                     "assertion is not registered on application.")
        try:
            key = cert.public_key()
            assert isinstance(key, rsa.RSAPublicKey)  # Application.create takes RSA only
            claims = jwt.decode(assertion, key,
                                algorithms=["RS256", "PS256"], audience=token_endpoint,
                                leeway=ASSERTION_SKEW_SECONDS,
                                options={"require": ["aud", "exp", "iss", "sub"]})
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
            raise TokenError(401, "invalid_client", 700024,
                             "Client assertion is not within its valid time range.") from None
        except jwt.InvalidAudienceError:
            raise TokenError(401, "invalid_client", 700212,
                             "No matching federated identity record found for presented "
                             f"assertion audience; the token endpoint is {token_endpoint}.") \
                from None
        except jwt.PyJWTError as e:
            raise _invalid_assertion(f"Client assertion failed validation: {e}.") from None
        if claims["iss"] != app.client_id or claims["sub"] != app.client_id:
            raise TokenError(401, "invalid_client", 700021,
                             "Client assertion application identifier doesn't match "
                             "'client_id' parameter.")

    # --- the emulator's control ------------------------------------------------------------
    def control_routes(self) -> list[BaseRoute]:
        """`/_emulator/applications`: register a confidential client (POST), list the
        registered ones (GET), or remove all of them and their tokens (DELETE)."""
        return [Route("/applications", self.applications_control,
                      methods=["GET", "POST", "DELETE"])]

    async def applications_control(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.clear()
            return Response(status_code=204)
        if request.method == "GET":
            return JSONResponse({"tenantId": self.tenant_id, "value": [
                a.to_json() for a in self.applications.values()]})
        body = await json_object(request)
        roles = json_field(body, "roles", list)
        if roles is not None and not all(isinstance(r, str) for r in roles):
            raise bad("roles must be a list of strings")
        certificate = json_field(body, "certificate", str)
        try:
            app = Application.create(json_field(body, "clientId", str, required=True),
                                     secret=json_field(body, "secret", str),
                                     certificate_pem=None if certificate is None
                                     else certificate.encode(), roles=roles)
        except ValueError as e:
            raise bad(str(e)) from None
        self.register(app)
        return JSONResponse({**app.to_json(), "tenantId": self.tenant_id}, status_code=201)
