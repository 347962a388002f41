"""Running the emulator: uvicorn in a background thread (tests, the suite) or in the foreground.

The emulator accepts any registration its policy allows and hands out sessions without
passwords, so it binds to loopback unless the caller explicitly opts out.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

import uvicorn

from .attestation import Metadata
from .service import create_app
from .store import Store

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


class EmulatorServer:
    """One emulator on its own port; `start()` returns its base URL once it answers."""

    def __init__(self, db: str = ":memory:", port: int = 0, metadata: Metadata | None = None, *,
                 host: str = "127.0.0.1", allow_non_loopback: bool = False) -> None:
        check_bind(host, allow_non_loopback)
        self.db, self.port, self.metadata, self.host = db, port, metadata, host
        self.store: Store | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def base_url(self) -> str:
        if self._socket is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._socket.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def _prepare(self) -> tuple[uvicorn.Server, socket.socket]:
        """Bind first (so a busy port fails here, synchronously), then build the server."""
        sock = _listen(self.host, self.port)
        try:
            store = Store(self.db)
        except BaseException:
            sock.close()
            raise
        self._socket, self.store = sock, store
        config = uvicorn.Config(create_app(self.store, self.metadata), log_level="warning",
                                access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        return self._server, sock

    def start(self) -> str:
        server, sock = self._prepare()
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                        name="pkconf-emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
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
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
            self._thread = None
        self._close()

    def _close(self) -> None:
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
