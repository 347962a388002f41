"""The real captured registrations (tests/vectors) as attestation inputs and pytest parameters."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from fido2.webauthn import AttestationObject

from tests.vectors import Vector
from tests.vectors import vectors as load

# SimpleWebAuthn's SafetyNet capture with ctsProfileMatch=false: the one documented negative.
CTS_NEGATIVE_NOTE = "Negative vector"


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def attestation_bytes(v: Vector) -> bytes:
    return b64url(v["credential"]["response"]["attestationObject"])


def attestation_object(v: Vector) -> AttestationObject:
    return AttestationObject(attestation_bytes(v))


def client_data_hash(v: Vector) -> bytes:
    return hashlib.sha256(b64url(v["credential"]["response"]["clientDataJSON"])).digest()


def is_cts_negative(v: Vector) -> bool:
    return v["format"] == "android-safetynet" and v["notes"].startswith(CTS_NEGATIVE_NOTE)


def params(select: Callable[[Vector], bool] = lambda v: True) -> list[Any]:
    """One parameter per selected vector, id'd by index and format."""
    return [pytest.param(v, id=f"{i:02d}-{v['format']}") for i, v in enumerate(load())
            if select(v)]
