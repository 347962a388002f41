"""Running the emulator: uvicorn in a background thread (tests, the suite) or in the foreground.

The emulator accepts any registration its policy allows and hands out sessions without
passwords, so it binds to loopback unless the caller explicitly opts out.
"""

from __future__ import annotations

import ipaddress
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from ..tenant.attestation import Metadata
from ..tenant.rules import ALLOWED_ORIGINS, RP_ID, Cloud
from .app import create_app
from .oauth import DEFAULT_TENANT_ID, Application, Identity
from .store import Options, RuleBookSetting, Store
from .tls import TestTls

STARTUP_TIMEOUT_SECONDS = 10.0


class NonLoopbackBind(ValueError):
    """Binding beyond loopback was asked for without `allow_non_loopback`."""


def check_bind(host: str, allow_non_loopback: bool) -> None:
    """Refuse a non-loopback bind address unless explicitly allowed."""
    if allow_non_loopback or host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise NonLoopbackBind(f"refusing to bind the emulator to {host!r}: it is not a loopback "
                              "address (pass allow_non_loopback / --allow-non-loopback to insist)")


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        # uvicorn writes headers and body separately; with Nagle on, the client's delayed ACK
        # stalls every response by ~40 ms. Accepted sockets inherit the option.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(128)  # connections queue from here on, before uvicorn starts accepting
    except OSError:
        sock.close()
        raise
    return sock


@dataclass
class _Listener:
    """One uvicorn server of the emulator's app on its own socket, run by its own thread."""

    server: uvicorn.Server
    socket: socket.socket
    thread: threading.Thread | None = None


