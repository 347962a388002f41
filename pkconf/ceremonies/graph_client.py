"""Microsoft Graph for an app: client-credentials tokens (msal), throttling, paging, request ids.

The same client talks to a real tenant and to the emulator (`docs/graph-target.md`): only the
URLs and the TLS trust differ. It never logs or returns a secret, token or password; what it
keeps for the record is each answer's `request-id` and date, which Microsoft support can trace.
"""

from __future__ import annotations

import os
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from hashlib import sha1
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

GRAPH_URL = "https://graph.microsoft.com"
LOGIN_URL = "https://login.microsoftonline.com"
SECRET_ENV = "PKCONF_CLIENT_SECRET"
FEDERATED_TOKEN_ENV = "AZURE_FEDERATED_TOKEN_FILE"  # GitHub/Azure workload identity (OIDC)
# Graph's national clouds: a token's audience is the cloud's own Graph host.
NATIONAL_GRAPH_HOSTS = ("graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us",
                        "microsoftgraph.chinacloudapi.cn")
RETRY_STATUSES = (429, 503, 504)  # Graph's throttling and transient answers
MAX_RETRIES = 6
MAX_WAIT_SECONDS = 120.0  # a Retry-After beyond this is a broken tenant, not a throttle


def add_graph_options(add: Callable[..., Any]) -> None:
    """The graph target's options, for `pkconf run` (argparse) and the plugin (pytest) alike."""
    add("--tenant", metavar="ID", help="--target graph: the tenant's id (or a domain of it)")
    add("--client-id", metavar="ID", help="--target graph: the app's client id; its secret "
                                          "comes from PKCONF_CLIENT_SECRET, never an argument")
    add("--certificate", metavar="PEM", help="--target graph: the app's certificate and "
                                             "private key (instead of a secret)")
    add("--graph-url", metavar="URL", help=f"--target graph: Graph's root (default {GRAPH_URL}; "
                                           "national clouds, or the emulator)")
    add("--authority", metavar="URL", help="--target graph: the token authority (default "
                                           "https://login.microsoftonline.com/<tenant>)")
    add("--ca-file", metavar="PEM", help="--target graph: trust this CA for the authority and "
                                         "Graph (the emulator's test CA)")
    add("--allow-policy-changes", action="store_true",
        help="--target graph: apply each case's fido2 policy (saved first to a restore file, "
             "put back at the end); needs --i-own-this-test-tenant")
    add("--i-own-this-test-tenant", metavar="ID",
        help="--target graph: confirm that --tenant is a test tenant of yours")
    add("--restore-file", metavar="FILE", help="--target graph: where the original policy is saved "
                                               "(default reports/tenant-restore-<tenant>.json)")
    add("--policy-write-interval", type=float, default=2.0, metavar="SECONDS",
        help="--target graph: least time between policy writes (Graph throttles them; "
             "default 2)")


class GraphError(Exception):
    """Graph answered something other than what the call expects; one line when printed."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 request_id: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.request_id = status, code, request_id


class GraphAuthError(GraphError):
    """No token: the credential, tenant or authority was refused or is missing."""


@dataclass(frozen=True)
class GraphSettings:
    """Where the tenant is and who the app is. Secrets are never fields: they come from the
    environment (`PKCONF_CLIENT_SECRET`, `AZURE_FEDERATED_TOKEN_FILE`) or the certificate file."""

    tenant: str
    client_id: str
    graph_url: str = GRAPH_URL
    authority: str | None = None  # default: login.microsoftonline.com/{tenant}
    certificate: Path | None = None  # PEM with the private key and the certificate
    ca_file: Path | None = None  # trust for a test authority and Graph (the emulator's CA)
    version: str = "v1.0"

    @property
    def authority_url(self) -> str:
        return (self.authority or f"{LOGIN_URL}/{self.tenant}").rstrip("/")

    @property
    def scope(self) -> str:
        """`{graph}/.default`: every permission the app was granted, for the cloud's Graph."""
        host = urlsplit(self.graph_url).hostname or ""
        return f"https://{host if host in NATIONAL_GRAPH_HOSTS else 'graph.microsoft.com'}" \
               "/.default"


