"""Median time of one browser registration on Security info, by how much browser is reused.

    .venv/bin/python benchmarks/bench_browser.py [--runs 15] [--authenticator bridge cdp]

One emulator over the test TLS, one Chromium. Rows, from least to most reuse:
- fresh browser: launch Chromium, then a context and the whole flow (a few runs only);
- context per case: `register_browser` with reuse off (`PKCONF_BROWSER_REUSE=0`);
- reused: `register_browser` as the suite calls it (one context and page while cases fit;
  a new authenticator and user each time, the page started over in place);
- create() only: navigator.credentials.create() on a loaded page, no page flow or tenant.
Prints figures only (stack-notes: 230-330 ms for a fresh page and create(); goal <= 60 ms for
a reused one); nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies.browser import BrowserCase, BrowserSession, register_browser
from pkconf.ceremonies.ctap import Setup
from pkconf.ceremonies.speedups import enable_fido2_speedups
from pkconf.ceremonies.tenant import TenantApi
from pkconf.emulator.server import EmulatorServer
from pkconf.emulator.store import default_policy
from pkconf.emulator.tls import TestTls

PROFILE = PROFILES["yubikey-5-usb"]
SETUP = Setup(policy=default_policy())
CREATE = """async () => {
  const b = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  await navigator.credentials.create({publicKey: {
    rp: {id: "login.microsoft.com", name: "Microsoft"},
    user: {id: crypto.getRandomValues(new Uint8Array(16)), name: "bench", displayName: "Bench"},
    challenge: b("bench-challenge-0"), timeout: 10000, attestation: "direct",
    pubKeyCredParams: [{type: "public-key", alg: -7}, {type: "public-key", alg: -257}],
    authenticatorSelection: {requireResidentKey: true, userVerification: "required"}}});
}"""


def _median_ms(run: Callable[[], object], runs: int) -> float:
    run()  # warm up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _forget_credentials(case: BrowserCase) -> None:
    """Empty the case's authenticator, as a new one would be (CDP's holds 3 resident keys)."""
    if case.cdp is not None:
        case.cdp.send("WebAuthn.clearCredentials", {"authenticatorId": case.authenticator_id})
    if case.bridge is not None:
        case.bridge.device.credentials.clear()


def _accepted(result_reason: str) -> None:
    if result_reason != "ACCEPTED":
        raise SystemExit(f"the benchmark's registration was refused: {result_reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="measured runs per row")
    parser.add_argument("--authenticator", nargs="+", default=["bridge", "cdp"],
                        choices=["bridge", "cdp"])
    args = parser.parse_args()
    enable_fido2_speedups()  # as `pkconf run`: the emulator parses with fido2 in process
    tls = TestTls()
    with EmulatorServer(tls=tls) as server, \
            TenantApi(server.base_url, verify=tls.client_context()) as api, \
            BrowserSession.for_server(server, reuse=True) as session, \
            BrowserSession.for_server(server, reuse=False,
                                      playwright=session.playwright) as per_case:

        def fresh_browser(kind: str) -> None:
            with BrowserSession.for_server(server, playwright=session.playwright) as fresh:
                flow(fresh, kind)

        def flow(on: BrowserSession, kind: str) -> None:
            result = register_browser(on, api, PROFILE, SETUP, authenticator=kind)
            _accepted(result.decision.reason)

        print(f"{PROFILE.name}, median of {args.runs} runs (ms)")
        print(f"{'authenticator':<14} {'fresh browser':>14} {'context/case':>13} "
              f"{'reused':>7} {'create() only':>14}")
        for kind in args.authenticator:
            fresh = _median_ms(lambda k=kind: fresh_browser(k), max(3, args.runs // 5))
            separate = _median_ms(lambda k=kind: flow(per_case, k), args.runs)
            reused = _median_ms(lambda k=kind: flow(session, k), args.runs)
            case = session.last
            assert case is not None

            def create(c: BrowserCase = case) -> None:
                _forget_credentials(c)
                c.page.evaluate(CREATE)

            created = _median_ms(create, args.runs)
            print(f"{kind:<14} {fresh:>14.0f} {separate:>13.0f} {reused:>7.0f} {created:>14.0f}")

if __name__ == "__main__":
    main()
