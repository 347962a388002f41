"""The emulator as one ASGI app: Graph under /v1.0 and /beta, the tenant's token service,
controls, the Security-info pages."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount

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
    return Starlette(
        routes=[
            Mount("/_emulator", routes=controls),
            *(Mount(f"/{v}", routes=GraphApi(store, metadata, v, rp_id=rp_id, origins=origins,
                                             identity=identity,
                                             policy_writes=policy_writes).routes())
              for v in ("v1.0", "beta")),
            *SecurityInfoPages(store, rp_id=rp_id, origins=origins).routes(),
            *identity.routes(),  # last: `/{tenant}/...` must not shadow a fixed path
        ],
        middleware=[Middleware(RequestIds), Middleware(faults.middleware)],
        exception_handlers=ERROR_HANDLERS,
    )
