"""Registrations per second, in process, per profile family: pkconf's client path against
python-fido2's own client round trip, each with the fido2 speed-ups off and on, in one run.

    .venv/bin/python benchmarks/bench_software_registration.py [--seconds 0.5]

The speed-ups (`pkconf.ceremonies.speedups`) memoize python-fido2's type hints and field keys
for the whole process, so they are switched off and on around the measurements; `x` is the
pkconf path with them on over python-fido2's own client without them. Prints figures only;
nothing here asserts a time (the goal is >= 1,000/s for ES256 packed on the pkconf path).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.server import Fido2Server
from fido2.webauthn import (
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
)

from pkconf.authenticators.device import SoftwareAuthenticator
from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies.client import register
from pkconf.ceremonies.speedups import disable_fido2_speedups, enable_fido2_speedups

ORIGIN = "https://login.microsoft.com"
FAMILIES = {  # family -> a profile of it
    "es256-packed-full": "microsoft-authenticator-ios",  # built-in UV
    "es256-packed-pin": "yubikey-5-usb",  # UV by client PIN: a PIN token per ceremony
    "rs256-tpm": "windows-hello-hardware",  # dominated by RSA-2048 key generation
    "es256-none-synced": "google-password-manager",
    "es256-android-key": "pixel-android-key",
}


class _Pin(UserInteraction):
    def __init__(self, pin: str | None):
        self.pin = pin

    def request_pin(self, permissions, rp_id) -> str | None:
        return self.pin


def _options() -> PublicKeyCredentialCreationOptions:
    """Entra-like options: ES256 then RS256, resident key and UV required, direct."""
    server = Fido2Server(PublicKeyCredentialRpEntity(id="login.microsoft.com", name="Microsoft"),
                         attestation="direct")
    options, _ = server.register_begin(
        PublicKeyCredentialUserEntity(id=b"bench", name="bench@contoso.com"),
        resident_key_requirement="required", user_verification="required")
    return options.public_key


def _rate(register: Callable[[], object], seconds: float) -> float:
    register()  # warm up: first-use caches, certificate building
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        register()
        count += 1
    return count / elapsed


def _rates(name: str, options: PublicKeyCredentialCreationOptions,
           seconds: float) -> tuple[float, float]:
    """(python-fido2's client, pkconf's path), each on a fresh authenticator of the profile."""
    device = SoftwareAuthenticator(PROFILES[name])
    client = Fido2Client(device, DefaultClientDataCollector(ORIGIN), _Pin(device.pin))
    fido2_rate = _rate(lambda: client.make_credential(options), seconds)
    device = SoftwareAuthenticator(PROFILES[name])
    return fido2_rate, _rate(lambda: register(device, options, ORIGIN), seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    seconds = parser.parse_args().seconds
    options = _options()
    for name in FAMILIES.values():  # unmeasured: first-use costs such as the RSA key pool
        _rates(name, options, seconds)

    print(f"{'':<49} {'fido2 client/s':>17} {'pkconf/s':>17}")
    print(f"{'family':<20} {'profile':<28} {'off':>8} {'on':>8} {'off':>8} {'on':>8} {'x':>6}")
    for family, name in FAMILIES.items():
        disable_fido2_speedups()
        fido2_off, ours_off = _rates(name, options, seconds)
        if not enable_fido2_speedups():
            raise SystemExit("the fido2 speed-ups are unavailable here (see the warning)")
        fido2_on, ours_on = _rates(name, options, seconds)
        print(f"{family:<20} {name:<28} {fido2_off:>8.0f} {fido2_on:>8.0f} {ours_off:>8.0f} "
              f"{ours_on:>8.0f} {ours_on / fido2_off:>6.1f}")


if __name__ == "__main__":
    main()