def graph_settings(get: Callable[[str], Any]) -> GraphSettings:
    """GraphSettings from the options `add_graph_options` defined (`get` reads one by flag);
    GraphError names a missing or unusable one."""
    tenant, client_id = get("--tenant"), get("--client-id")
    if not tenant or not client_id:
        raise GraphError(f"Graph needs --tenant and --client-id (the credential: {SECRET_ENV}, "
                         f"--certificate PEM or {FEDERATED_TOKEN_ENV})")
    files = {flag: Path(get(flag)) for flag in ("--certificate", "--ca-file") if get(flag)}
    for flag, path in files.items():
        if not path.is_file():
            raise GraphError(f"{flag} {path}: no such file")
    for flag in ("--graph-url", "--authority"):
        if (url := get(flag)) and urlsplit(url).scheme != "https":
            raise GraphError(f"{flag} {url}: must be an https:// URL")
    return GraphSettings(tenant=tenant, client_id=client_id,
                         graph_url=get("--graph-url") or GRAPH_URL,
                         authority=get("--authority"), certificate=files.get("--certificate"),
                         ca_file=files.get("--ca-file"))


def client_credential(settings: GraphSettings) -> Any:
    """msal's client credential: the certificate, else the secret, else a federated token."""
    if settings.certificate is not None:
        return _certificate_credential(settings.certificate)
    if secret := os.environ.get(SECRET_ENV):
        return secret
    if token_file := os.environ.get(FEDERATED_TOKEN_ENV):
        path = Path(token_file)

        def assertion() -> str:  # read per request: the CI's OIDC token is short-lived
            try:
                return path.read_text().strip()
            except OSError as e:
                raise GraphAuthError(f"cannot read {FEDERATED_TOKEN_ENV} {path}: "
                                     f"{e.strerror or e}") from None
        return {"client_assertion": assertion}
    raise GraphAuthError(f"no credential for client {settings.client_id}: set {SECRET_ENV}, "
                         f"give --certificate PEM, or set {FEDERATED_TOKEN_ENV}")


def _certificate_credential(path: Path) -> dict[str, str]:
    """The private key and certificate of one PEM file, as msal signs client assertions."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key

    try:
        pem = path.read_bytes()
    except OSError as e:
        raise GraphAuthError(f"cannot read --certificate {path}: {e.strerror or e}") from None
    try:
        cert = x509.load_pem_x509_certificate(pem)
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise GraphAuthError(f"--certificate {path} needs an unencrypted private key and its "
                             "certificate in PEM") from None
    if not isinstance(key, rsa.RSAPrivateKey):  # Entra's client assertions are RS256/PS256
        raise GraphAuthError(f"--certificate {path}: the key must be RSA (an app "
                             "registration's certificate signs RS256 or PS256)")
    der = cert.public_bytes(Encoding.DER)
    return {"private_key": pem.decode(), "thumbprint": sha1(der).hexdigest(),
            "public_certificate": cert.public_bytes(Encoding.PEM).decode()}


class TokenSource:
    """msal's client-credentials flow; msal caches the token for its lifetime."""

    def __init__(self, settings: GraphSettings) -> None:
        import msal
        import requests

        session = requests.Session()
        if settings.ca_file is not None:
            # the environment's REQUESTS_CA_BUNDLE would otherwise override `verify`
            session.trust_env = False
            session.verify = str(settings.ca_file)
        custom = settings.authority is not None
        try:
            self._app = msal.ConfidentialClientApplication(
                settings.client_id, client_credential=client_credential(settings),
                authority=settings.authority_url, http_client=session,
                instance_discovery=False if custom else None, validate_authority=not custom)
        except (ValueError, requests.RequestException) as e:
            raise GraphAuthError(f"cannot use authority {settings.authority_url}: "
                                 f"{_first_line(e)}") from None
        self._scope = settings.scope
        self._session = session

    def close(self) -> None:
        """msal's HTTP session: left open, a server waits out its keep-alive on shutdown."""
        self._session.close()

    def token(self, *, fresh: bool = False) -> str:
        import requests

        try:
            if fresh:
                self._app.remove_tokens_for_client()
            result = self._app.acquire_token_for_client(scopes=[self._scope])
        except requests.RequestException as e:
            raise GraphAuthError(f"cannot reach the token endpoint: {_first_line(e)}") from None
        if "access_token" not in result:
            raise GraphAuthError(f"the token request was refused: {result.get('error')}: "
                                 f"{_first_line(result.get('error_description') or '')}")
        return str(result["access_token"])


def _first_line(value: object) -> str:
    return str(value).strip().splitlines()[0][:300] if str(value).strip() else ""


def _retry_after(response: httpx.Response, attempt: int) -> float:
    """Graph's `Retry-After` (seconds or an HTTP date), else exponential back-off."""
    header = response.headers.get("retry-after", "")
    try:
        seconds = float(header)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            seconds = float(2 ** attempt)
    return min(max(seconds, 0.0), MAX_WAIT_SECONDS)


@dataclass(frozen=True)
class Exchange:
    """One Graph request as the record keeps it: no headers, no body."""

    method: str
    path: str
    status: int
    request_id: str | None
    date: str | None


