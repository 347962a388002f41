"""`/_emulator/options`: how the emulator answers where real tenants vary or a test needs a lever.

PUT takes the whole setting (an absent key is its default, as `pkconf serve` started it with
`--faithful` for `annotations`); GET shows it. `/_emulator/reset` returns to the start's.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .http import bad, json_field, json_object
from .store import EXCLUDE_ENCODINGS, Options, Store

MAX_PAGE_SIZE = 999  # Graph's largest $top for directory objects


class OptionsControl:
    def __init__(self, store: Store) -> None:
        self.store, self.initial = store, store.initial_options

    def routes(self) -> list[BaseRoute]:
        return [Route("/options", self.options, methods=["GET", "PUT"])]

    async def options(self, request: Request) -> Response:
        if request.method == "PUT":
            self.store.set_options(self._read(await json_object(request)))
        return JSONResponse(self.store.options().to_json())

    def _read(self, body: dict[str, object]) -> Options:
        known = self.initial.to_json()
        if unknown := sorted(set(body) - set(known)):
            raise bad(f"{unknown[0]} is unknown (known: {', '.join(known)})")
        encoding = json_field(body, "excludeCredentialsEncoding", str,
                              default=self.initial.exclude_credentials_encoding)
        if encoding not in EXCLUDE_ENCODINGS:
            raise bad(f"excludeCredentialsEncoding must be one of {', '.join(EXCLUDE_ENCODINGS)}")
        page_size = json_field(body, "pageSize", int, default=self.initial.page_size)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise bad(f"pageSize must be 1-{MAX_PAGE_SIZE}")
        writes = json_field(body, "policyWritesPerMinute", int,
                            default=self.initial.policy_writes_per_minute)
        if writes is not None and writes < 1:
            raise bad("policyWritesPerMinute must be at least 1, or null for no throttle")
        return Options(encoding, page_size,
                       json_field(body, "annotations", bool, default=self.initial.annotations),
                       writes)
