"""No secret a run creates leaks into what it leaves behind (issue 14).

A slice of the conformance suite that issues Temporary Access Passes (the BS-TAP cases, whose
users have `tap` in fixtures/users.toml) runs as `pkconf run` in a subprocess with a recorder
installed in every process of it, xdist workers included (a `sitecustomize` on PYTHONPATH that
calls `install_recorder`): it notes each TAP code the emulator's store issues and each
credential private key the software authenticators generate. The run's stdout and stderr, its
reports folder and its Allure results are then searched for every one of them, in every
encoding a log line or a report could carry.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ROOT = Path(__file__).resolve().parent.parent  # the checkout: `tests` imports from it
LOG_VARIABLE = "PKCONF_TEST_SECRETS_LOG"
SLICE = ["--case", "BS-TAP-*", "--ceremony", "ctap", "--ceremony", "graph", "--no-matrix"]


def install_recorder() -> None:
    """Record TAP codes (Store.add_tap) and credential keys (the authenticators' ALGORITHMS)
    to the file $PKCONF_TEST_SECRETS_LOG names, one JSON line each, from this process."""
    from pkconf.authenticators import device
    from pkconf.emulator.store import Store

    log = Path(os.environ[LOG_VARIABLE])

    def note(kind: str, value: str) -> None:
        with log.open("a") as out:
            out.write(json.dumps({"kind": kind, "value": value}) + "\n")

    add_tap = Store.add_tap

    def recording_add_tap(self: Store, *args: Any, **kwargs: Any) -> Any:
        tap = add_tap(self, *args, **kwargs)
        note("tap", tap.temporary_access_pass)
        return tap

    Store.add_tap = recording_add_tap  # type: ignore[method-assign]

    def recording(generate: Callable[[], Any]) -> Callable[[], Any]:
        def generate_and_note() -> Any:
            key = generate()
            note("key", key.private_bytes(serialization.Encoding.DER,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).hex())
            return key
        return generate_and_note

    for alg, algorithm in list(device.ALGORITHMS.items()):
        device.ALGORITHMS[alg] = dataclasses.replace(algorithm,
                                                     generate=recording(algorithm.generate))


def encodings(data: bytes) -> Iterator[str]:
    """`data` as a log or report could carry it: raw text, hex, base64 and base64url."""
    if data.isascii():
        yield data.decode()
    yield data.hex()
    yield data.hex().upper()
    yield base64.b64encode(data).decode().rstrip("=")
    yield base64.urlsafe_b64encode(data).decode().rstrip("=")


def key_forms(der_hex: str) -> Iterator[str]:
    """A private key's encodings: PKCS#8 and traditional DER and PEM, and its secret numbers."""
    key = serialization.load_der_private_key(bytes.fromhex(der_hex), None)
    for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        yield from encodings(key.private_bytes(serialization.Encoding.DER, fmt,
                                               serialization.NoEncryption()))
        pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
        yield pem.decode().splitlines()[1]  # the first body line: a wrapped PEM carries it whole
    if isinstance(key, ec.EllipticCurvePrivateKey):
        secrets = [key.private_numbers().private_value.to_bytes(32, "big")]
    else:
        assert isinstance(key, rsa.RSAPrivateKey)
        numbers = key.private_numbers()
        secrets = [n.to_bytes((n.bit_length() + 7) // 8, "big")
                   for n in (numbers.d, numbers.p, numbers.q)]
    for secret in secrets:
        yield from encodings(secret)


def leaks(secrets: dict[str, list[str]], places: dict[str, str]) -> list[str]:
    """Each (secret, place) where one of the secret's forms is found."""
    return [f"{name} in {where}" for name, forms in secrets.items()
            for where, text in places.items() if any(form in text for form in forms)]


def test_a_tap_issuing_run_leaks_no_tap_code_or_private_key(tmp_path: Path) -> None:
    hook, log, reports = tmp_path / "hook", tmp_path / "secrets.jsonl", tmp_path / "reports"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "from tests.test_secrets import install_recorder\ninstall_recorder()\n")
    env = {**os.environ, LOG_VARIABLE: str(log),
           "PYTHONPATH": os.pathsep.join([str(hook), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "pkconf", "run", *SLICE, "--no-html",
                           "--reports", str(reports)], env=env, cwd=ROOT, capture_output=True,
                          text=True, check=False, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    recorded = [json.loads(line) for line in log.read_text().splitlines()]
    taps = {r["value"] for r in recorded if r["kind"] == "tap"}
    keys = {r["value"] for r in recorded if r["kind"] == "key"}
    assert taps and keys, "the slice issued no TAP or made no key: the scan would prove nothing"
    secrets = {f"TAP {code}": list(encodings(code.encode())) for code in taps}
    secrets |= {f"key {der[-16:]}": list(key_forms(der)) for der in keys}

    places = {"stdout": done.stdout, "stderr": done.stderr}
    files = [p for p in reports.rglob("*") if p.is_file()]
    assert (reports / "allure-results").is_dir() and (reports / "results.jsonl").is_file()
    places |= {str(p.relative_to(reports)): p.read_bytes().decode("utf-8", "replace")
               for p in files}
    assert leaks(secrets, places) == []

    # The scan finds what it looks for: one of the keys, PEM-wrapped, and one TAP in a report.
    der = next(iter(keys))
    pem = serialization.load_der_private_key(bytes.fromhex(der), None).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    planted = {"planted.log": pem + json.dumps({"tap": next(iter(taps))})}
    assert len(leaks(secrets, planted)) == 2
    print(f"secrets: {len(taps)} TAP codes and {len(keys)} private keys, "
          f"{len(files)} report files and both logs scanned, 0 found")