@dataclass
class GraphClient:
    """Graph calls with the app's token: retries on throttling, nextLink paging, request ids."""

    settings: GraphSettings
    tokens: TokenSource | None = None  # None: built on the first call
    sleep: Callable[[float], None] = time.sleep
    timeout: float = 30.0
    exchanges: list[Exchange] = field(default_factory=list)  # every answer, for the record
    _http: httpx.Client | None = None

    def __post_init__(self) -> None:
        verify: ssl.SSLContext | bool = True
        if self.settings.ca_file is not None:
            verify = ssl.create_default_context(cafile=str(self.settings.ca_file))
        self._http = httpx.Client(timeout=self.timeout, verify=verify)
        self._base = f"{self.settings.graph_url.rstrip('/')}/{self.settings.version}"

    def close(self) -> None:
        if self.tokens is not None:
            self.tokens.close()
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _url(self, path: str) -> str:
        """A path under the version root, or an absolute nextLink on the same host only: the
        token must never travel to another host."""
        if not path.startswith("https://") and not path.startswith("http://"):
            return f"{self._base}{path}"
        if urlsplit(path).netloc != urlsplit(self._base).netloc:
            raise GraphError(f"Graph pointed at another host ({urlsplit(path).netloc}); "
                             "not following it with the app's token")
        return path

    def request(self, method: str, path: str, *, json: Any = None,
                params: dict[str, str] | None = None, expect: tuple[int, ...] = (200,),
                settle_seconds: float = 0.0) -> httpx.Response:
        """One call, retried on 429/503/504 (after `Retry-After`), once on a 401 with a fresh
        token, and on 404 for `settle_seconds` (a just-created object replicating)."""
        if self.tokens is None:
            self.tokens = TokenSource(self.settings)
        url, fresh, waited = self._url(path), False, 0.0
        for attempt in range(MAX_RETRIES + 1):
            headers = {"Authorization": f"Bearer {self.tokens.token(fresh=fresh)}",
                       "client-request-id": str(uuid.uuid4())}
            assert self._http is not None
            try:
                response = self._http.request(method, url, json=json, params=params,
                                              headers=headers)
            except httpx.TransportError as e:
                if attempt == MAX_RETRIES:
                    raise GraphError(f"{method} {path}: cannot reach Graph: "
                                     f"{_first_line(e) or type(e).__name__}") from None
                self.sleep(float(2 ** attempt))
                continue
            self._keep(method, path, response)
            if response.status_code in expect:
                return response
            if response.status_code in RETRY_STATUSES and attempt < MAX_RETRIES:
                self.sleep(_retry_after(response, attempt))
                continue
            if response.status_code == 401 and not fresh:
                fresh = True
                continue
            if response.status_code == 404 and waited < settle_seconds:
                self.sleep(1.0)
                waited += 1.0
                continue
            raise graph_error(method, path, response)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _keep(self, method: str, path: str, response: httpx.Response) -> None:
        self.exchanges.append(Exchange(method, urlsplit(path).path or path,
                                       response.status_code,
                                       response.headers.get("request-id"),
                                       response.headers.get("date")))

    def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, path, **kwargs)
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError:
            raise GraphError(f"{method} {path} answered {response.status_code} without "
                             "JSON") from None
        if not isinstance(body, dict):
            raise GraphError(f"{method} {path} answered a JSON {type(body).__name__}, not an "
                             "object")
        return body

    def pages(self, path: str, params: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a collection, following `@odata.nextLink` to the last page."""
        page = self.json("GET", path, params=params)
        seen = {path}
        while True:
            items = page.get("value")
            if not isinstance(items, list):
                raise GraphError(f"GET {path}: a collection without 'value'")
            yield from items
            link = page.get("@odata.nextLink")
            if not isinstance(link, str):
                return
            if link in seen:  # a nextLink pointing back would loop for ever
                raise GraphError(f"GET {path}: @odata.nextLink repeats itself")
            seen.add(link)
            page = self.json("GET", link)


def graph_error(method: str, path: str, response: httpx.Response) -> GraphError:
    """The Graph error envelope as one line: status, code, message, request id."""
    code, message, request_id = None, response.text[:200], response.headers.get("request-id")
    try:
        error = response.json().get("error", {})
        code, message = error.get("code"), error.get("message", message)
        request_id = error.get("innerError", {}).get("request-id", request_id)
    except (ValueError, AttributeError):
        pass
    return GraphError(f"{method} {path} answered {response.status_code} {code or ''}: "
                      f"{_first_line(message)} (request-id {request_id})",
                      status=response.status_code, code=code, request_id=request_id)
