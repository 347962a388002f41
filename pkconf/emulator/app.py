"""The emulator as one ASGI app: Graph under /v1.0 and /beta, controls, the Security-info pages."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount

from ..tenant.attestation import Metadata
from ..tenant.rules import ALLOWED_ORIGINS, RP_ID
from .controls import EmulatorControls
from .graph import GraphApi
from .http import ERROR_HANDLERS
from .pages import SecurityInfoPages
from .store import Store


def create_app(store: Store, metadata: Metadata | None = None, *, rp_id: str = RP_ID,
               origins: tuple[str, ...] = ALLOWED_ORIGINS) -> Starlette:
    """The emulator as an ASGI app over `store`; `metadata` is an optional FIDO MDS view.

    `rp_id`/`origins` replace Entra's for a browser on `http://localhost` (the pages' fallback).
    """
    return Starlette(
        routes=[
            Mount("/_emulator", routes=EmulatorControls(store).routes()),
            *(Mount(f"/{v}", routes=GraphApi(store, metadata, v, rp_id=rp_id,
                                             origins=origins).routes())
              for v in ("v1.0", "beta")),
            *SecurityInfoPages(store, rp_id=rp_id, origins=origins).routes(),
        ],
        exception_handlers=ERROR_HANDLERS,
    )
