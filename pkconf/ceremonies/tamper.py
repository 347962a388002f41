"""Deliberate damage to a registration response on the wire, for ceremony-integrity cases.

Each tamper changes one thing a relying party must check (WebAuthn §7.1) and nothing else; the
attestation signature is left as it was, so a tampered response is exactly what an attacker or a
broken client would send.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from copy import deepcopy
from hashlib import sha256
from typing import Any

from fido2 import cbor
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import AuthenticatorData

Credential = dict[str, Any]  # the registration response JSON (PublicKeyCredential.toJSON())


def _client_data(credential: Credential, **changes: Any) -> Credential:
    out = deepcopy(credential)
    data = json.loads(websafe_decode(out["response"]["clientDataJSON"]))
    out["response"]["clientDataJSON"] = websafe_encode(
        json.dumps({**data, **changes}, separators=(",", ":")).encode())
    return out


def _auth_data(credential: Credential, change: Callable[[bytearray], None]) -> Credential:
    out = deepcopy(credential)
    att = cbor.decode(websafe_decode(out["response"]["attestationObject"]))
    auth_data = bytearray(att["authData"])
    change(auth_data)
    att["authData"] = bytes(auth_data)
    out["response"]["attestationObject"] = websafe_encode(cbor.encode(att))
    return out


def _clear_flag(flag: int) -> Callable[[bytearray], None]:
    def clear(auth_data: bytearray) -> None:
        auth_data[32] &= ~flag & 0xFF  # the flags byte follows the 32-byte rpIdHash

    return clear


def _rp_id_hash(rp_id: str) -> Callable[[bytearray], None]:
    def replace(auth_data: bytearray) -> None:
        auth_data[:32] = sha256(rp_id.encode()).digest()

    return replace


def with_challenge(credential: Credential, challenge: bytes) -> Credential:
    """The same credential under another challenge (a replay into a new ceremony)."""
    return _client_data(credential, challenge=websafe_encode(challenge))


TAMPERS: dict[str, Callable[[Credential], Credential]] = {
    "tamper-type": lambda c: _client_data(c, type="webauthn.get"),
    "tamper-challenge": lambda c: with_challenge(c, b"\x00" * 32),
    "tamper-origin": lambda c: _client_data(c, origin="https://login.microsoftonline.evil"),
    "tamper-rp-id": lambda c: _auth_data(c, _rp_id_hash("microsoft.com")),
    "clear-uv": lambda c: _auth_data(c, _clear_flag(AuthenticatorData.FLAG.UV)),
    "clear-up": lambda c: _auth_data(c, _clear_flag(AuthenticatorData.FLAG.UP)),
    "cred-props-not-rk": lambda c: {**deepcopy(c), "clientExtensionResults": {
        **c.get("clientExtensionResults", {}), "credProps": {"rk": False}}},
}