class EmulatorServer:
    """One emulator on its own port; `start()` returns its base URL once it answers.

    With `tls` it serves HTTPS under Entra's host names (a browser maps them to `port`).
    `rp_id`/`origins` replace Entra's RP ID and origins for the browser's `http://localhost`
    fallback; `rp_id="localhost"` alone means this server's own `http://localhost:<port>`,
    since with port 0 the caller cannot know the origin before the server binds.
    `as_of`/`cloud` are the rule book it starts with (and a reset returns to): `as_of` None
    decides by the emulator clock's date.
    `tenant_id` and `applications` are the tenant's token service (with an application
    registered, Graph's admin calls need its token); `faithful` leaves the emulator's decision
    annotations out of answers, as a real tenant answers.
    """

    def __init__(self, db: str = ":memory:", port: int = 0, metadata: Metadata | None = None, *,
                 host: str = "127.0.0.1", allow_non_loopback: bool = False,
                 tls: TestTls | None = None, rp_id: str | None = None,
                 origins: tuple[str, ...] | None = None, as_of: date | None = None,
                 cloud: Cloud = Cloud.WORLDWIDE, tenant_id: str = DEFAULT_TENANT_ID,
                 applications: Iterable[Application] = (), faithful: bool = False) -> None:
        check_bind(host, allow_non_loopback)
        self.db, self.metadata, self.host, self.tls = db, metadata, host, tls
        self.rp_id, self.origins = rp_id, origins
        self.rule_book = RuleBookSetting(as_of, cloud)
        self.options = Options(annotations=not faithful)
        self.identity = Identity(tenant_id)
        for app in applications:
            self.identity.register(app)
        self._port = port
        self.store: Store | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._plain: _Listener | None = None  # the API's plain-HTTP twin of a TLS emulator
        self._app: Starlette | None = None

    @property
    def port(self) -> int:
        """The bound port while running (what host rules map to), else the one asked for."""
        return self._socket.getsockname()[1] if self._socket is not None else self._port

    @property
    def base_url(self) -> str:
        if self._socket is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._socket.getsockname()[:2]
        scheme = "https" if self.tls else "http"
        return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"

    @property
    def api_url(self) -> str:
        """Where a non-browser client (the ctap and Graph-path ceremonies) reaches the same
        emulator: in a thread, a TLS emulator also answers plain HTTP on another loopback
        port, since TLS cost each ctap case about 0.5 ms of CPU on both ends and protects
        nothing on loopback; the browser keeps the TLS port, as WebAuthn at Entra's origins
        needs a secure context. Without TLS, or in the foreground, it is `base_url`."""
        if self._plain is None:
            return self.base_url
        host, port = self._plain.socket.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def authority(self) -> str:
        """The tenant's OAuth authority, as msal takes it."""
        return f"{self.base_url}/{self.identity.tenant_id}"

    def write_ca(self, path: Path | str) -> Path:
        """The test TLS CA as a PEM file, for clients that take a CA file (requests, msal)."""
        if self.tls is None:
            raise RuntimeError("the emulator serves no TLS (pass tls=TestTls())")
        path = Path(path)
        path.write_bytes(self.tls.ca.pem)
        return path

    @property
    def spki_pin(self) -> str | None:
        """The pin a browser trusts the test certificate by; None without TLS."""
        return self.tls.spki_pin() if self.tls is not None else None

    def _relying_party(self) -> tuple[str, tuple[str, ...]]:
        rp_id = self.rp_id or RP_ID
        if self.origins is not None:
            return rp_id, self.origins
        if rp_id == "localhost":
            return rp_id, (f"http://localhost:{self.port}",)
        return rp_id, ALLOWED_ORIGINS

    def _config(self, app: Starlette, tls: TestTls | None) -> uvicorn.Config:
        config_for = partial(uvicorn.Config, app, log_level="warning", access_log=False,
                             lifespan="off")
        if tls is None:
            return config_for()
        # uvicorn reads the key from files: load the SSL context now, so they go at once
        with tempfile.TemporaryDirectory(prefix="pkconf-tls-") as directory:
            certfile, keyfile = tls.write(directory)
            config = config_for(ssl_certfile=str(certfile), ssl_keyfile=str(keyfile))
            config.load()
        return config

    def _prepare(self) -> tuple[uvicorn.Server, socket.socket]:
        """Bind first (so a busy port fails here, synchronously), then build the server."""
        sock = _listen(self.host, self._port)
        try:
            store = Store(self.db, self.rule_book, self.options)
        except BaseException:
            sock.close()
            raise
        self._socket, self.store = sock, store
        try:
            rp_id, origins = self._relying_party()
            self._app = create_app(store, self.metadata, rp_id=rp_id, origins=origins,
                                   identity=self.identity)
            self._server = uvicorn.Server(self._config(self._app, self.tls))
        except BaseException:
            self._close()
            raise
        return self._server, sock

    def start(self) -> str:
        server, sock = self._prepare()
        listeners = [_Listener(server, sock)]
        if self.tls is not None:
            try:
                assert self._app is not None  # built by _prepare
                self._plain = _Listener(uvicorn.Server(self._config(self._app, None)),
                                        _listen(self.host, 0))
            except BaseException:
                self._close()
                raise
            listeners.append(self._plain)
        for listener in listeners:
            listener.thread = threading.Thread(
                target=listener.server.run, kwargs={"sockets": [listener.socket]},
                name="pkconf-emulator", daemon=True)
            listener.thread.start()
        self._thread = listeners[0].thread
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not all(listener.server.started for listener in listeners):
            if (not all(listener.thread is not None and listener.thread.is_alive()
                        for listener in listeners) or time.monotonic() > deadline):
                self.stop()
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)
        return self.base_url

    def serve_forever(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Run in this thread until interrupted (uvicorn handles SIGINT/SIGTERM here)."""
        server, sock = self._prepare()
        if on_ready is not None:
            on_ready(self.base_url)
        try:
            server.run(sockets=[sock])
        finally:
            self._close()

    def stop(self) -> None:
        plain = self._plain
        for server in (self._server, plain.server if plain else None):
            if server is not None:
                server.should_exit = True
        for thread in (self._thread, plain.thread if plain else None):
            if thread is not None:
                thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
        self._thread = None
        self._close()

    def _close(self) -> None:
        if self._plain is not None:
            self._plain.socket.close()
            self._plain = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self.store is not None:
            self.store.close()
            self.store = None
        self._server = None

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
