"""`pkconf serve`: run the Entra emulator in the foreground until interrupted."""

from __future__ import annotations

import argparse
import os
import sqlite3
import uuid
from urllib.parse import urlsplit

from ..emulator.oauth import DEFAULT_TENANT_ID, Application
from ..emulator.server import EmulatorServer, NonLoopbackBind, check_bind
from ..emulator.tls import TLS_HOSTS, TestTls
from ..inputs import UsageError, read_bytes, read_cloud, read_day, read_metadata
from .common import add_rule_book_arguments

HELP = "run the embedded Entra emulator (Graph-shaped passkey endpoints) on a local port"
SECRET_VARIABLE = "PKCONF_CLIENT_SECRET"  # a secret never goes on a command line


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="bind address (loopback only by default)")
    p.add_argument("--port", type=int, default=8080, help="TCP port (0 picks a free one)")
    p.add_argument("--db", default=":memory:", metavar="FILE|:memory:",
                   help="SQLite state; a file survives restarts")
    p.add_argument("--allow-non-loopback", action="store_true",
                   help="allow a bind address other than loopback (the emulator has no auth)")
    p.add_argument("--mds", metavar="BLOB",
                   help="a FIDO MDS3 BLOB to verify attestation (default: the suite's test BLOB)")
    p.add_argument("--mds-root", metavar="PEM", help="the root certificate the BLOB chains to")
    add_rule_book_arguments(p, as_of_help="decide by the rule book as of this day, YYYY-MM-DD "
                                          "(default: the emulator clock's date; "
                                          "PUT /_emulator/ruleBook changes it)")
    p.add_argument("--tenant-id", default=DEFAULT_TENANT_ID, metavar="GUID",
                   help=f"the emulated tenant's id, in its OAuth authority (default "
                        f"{DEFAULT_TENANT_ID})")
    p.add_argument("--app", metavar="CLIENT_ID",
                   help=f"register a confidential client with every Graph permission the "
                        f"suite uses; its secret comes from ${SECRET_VARIABLE}. Graph's admin "
                        f"calls then need its token (msal needs --tls)")
    p.add_argument("--app-certificate", metavar="PEM",
                   help="the --app's certificate, for a signed client assertion")
    p.add_argument("--faithful", action="store_true",
                   help="answer as a real tenant does: no @pkconf.decision or pkconfDecision "
                        "annotations (PUT /_emulator/options changes it)")
    browser = p.add_mutually_exclusive_group()
    browser.add_argument("--tls", action="store_true",
                         help="serve HTTPS for login.microsoft.com and mysignins.microsoft.com "
                              "with the test CA; prints the Chromium flags that trust it")
    p.add_argument("--write-ca", metavar="FILE",
                   help="with --tls: write the test CA's certificate (PEM) here, for a client's "
                        "--ca-file (pkconf run --target graph, msal, curl --cacert)")
    browser.add_argument("--insecure-localhost", action="store_true",
                         help="RP ID localhost and origin http://localhost:<port>, for a browser "
                              "that cannot use the TLS hosts")


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a TCP port")
    try:
        check_bind(args.host, args.allow_non_loopback)
    except NonLoopbackBind as e:
        raise UsageError(str(e)) from None
    try:
        tenant_id = str(uuid.UUID(args.tenant_id))
    except ValueError:
        raise UsageError(f"--tenant-id {args.tenant_id!r} is not a GUID") from None
    if args.write_ca and not args.tls:
        raise UsageError("--write-ca goes with --tls (plain HTTP has no CA)")
    server = EmulatorServer(args.db, args.port, read_metadata(args.mds, args.mds_root),
                            host=args.host, allow_non_loopback=args.allow_non_loopback,
                            tls=TestTls() if args.tls else None,
                            rp_id="localhost" if args.insecure_localhost else None,
                            as_of=None if args.as_of is None else read_day(args.as_of,
                                                                           "--as-of"),
                            cloud=read_cloud(args.cloud), tenant_id=tenant_id,
                            applications=_applications(args), faithful=args.faithful)
    if args.write_ca:
        try:
            server.write_ca(args.write_ca)
        except OSError as e:
            raise UsageError(f"cannot write --write-ca {args.write_ca}: "
                             f"{e.strerror or e}") from None
    try:
        server.serve_forever(on_ready=lambda url: print(_ready(server, url), flush=True))
    except OSError as e:
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {e.strerror or e}") from None
    except sqlite3.Error as e:
        raise UsageError(f"cannot use database {args.db}: {e}") from None
    return 0


def _applications(args: argparse.Namespace) -> list[Application]:
    """The --app, its secret from the environment and/or its --app-certificate."""
    if args.app is None:
        if args.app_certificate:
            raise UsageError("--app-certificate needs --app CLIENT_ID")
        return []
    secret = os.environ.get(SECRET_VARIABLE) or None
    pem = read_bytes(args.app_certificate, "--app-certificate") if args.app_certificate else None
    if secret is None and pem is None:
        raise UsageError(f"--app {args.app} needs a secret in ${SECRET_VARIABLE} or "
                         "--app-certificate PEM")
    try:
        return [Application.create(args.app, secret=secret, certificate_pem=pem)]
    except ValueError as e:
        raise UsageError(f"--app {args.app}: {e}") from None


def _ready(server: EmulatorServer, url: str) -> str:
    """Where the emulator listens, for a browser how to reach its pages, and whose rules it
    decides by."""
    lines = [f"pkconf emulator on {url}"]
    if server.tls is not None:
        rules = ", ".join(f"MAP {host} {urlsplit(url).netloc}" for host in TLS_HOSTS)
        lines += ["Security info: https://mysignins.microsoft.com/security-info, with Chromium "
                  "flags:",
                  f"  --host-rules={rules}",
                  f"  --ignore-certificate-errors-spki-list={server.tls.spki_pin()}"]
    elif server.rp_id == "localhost":
        lines.append(f"Security info: http://localhost:{server.port}/security-info")
    for app in server.identity.applications.values():
        lines.append(f"Tenant {server.identity.tenant_id}: authority {server.authority}, "
                     f"application {app.client_id} (Graph's admin calls need its token)")
    book = server.rule_book
    day = book.as_of or "the emulator clock's date"
    lines.append(f"Rule book: as of {day}, {book.cloud} (/_emulator/ruleBook changes it)")
    return "\n".join(lines)
