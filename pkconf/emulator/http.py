"""Request and response helpers every emulator endpoint shares.

Every failure is a Graph error envelope. Its `code` is one of Graph's generic error codes
(learn.microsoft.com/graph/errors), never an Entra registration code: Entra publishes none
(entra-facts §8). Bodies are capped and nesting-limited before anything reads them, so hostile
input is a 4xx, never a crash.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from base64 import urlsafe_b64encode
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..tenant.decision import MAX_AGE_SECONDS
from .store import iso, utc_now

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32  # far beyond any Graph body; keeps hostile nesting away from recursion limits
YEARS = (1970, 9000)  # accepted date-times: far from datetime's limits, so lifetimes can't overflow
MAX_ADVANCE_SECONDS = MAX_AGE_SECONDS  # the clock moves no further than a user's ages reach
_log = logging.getLogger("uvicorn.error")  # the server's own log: where its lines already go


class GraphError(Exception):
    """A request refused with a Graph error envelope."""

    def __init__(self, status: int, code: str, message: str, *,
                 details: list[tuple[str, str]] | None = None,
                 inner: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.inner = dict(inner or {})


def bad(message: str, **kwargs: Any) -> GraphError:
    return GraphError(400, "invalidRequest", message, **kwargs)


def not_found(what: str, ident: str) -> GraphError:
    return GraphError(404, "itemNotFound", f"{what} {ident!r} does not exist")


# --- request bodies -------------------------------------------------------------------------------

def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


class ClientGone(Exception):
    """The client hung up before its body arrived: nobody is left to answer."""


async def capped_body(request: Request, limit: int, what: str = "the body") -> bytes:
    """The request body, refused with a 413 past `limit` bytes (also for chunked bodies).

    A client that disconnects mid-body is one short log line (ClientGone), not a crash: left
    to starlette's ClientDisconnect, each such request logged a whole traceback, which let any
    client flood the log (issue 14, fault 8).
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise GraphError(413, "invalidRequest", f"{what} is over {limit} bytes")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise GraphError(413, "invalidRequest", f"{what} is over {limit} bytes")
    except ClientDisconnect:
        raise ClientGone(f"{request.method} {request.url.path}") from None
    return bytes(body)


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, capped at MAX_BODY_BYTES."""
    return parse_json_object(await capped_body(request, MAX_BODY_BYTES))


def parse_json_object(body: bytes) -> dict[str, Any]:
    """A body read by `capped_body` as a JSON object, nested at most MAX_JSON_DEPTH deep."""
    if not body:
        raise bad("the request needs a JSON object body")
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise bad("the body is not UTF-8") from None
    except (ValueError, RecursionError) as e:
        raise bad(f"the body is not JSON: {str(e)[:200]}") from None
    if not isinstance(value, dict):
        raise bad("the body must be a JSON object")
    # an item deeper than MAX_JSON_DEPTH sits inside that many containers: text with fewer
    # opening brackets (in strings too) cannot hold one, and needs no walk
    if body.count(b"[") + body.count(b"{") >= MAX_JSON_DEPTH and _too_deep(value):
        raise bad(f"the body is nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _json_type(value: Any) -> str:
    return {bool: "a boolean", str: "a string", int: "a number", float: "a number",
            list: "an array", dict: "an object", type(None): "null"}[type(value)]


def json_field(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], *,
           required: bool = False, default: Any = None) -> Any:
    """One typed field; a JSON boolean never passes for a number."""
    if obj.get(key) is None:
        if required:
            raise bad(f"{key} is required")
        return default
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = {str: "a string", bool: "a boolean", int: "an integer", dict: "an object",
                 list: "an array"}
        name = names.get(kind, "a number") if isinstance(kind, type) else "a number"
        raise bad(f"{key} must be {name}, not {_json_type(value)}")
    if isinstance(value, str) and not value.strip():
        raise bad(f"{key} must not be empty")
    return value


def moment(obj: Mapping[str, Any], key: str, default: datetime) -> datetime:
    """An ISO 8601 date-time with an offset, within years that leave room for lifetimes."""
    text = json_field(obj, key, str)
    if text is None:
        return default
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise bad(f"{key} is not an ISO 8601 date-time: {text[:40]!r}") from None
    if moment.tzinfo is None:
        raise bad(f"{key} needs a time zone offset (for example Z)")
    if not YEARS[0] <= moment.astimezone(UTC).year <= YEARS[1]:
        raise bad(f"{key} must fall in the years {YEARS[0]}-{YEARS[1]}")
    return moment


def b64url(data: bytes) -> str:
    """Base64url without padding, as Graph writes every WebAuthn binary (entra-facts §7.1)."""
    return urlsafe_b64encode(data).rstrip(b"=").decode()


# --- answers --------------------------------------------------------------------------------------

_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class GraphJson(JSONResponse):
    """starlette's JSONResponse, byte for byte, from one encoder made once: `json.dumps` with
    options makes a new encoder for every answer."""

    def render(self, content: Any) -> bytes:
        return _ENCODER.encode(content).encode("utf-8")


# --- error envelopes ------------------------------------------------------------------------------

def request_id(request: Request) -> str:
    """This request's id, as its `request-id` header says (RequestIds sets it)."""
    return str(request.scope.get("state", {}).get("request_id") or uuid.uuid4())


