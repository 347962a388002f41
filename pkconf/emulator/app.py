"""The emulator as one ASGI app: Graph under /v1.0 and /beta, the tenant's token service,
controls, the Security-info pages."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

from ..tenant.attestation import Metadata
from ..tenant.rules import ALLOWED_ORIGINS, RP_ID
from .controls import EmulatorControls
from .faults import Faults, WriteThrottle
from .graph import GraphApi
from .http import ERROR_HANDLERS, RequestIds
from .oauth import Identity
from .options import OptionsControl
from .pages import SecurityInfoPages
from .store import Store

VERSIONS = ("v1.0", "beta")
# The calls every ctap case makes: the scenario, creationOptions and the registration.
PER_CASE_CALLS = (("POST", "/_emulator/scenarios"),
                  *((method, f"/{version}/me/authentication/fido2Methods{tail}")
                    for version in VERSIONS
                    for method, tail in (("GET", "/creationOptions"), ("POST", ""))))


def create_app(store: Store, metadata: Metadata | None = None, *, rp_id: str = RP_ID,
               origins: tuple[str, ...] = ALLOWED_ORIGINS,
               identity: Identity | None = None) -> Starlette:
    """The emulator as an ASGI app over `store`; `metadata` is an optional FIDO MDS view.

    `rp_id`/`origins` replace Entra's for a browser on `http://localhost` (the pages' fallback).
    `identity` is the tenant's id and registered applications (none: Graph is open, as the
    conformance suite drives it).
    """
    identity = identity or Identity()
    faults, policy_writes = Faults(), WriteThrottle()
    controls = [*EmulatorControls(store).routes(), *identity.control_routes(),
                *faults.routes(), *OptionsControl(store).routes()]
    app = Starlette(
        routes=[
            Mount("/_emulator", routes=controls),
            *(Mount(f"/{v}", routes=GraphApi(store, metadata, v, rp_id=rp_id, origins=origins,
                                             identity=identity,
                                             policy_writes=policy_writes).routes())
              for v in VERSIONS),
            *SecurityInfoPages(store, rp_id=rp_id, origins=origins).routes(),
            *identity.routes(),  # last: `/{tenant}/...` must not shadow a fixed path
        ],
        middleware=[Middleware(RequestIds), Middleware(faults.middleware)],
        exception_handlers=ERROR_HANDLERS,
    )
    app.router = KnownCalls(app.routes, PER_CASE_CALLS)  # before the first call builds the stack
    return app


class KnownCalls(Router):
    """Starlette's router, with a few calls known in advance found by one lookup.

    A ctap case makes three calls; each walked the mounts and routes, matching patterns, and
    went through the route's own exception wrapper (the app's ExceptionMiddleware handles the
    same errors with the same handlers). A known call gets the scope the walk would give it,
    worked out once by that walk; any other request walks as before.
    """

    def __init__(self, routes: list[BaseRoute], calls: Iterable[tuple[str, str]]) -> None:
        super().__init__(routes)
        self._known = {call: found for call in calls
                       if (found := _walk(self.routes, *call)) is not None}

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        known = (self._known.get((scope["method"], scope["path"]))
                 if scope["type"] == "http" and not scope.get("root_path") else None)
        if known is None:
            await super().app(scope, receive, send)
            return
        scope.setdefault("router", self)
        scope.update(known)
        scope["path_params"] = dict(known["path_params"])
        response = await known["endpoint"](Request(scope, receive, send))
        await response(scope, receive, send)


def _walk(routes: list[BaseRoute], method: str, path: str) -> dict[str, Any] | None:
    """What Starlette's router walk adds to a request's scope on its way to the endpoint
    (None unless full matches reach a Route whose endpoint is an async function)."""
    scope: dict[str, Any] = {"type": "http", "method": method, "path": path, "root_path": ""}
    added: dict[str, Any] = {}
    while True:
        for route in routes:
            match, child = route.matches({**scope, **added})
            if match is not Match.NONE:
                break
        else:
            return None
        if match is not Match.FULL:
            return None
        added.update(child, route=route)
        if isinstance(route, Route):  # an async function endpoint: what request_response calls
            return added if inspect.iscoroutinefunction(route.endpoint) else None
        if not isinstance(route, Mount):
            return None
        routes = route.routes
