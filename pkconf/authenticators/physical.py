"""Physical security keys: what is attached, and registering with one while a person is at it.

Registering with one is the same client path as for software keys (`ceremonies.physical`); only
the user interaction differs, and it lives here: the person is asked to touch the key, and the
PIN comes from `PKCONF_PIN` or, when that is unset, from a prompt that does not echo.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from fido2.client import UserInteraction
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin
from fido2.hid import CAPABILITY, CtapHidDevice

from .hid import attached_keys

PIN_ENV = "PKCONF_PIN"
U2F_AAGUID = "00000000-0000-0000-0000-000000000000"


class ConsoleInteraction(UserInteraction):
    """Talks to the person at the key on the terminal."""

    def __init__(self, *, out: TextIO | None = None,
                 ask: Callable[[str], str] = getpass.getpass):
        self._out = out
        self.ask = ask

    @property
    def out(self) -> TextIO:
        """The stream given, else stderr as it is when prompting (not as it was at import)."""
        return self._out or sys.stderr

    def prompt_up(self) -> None:
        print("Touch your security key now.", file=self.out, flush=True)

    def request_pin(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> str | None:
        return os.environ.get(PIN_ENV) or self.ask("PIN of your security key: ") or None

    def request_uv(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> bool:
        print("Verify yourself on the key (fingerprint or on-key PIN).", file=self.out,
              flush=True)
        return True


@dataclass(frozen=True)
class AttachedKey:
    """What a key says about itself in getInfo (a U2F-only key says only that)."""

    path: str
    product: str | None
    aaguid: str
    versions: tuple[str, ...]
    transports: tuple[str, ...]
    options: Mapping[str, bool]

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "product": self.product, "aaguid": self.aaguid,
                "versions": list(self.versions), "transports": list(self.transports),
                "options": dict(self.options)}


def describe(device: CtapHidDevice) -> AttachedKey:
    """Read a key's getInfo; a key without CTAP2 is reported as U2F."""
    path = device.descriptor.path
    path = path.decode(errors="replace") if isinstance(path, bytes) else path
    if not device.capabilities & CAPABILITY.CBOR:
        return AttachedKey(path, device.product_name, U2F_AAGUID, ("U2F_V2",), ("usb",), {})
    info = Ctap2(device).info
    return AttachedKey(path, device.product_name, str(info.aaguid), tuple(info.versions),
                       tuple(info.transports) or ("usb",), dict(info.options))


def attached() -> list[AttachedKey]:
    """Every FIDO key on this machine's USB HID, described."""
    return [describe(device) for device in attached_keys()]