def client_request_id(request: Request) -> str:
    """The client's own id for the request, or a fresh one (Graph makes one up too)."""
    return str(request.scope.get("state", {}).get("client_request_id")
               or request.headers.get("client-request-id") or uuid.uuid4())


def error_json(request: Request, error: GraphError,
                headers: Mapping[str, str] | None = None) -> GraphJson:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = [{"code": error.code, "target": target, "message": msg}
                           for target, msg in error.details]
    ids = {"request-id": request_id(request), "client-request-id": client_request_id(request)}
    body["innerError"] = {
        "date": iso(utc_now()),  # wall time, as a log line: it must not need the store
        **ids,
        **error.inner,
    }
    # the headers too: a crash's answer is sent around RequestIds, which never sees it
    return GraphJson({"error": body}, status_code=error.status,
                        headers={**ids, **(headers or {})})


async def on_graph_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GraphError)
    return error_json(request, exc)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "itemNotFound", 405: "notAllowed"}
    message = (f"no resource at {request.url.path}" if exc.status_code == 404
               else f"{request.method} is not allowed on {request.url.path}")
    error = GraphError(exc.status_code, codes.get(exc.status_code, "invalidRequest"), message)
    return error_json(request, error, exc.headers)


async def on_crash(request: Request, exc: Exception) -> Response:
    """A bug, not an answer: still a Graph envelope, never a traceback."""
    return error_json(request, GraphError(500, "generalException",
                                           f"internal emulator error ({type(exc).__name__})"))


async def on_client_gone(request: Request, exc: Exception) -> Response:
    """One line at INFO (below the server's default level), and an answer no one will read."""
    _log.info("client disconnected before its body was read: %s", exc)
    return Response(status_code=400)


ERROR_HANDLERS = {GraphError: on_graph_error, HTTPException: on_http_error,
                  ClientGone: on_client_gone, Exception: on_crash}


def _uuid4_text(h: str) -> str:
    """str(uuid.uuid4())'s text (version 4, RFC 4122 variant) from 32 random hex digits, at a
    third of its CPU: every answer carries two."""
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


class RequestIds:
    """ASGI middleware: every answer carries Graph's `request-id` (fresh) and
    `client-request-id` (the client's, echoed, else fresh) headers, not only errors; the
    ids are in the request's state for the error envelope's innerError."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        # the raw headers read as starlette's Headers reads them (names are lower-case in ASGI)
        client_id = next((value.decode("latin-1") for name, value in scope["headers"]
                          if name == b"client-request-id"), None)
        random = os.urandom(16 if client_id else 32).hex()  # both ids' in one read
        state["request_id"] = _uuid4_text(random)
        state["client_request_id"] = client_id or _uuid4_text(random[32:])
        ids = ((b"request-id", state["request_id"].encode("latin-1")),
               (b"client-request-id", state["client_request_id"].encode("latin-1")))

        async def with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":  # appended as MutableHeaders would
                headers = message["headers"] = list(message["headers"])
                present = {name for name, _ in headers}
                headers.extend(pair for pair in ids if pair[0] not in present)
            await send(message)

        await self.app(scope, receive, with_ids)
