"""The ceremonies' one keep-alive connection to a tenant: reused while it lives, opened again
once the server has closed it, and every way of not reaching the tenant is a `TenantError` or,
for a URL no request can go to, a `TenantUrlError` — never a transport exception."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pkconf.ceremonies.tenant import TenantApi, TenantError, TenantUrlError
from pkconf.emulator.server import EmulatorServer
from pkconf.emulator.tls import TestTls


class _Counting(BaseHTTPRequestHandler):
    """Answers each request over HTTP/1.1 keep-alive and counts the connections it accepted;
    with `hang_up` it then closes the connection without saying so, as an idle timeout does."""

    protocol_version = "HTTP/1.1"
    connections = 0
    hang_up = False

    def setup(self) -> None:
        super().setup()
        type(self).connections += 1

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"now": "2026-11-29T00:00:00Z"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = self.hang_up

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads the counts, not the log."""


@pytest.fixture(params=[False, True], ids=["kept", "hung-up"])
def counting(request: pytest.FixtureRequest) -> Iterator[str]:
    _Counting.connections, _Counting.hang_up = 0, request.param
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_one_connection_serves_while_the_server_keeps_it_and_a_closed_one_is_opened_again(
        counting: str) -> None:
    with TenantApi(counting) as api:
        for _ in range(3):
            api.advance_clock(1)
            time.sleep(0.05)  # a server's close has reached the client's socket
    assert _Counting.connections == (3 if _Counting.hang_up else 1)


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"now\": 1",  # cut short
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",  # ambiguous
    b"not HTTP at all\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
], ids=["cut-short", "two-lengths", "not-http", "switching-protocols"])
def test_an_answer_that_is_not_a_whole_http_response_is_a_tenant_error(answer: bytes) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def answer_once() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(answer)

        thread = threading.Thread(target=answer_once, daemon=True)
        thread.start()
        with TenantApi(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=5) as api, \
                pytest.raises(TenantError, match="did not answer"):
            api.advance_clock(1)
        thread.join()


def test_a_tenant_that_does_not_answer_is_a_tenant_error() -> None:
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with TenantApi(f"http://127.0.0.1:{port}", timeout=2) as api, \
            pytest.raises(TenantError, match=rf"the tenant at http://127.0.0.1:{port} did not "):
        api.scenario({})


def test_an_https_tenant_is_trusted_only_as_verify_says(tls_emulator: EmulatorServer) -> None:
    assert tls_emulator.tls is not None
    with TenantApi(tls_emulator.base_url, verify=tls_emulator.tls.client_context()) as api:
        api.advance_clock(1)
    with TenantApi(tls_emulator.base_url, verify=False) as api:
        api.advance_clock(1)
    with TenantApi(tls_emulator.base_url) as api, \
            pytest.raises(TenantError, match="CERTIFICATE_VERIFY_FAILED"):
        api.advance_clock(1)


@pytest.mark.parametrize(("url", "says"), [
    ("htp://127.0.0.1:8000", "is not an http:// or https:// URL"),
    ("http://", "is not an http:// or https:// URL"),
    ("127.0.0.1:8000", "is not an http:// or https:// URL"),
    ("http://127.0.0.1:99999", "Port out of range"),
])
def test_a_url_no_request_can_go_to_is_refused_before_any_request(url: str, says: str) -> None:
    with pytest.raises(TenantUrlError, match=says):
        TenantApi(url)


def test_a_tls_emulator_serves_its_api_over_plain_loopback_http_with_the_same_state(
        tls_emulator: EmulatorServer) -> None:
    assert tls_emulator.tls is not None
    assert tls_emulator.api_url.startswith("http://127.0.0.1:")
    assert tls_emulator.api_url != tls_emulator.base_url.replace("https", "http")
    with TenantApi(tls_emulator.api_url) as plain, \
            TenantApi(tls_emulator.base_url, verify=tls_emulator.tls.client_context()) as tls:
        user = plain.scenario({"user": {"mfaAgeSeconds": 60}})["userId"]
        assert tls.sign_in(user)  # the user made through one listener is there for the other


def test_without_tls_the_api_url_is_the_base_url_and_stopping_closes_every_listener() -> None:
    with EmulatorServer() as plain:
        assert plain.api_url == plain.base_url
    server = EmulatorServer(tls=TestTls())
    server.start()
    api_url = server.api_url
    server.stop()
    with TenantApi(api_url, timeout=2) as api, pytest.raises(TenantError, match="did not answer"):
        api.advance_clock(1)
