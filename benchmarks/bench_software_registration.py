"""Registrations per second, in process, per profile family: pkconf's client path against
python-fido2's own client round trip, measured in the same run.

    .venv/bin/python benchmarks/bench_software_registration.py [--seconds 0.5]

The baseline runs first, before `pkconf.ceremonies.client` is imported, because importing it
memoizes python-fido2's type hints and field keys for the whole process. Prints figures only;
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    seconds = parser.parse_args().seconds
    options = _options()

    baseline = {}
    for family, name in FAMILIES.items():
        device = SoftwareAuthenticator(PROFILES[name])
        client = Fido2Client(device, DefaultClientDataCollector(ORIGIN), _Pin(device.pin))
        baseline[family] = _rate(lambda c=client: c.make_credential(options), seconds)

    from pkconf.ceremonies.client import register  # applies the fido2 memoization

    print(f"{'family':<20} {'profile':<28} {'fido2 client/s':>15} {'pkconf/s':>10} {'x':>6}")
    for family, name in FAMILIES.items():
        device = SoftwareAuthenticator(PROFILES[name])
        ours = _rate(lambda d=device: register(d, options, ORIGIN), seconds)
        print(f"{family:<20} {name:<28} {baseline[family]:>15.0f} {ours:>10.0f} "
              f"{ours / baseline[family]:>6.1f}")


if __name__ == "__main__":
    main()
