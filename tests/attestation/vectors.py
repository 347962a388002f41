"""The real captured registrations (shared/vectors), as pytest parameters that skip when absent."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from fido2.webauthn import AttestationObject

from pkconf.paths import shared_vectors

VECTORS_FILE = shared_vectors() / "real_registrations.json"
# SimpleWebAuthn's SafetyNet capture with ctsProfileMatch=false: the one documented negative.
CTS_NEGATIVE_NOTE = "Negative vector"

Vector = dict[str, Any]


@cache
def load() -> tuple[Vector, ...]:
    if not VECTORS_FILE.is_file():
        return ()
    return tuple(json.loads(VECTORS_FILE.read_text()))


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
    """One parameter per selected vector, id'd by index and format; a skip when none exist."""
    vectors = load()
    if not vectors:
        return [pytest.param(None, marks=pytest.mark.skip(
            reason=f"real vectors not found at {VECTORS_FILE} (set PKCONF_VECTORS)"))]
    return [pytest.param(v, id=f"{i:02d}-{v['format']}") for i, v in enumerate(vectors)
            if select(v)]
