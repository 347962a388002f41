"""Injected faults: Graph's throttling (429) and outages (503), so a client's retries are tested.

`POST /_emulator/faults` `{"status": 429|503, "count": N, "retryAfter": S, "method"?, "path"?}`
arms a fault: the next `count` requests whose method and path match are answered with Graph's
error envelope and a `Retry-After` header instead of reaching the emulator. `path` is a regex
searched in the request path (default: every Graph path, `/v1.0/...` and `/beta/...`); the
emulator's own controls are never faulted. `DELETE /_emulator/faults` disarms all of them.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .http import GraphError, bad, error_json, json_field, json_object

GRAPH_PATHS = r"^/(v1\.0|beta)/"
# Graph's codes and messages for throttling and outages (learn.microsoft.com/graph/errors)
FAULTS = {429: ("TooManyRequests", "Too many requests. Please retry after the time given in "
                                   "the Retry-After header."),
          503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry "
                                       "after the time given in the Retry-After header.")}
MAX_RETRY_AFTER = 3600


@dataclass
class Fault:
    status: int
    remaining: int
    retry_after: int
    method: str | None
    path: re.Pattern[str]

    def matches(self, method: str, path: str) -> bool:
        return (self.remaining > 0 and (self.method is None or self.method == method)
                and self.path.search(path) is not None)

    def to_json(self) -> dict[str, object]:
        return {"status": self.status, "remaining": self.remaining,
                "retryAfter": self.retry_after, "method": self.method,
                "path": self.path.pattern}


def throttled(request: Request, status: int, retry_after: int) -> Response:
    """Graph's answer to a throttled or unavailable request, with when to come back."""
    code, message = FAULTS[status]
    return error_json(request, GraphError(status, code, message),
                      headers={"Retry-After": str(retry_after)})


@dataclass
class Faults:
    """The armed faults, consulted in order; a fault that has fired `count` times is spent."""

    armed: list[Fault] = field(default_factory=list)

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this request meets (counting it), or None."""
        if not self.armed or path.startswith("/_emulator/"):
            return None
        fault = next((f for f in self.armed if f.matches(method, path)), None)
        if fault is not None:
            fault.remaining -= 1
            self.armed = [f for f in self.armed if f.remaining > 0]
        return fault

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """ASGI middleware answering a faulted request before it reaches `app`."""
        async def faulting(scope: Scope, receive: Receive, send: Send) -> None:
            fault = (self.take(scope["method"], scope["path"]) if scope["type"] == "http"
                     else None)
            if fault is None:
                await app(scope, receive, send)
                return
            await throttled(Request(scope), fault.status, fault.retry_after)(scope, receive, send)
        return faulting

    def routes(self) -> list[BaseRoute]:
        return [Route("/faults", self.control, methods=["GET", "POST", "DELETE"])]

    async def control(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.armed.clear()
            return Response(status_code=204)
        if request.method == "POST":
            self.armed.append(_fault(await json_object(request)))
        return JSONResponse({"value": [f.to_json() for f in self.armed]},
                            status_code=201 if request.method == "POST" else 200)


def _fault(body: dict[str, object]) -> Fault:
    status = json_field(body, "status", int, required=True)
    if status not in FAULTS:
        raise bad(f"status must be one of {', '.join(map(str, FAULTS))}, not {status}")
    count = json_field(body, "count", int, default=1)
    if count < 1:
        raise bad("count must be at least 1")
    retry_after = json_field(body, "retryAfter", int, default=1)
    if not 0 <= retry_after <= MAX_RETRY_AFTER:
        raise bad(f"retryAfter must be 0-{MAX_RETRY_AFTER} seconds")
    method = json_field(body, "method", str)
    pattern = json_field(body, "path", str, default=GRAPH_PATHS)
    try:
        path = re.compile(pattern)
    except re.error as e:
        raise bad(f"path is not a regular expression: {e}") from None
    return Fault(status, count, retry_after, None if method is None else method.upper(), path)


@dataclass
class WriteThrottle:
    """[INFERRED] Graph's write throttling of the authentication methods policy: entra-facts
    names throttling but no figure, so the emulator allows at most `limit` writes in any 60 s
    of wall time (limit None: no throttle) and answers the next with a 429 and the seconds
    until the oldest write leaves the window."""

    clock: Callable[[], float] = time.monotonic
    _writes: deque[float] = field(default_factory=deque)

    WINDOW_SECONDS = 60.0

    def admit(self, limit: int | None) -> int | None:
        """Record a write and return None, or the Retry-After seconds when over the limit.
        Writes while there is no limit are not counted: turning it on starts afresh."""
        if limit is None:
            self._writes.clear()
            return None
        now = self.clock()
        while self._writes and self._writes[0] <= now - self.WINDOW_SECONDS:
            self._writes.popleft()
        if len(self._writes) >= limit:
            return max(1, int(self._writes[0] + self.WINDOW_SECONDS - now + 0.999))
        self._writes.append(now)
        return None
