"""The tenant's side of a ceremony: its Graph endpoints, over one HTTP connection.

The default target is the embedded emulator; the same calls (creationOptions, POST
fido2Methods) are what a real tenant's Graph answers. `scenario` is the emulator-only setup
call that lays out a case (policy, fresh groups, user, sign-in) in one round trip.
"""

from __future__ import annotations

import json
import select
import socket
import ssl
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import SplitResult, urlsplit

import httptools

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


class TenantUrlError(ValueError):
    """A tenant's base URL that no request can go to."""


def tenant_url(base_url: str) -> SplitResult:
    """`base_url` split, or `TenantUrlError` if no request can go to it."""
    url = urlsplit(base_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise TenantUrlError(f"{base_url!r} is not an http:// or https:// URL")
    try:
        url.port  # noqa: B018 - a port out of range raises here, not at the first request
    except ValueError as e:
        raise TenantUrlError(f"{base_url!r}: {e}") from None
    return url


class _Response:
    """httptools' callbacks for one response: its body, whether it is all there, and whether
    the connection stays open after it (asked at its head: once the message is complete the
    parser has moved on to the next one)."""

    __slots__ = ("body", "complete", "keep_alive", "parser")

    def __init__(self) -> None:
        self.body: list[bytes] = []
        self.complete = self.keep_alive = False
        self.parser = httptools.HttpResponseParser(self)

    def on_headers_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


class _Connection:
    """One keep-alive HTTP/1.1 connection to a tenant: a socket, each request written in one
    piece, each response parsed by httptools (llhttp, the parser uvicorn serves with).

    Why not httpx, as the Graph client uses, or http.client: every ctap case makes three
    requests of a loopback emulator (issue 13: a case in <= 5 ms). A request cost this process
    0.74 ms of CPU through httpx, 0.18 ms through http.client (whose header parsing is the
    email package's) and 0.05 ms here; http.client also writes a POST's head and body apart,
    which the server then reads as two events (0.85 against 0.52 ms a request, wall). An idle
    connection the server has closed is noticed before reuse (it reads as readable) and opened
    again, as httpcore does.
    """

    def __init__(self, base_url: str, timeout: float, verify: ssl.SSLContext | bool):
        url = tenant_url(base_url)
        self.base_url, self.prefix = base_url, url.path.rstrip("/")
        self._address = (str(url.hostname), url.port or (443 if url.scheme == "https" else 80))
        self._timeout = timeout
        self._host = f"Host: {url.netloc.rpartition('@')[2]}\r\n"
        self._tls: ssl.SSLContext | None = None
        if url.scheme == "https":
            context = verify if isinstance(verify, ssl.SSLContext) else ssl.create_default_context()
            if verify is False:
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            self._tls = context
        self._sock: socket.socket | None = None

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self._address, self._timeout)
        try:
            # one write per request, so never hold it back waiting for an ACK
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self._address[0])
        except BaseException:
            sock.close()
            raise
        return sock

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
        """(status, body); a tenant that cannot be reached is a `TenantError`."""
        sock = self._sock
        if sock is not None and select.select([sock], [], [], 0)[0]:
            self.close()  # closed by the server while idle
            sock = None
        head = [f"{method} {self.prefix}{path} HTTP/1.1\r\n", self._host]
        head += [f"{name}: {value}\r\n" for name, value in (headers or {}).items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(body or b'')}\r\n")
        head.append("\r\n")
        response = _Response()
        try:
            if sock is None:
                sock = self._sock = self._connect()
            sock.sendall("".join(head).encode("latin-1") + (body or b""))
            while not response.complete:
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("the connection closed before a whole answer")
                response.parser.feed_data(data)
        except (OSError, httptools.HttpParserError, httptools.HttpParserUpgrade) as e:
            self.close()
            raise TenantError(f"{method} {path}: the tenant at {self.base_url} did not answer: "
                              f"{e or type(e).__name__}") from None
        if not response.keep_alive:
            self.close()
        return response.parser.get_status_code(), b"".join(response.body)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class TenantApi:
    def __init__(self, base_url: str, *, version: str = "v1.0", timeout: float = 15.0,
                 verify: ssl.SSLContext | bool = True):
        """`verify`: the TLS trust for an HTTPS emulator (`TestTls().client_context()`).
        A `base_url` that is not an http(s) URL raises `TenantUrlError`."""
        self.base_url = base_url.rstrip("/")
        self.version = version
        self._http = _Connection(self.base_url, timeout, verify)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TenantApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, url: str, body: dict[str, Any] | None,
              token: str | None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self._http.request(method, url, None if body is None else
                                  json.dumps(body).encode(), headers)

    def _json(self, method: str, url: str, *, expect: int, body: dict[str, Any] | None = None,
              token: str | None = None) -> dict[str, Any]:
        status, data = self._send(method, url, body, token)
        if status != expect:
            raise TenantError(f"{method} {url} answered {status}: "
                              f"{data[:300].decode(errors='replace')}")
        try:
            return json.loads(data) if data else {}
        except ValueError:
            raise TenantError(f"{method} {url} answered {status} without JSON: "
                              f"{data[:300].decode(errors='replace')}") from None

    def scenario(self, body: dict[str, Any]) -> dict[str, Any]:
        """Emulator only: set the policy, create groups and a user, sign them in."""
        return self._json("POST", "/_emulator/scenarios", expect=201, body=body)

    def advance_clock(self, seconds: float) -> None:
        self._json("POST", "/_emulator/clock/advance", expect=200, body={"seconds": seconds})

    def sign_in(self, user_id: str, method: str = "mfa", *, client: str | None = None) -> str:
        """Emulator only: a session token; `client` "graph" for a Graph client's session."""
        body = {"userId": user_id, "method": method, **({"client": client} if client else {})}
        return self._json("POST", "/_emulator/signIn", expect=201, body=body)["token"]

    def _methods(self, user_id: str | None) -> str:
        who = "me" if user_id is None else f"users/{user_id}"
        return f"/{self.version}/{who}/{GRAPH_METHODS}"

    def creation_options(self, user_id: str | None, token: str | None = None) -> dict[str, Any]:
        """webauthnCredentialCreationOptions; `user_id` None means /me with the session token."""
        return self._json("GET", f"{self._methods(user_id)}/creationOptions", expect=200,
                          token=token)

    def register(self, user_id: str | None, body: dict[str, Any],
                 token: str | None = None) -> tuple[int, dict[str, Any]]:
        """POST fido2Methods: the HTTP status and the JSON answer, whatever they are."""
        status, data = self._send("POST", self._methods(user_id), body, token)
        try:
            return status, json.loads(data)
        except ValueError:
            raise TenantError(f"POST fido2Methods answered {status} without JSON: "
                              f"{data[:300].decode(errors='replace')}") from None


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
