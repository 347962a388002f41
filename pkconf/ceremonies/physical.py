"""Registering with a physical key: the software keys' client path, a person at the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fido2.client import UserInteraction
from fido2.ctap import CtapDevice
from fido2.webauthn import PublicKeyCredentialCreationOptions, RegistrationResponse

from ..authenticators.physical import ConsoleInteraction
from .client import register


def register_with_key(device: CtapDevice,
                      options: PublicKeyCredentialCreationOptions | Mapping[str, Any],
                      origin: str, *, interaction: UserInteraction | None = None
                      ) -> RegistrationResponse:
    """Register on a physical key, prompting the person for the touch and the PIN."""
    return register(device, options, origin, user_interaction=interaction or ConsoleInteraction())
