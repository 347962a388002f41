"""Durability of `pkconf serve --db FILE` under concurrent writers and kill -9 (issue 14).

Writers create users and provision a passkey for each, concurrently, while the server is
killed with SIGKILL mid-write; it is restarted on the same file, three times over. Every write
that was acknowledged (a 2xx received) must still be there after each restart, nothing may
answer 5xx while it runs, and SQLite's integrity check of the file must say ok.
"""

from __future__ import annotations

import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from fido2.utils import websafe_decode

from tests.tenant.builders import make_response

WRITERS = 6
ROUNDS = 3
WRITE_SECONDS = 1.5  # writes after the first WRITERS acks, before the kill: all mid-flight
START_TIMEOUT = 60


@contextmanager
def serve(db: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`pkconf serve --db db --port 0` and its URL; killed (SIGKILL) on the way out if alive."""
    proc = subprocess.Popen([sys.executable, "-m", "pkconf", "serve", "--port", "0", "--db",
                             str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            ready = sel.select(START_TIMEOUT)
        line = proc.stdout.readline() if ready else ""
        assert line.startswith("pkconf emulator on "), (
            f"no ready line in {START_TIMEOUT} s: {line!r} {proc.poll()}")
        yield proc, line.split()[-1]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@dataclass
class Acknowledged:
    """What the server said it stored, and any answer that was a server error."""

    users: dict[str, str] = field(default_factory=dict)  # id -> userPrincipalName
    passkeys: list[tuple[str, str]] = field(default_factory=list)  # (user id, method id)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def writer(url: str, name: str, acked: Acknowledged, stop: threading.Event) -> None:
    """Create a user, provision a passkey for it, again, until stopped or the server is gone."""
    with httpx.Client(base_url=url, timeout=10) as client:
        i = 0
        while not stop.is_set():
            i += 1
            upn = f"{name}-{i}-{time.monotonic_ns()}@contoso.test"
            try:
                r = client.post("/v1.0/users", json={"userPrincipalName": upn,
                                                     "displayName": upn})
                if not _ok(r, acked, 201):
                    continue
                user_id = r.json()["id"]
                with acked.lock:
                    acked.users[user_id] = upn
                base = f"/v1.0/users/{user_id}/authentication/fido2Methods"
                options = client.get(f"{base}/creationOptions")
                if not _ok(options, acked, 200):
                    continue
                challenge = websafe_decode(options.json()["publicKey"]["challenge"])
                r = client.post(base, json={"publicKeyCredential": make_response(
                    challenge=challenge, credential_id=os.urandom(16))})
                if _ok(r, acked, 201):
                    with acked.lock:
                        acked.passkeys.append((user_id, r.json()["id"]))
            except httpx.TransportError:
                return  # the server was killed: this writer's work is done


def _ok(r: httpx.Response, acked: Acknowledged, expected: int) -> bool:
    if r.status_code != expected:
        with acked.lock:
            acked.errors.append(f"{r.request.method} {r.request.url.path}: {r.status_code} "
                                f"{r.text[:200]}")
    return r.status_code == expected


def missing(url: str, acked: Acknowledged) -> list[str]:
    """Every acknowledged write the server no longer has."""
    lost = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for user_id, upn in acked.users.items():
            r = client.get(f"/v1.0/users/{user_id}")
            if r.status_code != 200 or r.json().get("userPrincipalName") != upn:
                lost.append(f"user {user_id} ({upn}): {r.status_code}")
        for user_id, method_id in acked.passkeys:
            r = client.get(f"/v1.0/users/{user_id}/authentication/fido2Methods/{method_id}")
            if r.status_code != 200:
                lost.append(f"passkey {method_id} of {user_id}: {r.status_code}")
    return lost


def test_acknowledged_writes_survive_kill_9_mid_write_and_the_file_stays_intact(
        tmp_path: Path) -> None:
    db = tmp_path / "emulator.sqlite"
    acked = Acknowledged()
    for round_ in range(1, ROUNDS + 1):
        with serve(db) as (proc, url):
            assert missing(url, acked) == [], f"lost before round {round_}"
            before = len(acked.users)
            stop = threading.Event()
            threads = [threading.Thread(target=writer, args=(url, f"w{round_}-{k}", acked, stop))
                       for k in range(WRITERS)]
            for t in threads:
                t.start()
            flowing = time.monotonic() + START_TIMEOUT  # a loaded machine is slow to begin
            while len(acked.users) - before < WRITERS and time.monotonic() < flowing:
                time.sleep(0.05)
            time.sleep(WRITE_SECONDS)
            os.kill(proc.pid, signal.SIGKILL)  # mid-write: every writer has a request in flight
            proc.wait(10)
            stop.set()
            for t in threads:
                t.join(30)
            assert not any(t.is_alive() for t in threads)
            assert len(acked.users) > before, "the writers wrote nothing before the kill"
    assert acked.errors == []
    with sqlite3.connect(db) as check:  # opened after a kill: the hot journal is rolled back
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with serve(db) as (proc, url):
        assert missing(url, acked) == []
        proc.terminate()
    assert len(acked.passkeys) > 0
    print(f"durability: {ROUNDS} kill -9 rounds, {WRITERS} writers, {len(acked.users)} users "
          f"and {len(acked.passkeys)} passkeys acknowledged, 0 lost, integrity ok")
