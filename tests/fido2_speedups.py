"""What the speed-up tests share: fido2 structures made comparable, and the process-wide
speed-ups left as each test found them (the plugin turns them on for the whole run)."""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import fido2.utils
import pytest
from fido2.utils import websafe_encode

from pkconf.ceremonies.speedups import disable_fido2_speedups, enable_fido2_speedups

ORIGIN = "https://login.microsoft.com"
OPTIONS = {  # Entra's registration options (entra-facts §7.1), with a fixed challenge
    "rp": {"id": "login.microsoft.com", "name": "Microsoft"},
    "user": {"id": websafe_encode(b"user-1"), "name": "adele@contoso.com",
             "displayName": "Adele Vance"},
    "challenge": websafe_encode(bytes(range(32))),
    "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
    "timeout": 60000,
    "excludeCredentials": [{"type": "public-key", "id": websafe_encode(b"\x01" * 32),
                            "transports": ["usb", "nfc"]}],
    "authenticatorSelection": {"residentKey": "required", "requireResidentKey": True,
                               "userVerification": "required"},
    "attestation": "direct",
    "extensions": {"credProps": True, "hmacCreateSecret": True},
}


def plain(value: Any) -> Any:
    """A fido2 structure as plain dicts and lists, through its Mapping view (the field keys)."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(v) for v in value]
    return value


def _on() -> bool:
    return fido2.utils.get_type_hints is not typing.get_type_hints


@pytest.fixture(autouse=True)
def keep_speedups_setting() -> Iterator[None]:
    """Each test leaves the speed-ups on or off as it found them."""
    was_on = _on()
    yield
    if was_on:
        enable_fido2_speedups()
    else:
        disable_fido2_speedups()
