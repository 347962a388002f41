"""Deliberate damage to a registration response on the wire, for ceremony and attestation cases.

Each tamper changes one thing a relying party must check (WebAuthn §7.1, or the attestation
statement it verifies) and nothing else; none re-signs the attestation statement, so a tampered
response is exactly what an attacker or a broken client would send.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from copy import deepcopy
from hashlib import sha256
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from fido2 import cbor
from fido2.cose import CoseKey, EdDSA
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import AttestedCredentialData, AuthenticatorData

from ..hosts import PAGES_ORIGIN

Credential = dict[str, Any]  # the registration response JSON (PublicKeyCredential.toJSON())


def _client_data(credential: Credential, **changes: Any) -> Credential:
    out = deepcopy(credential)
    data = json.loads(websafe_decode(out["response"]["clientDataJSON"]))
    out["response"]["clientDataJSON"] = websafe_encode(
        json.dumps({**data, **changes}, separators=(",", ":")).encode())
    return out


def _attestation_object(credential: Credential,
                        change: Callable[[dict[str, Any]], None]) -> Credential:
    out = deepcopy(credential)
    att = cbor.decode(websafe_decode(out["response"]["attestationObject"]))
    if not isinstance(att, dict):
        raise ValueError("the attestationObject is not a CBOR map")
    change(att)
    out["response"]["attestationObject"] = websafe_encode(cbor.encode(att))
    return out


def _auth_data(credential: Credential, change: Callable[[bytearray], None]) -> Credential:
    def edit(att: dict[str, Any]) -> None:
        auth_data = bytearray(att["authData"])
        change(auth_data)
        att["authData"] = bytes(auth_data)

    return _attestation_object(credential, edit)


def _clear_flag(flag: int) -> Callable[[bytearray], None]:
    def clear(auth_data: bytearray) -> None:
        auth_data[32] &= ~flag & 0xFF  # the flags byte follows the 32-byte rpIdHash

    return clear


def _backup_state_without_eligibility(auth_data: bytearray) -> None:
    """BS set, BE clear: a state WebAuthn §6.1 rules out."""
    auth_data[32] = (auth_data[32] | AuthenticatorData.FLAG.BS) & ~AuthenticatorData.FLAG.BE


def _extensions_array(att: dict[str, Any]) -> None:
    """The authenticator extensions (ED) as a CBOR array of what a map would hold, replacing
    any the authenticator sent; WebAuthn §6.1 wants a map."""
    auth_data = AuthenticatorData(att["authData"])
    bare = bytearray(AuthenticatorData.create(
        auth_data.rp_id_hash, auth_data.flags & ~AuthenticatorData.FLAG.ED, auth_data.counter,
        auth_data.credential_data or b""))
    bare[32] |= AuthenticatorData.FLAG.ED
    att["authData"] = bytes(bare) + cbor.encode(["credProtect", 1])


def _rp_id_hash(rp_id: str) -> Callable[[bytearray], None]:
    def replace(auth_data: bytearray) -> None:
        auth_data[:32] = sha256(rp_id.encode()).digest()

    return replace


# A fixed Ed25519 key: EdDSA (-8) is not among the algorithms creationOptions offers (-7, -257).
_EDDSA_PUBLIC_KEY = EdDSA.from_cryptography_key(ed25519.Ed25519PrivateKey.from_private_bytes(
    sha256(b"pkconf tamper-alg").digest()).public_key())


def _credential_key(new_key: Callable[[dict[int, Any]], dict[int, Any]]
                    ) -> Callable[[dict[str, Any]], None]:
    """Replace the credential public key in authData with `new_key(old)`; all else stays."""
    def replace(att: dict[str, Any]) -> None:
        auth_data = AuthenticatorData(att["authData"])
        cred = auth_data.credential_data
        if cred is None:
            raise ValueError("the response carries no attested credential data to tamper with")
        att["authData"] = bytes(AuthenticatorData.create(
            auth_data.rp_id_hash, auth_data.flags, auth_data.counter,
            AttestedCredentialData.create(cred.aaguid, cred.credential_id,
                                          CoseKey(new_key(dict(cred.public_key)))),
            auth_data.extensions))

    return replace


def _unusable(key: dict[int, Any]) -> dict[int, Any]:
    """The same algorithm, but a key no signature can verify: an EC point off the curve (y = 0),
    or an RSA modulus of 512 bits."""
    if key.get(1) == 2:
        return {**key, -3: bytes(32)}
    return {**key, -1: (2**511 + 1).to_bytes(64, "big")}


def _rsa_key(n: int, e: int) -> dict[int, Any]:
    """An RS256 COSE key (RFC 8230 §4) of the offered algorithm with the given modulus and
    exponent, whatever they are: what an authenticator with a broken key generator sends."""
    return {1: 3, 3: -257, -1: n.to_bytes((n.bit_length() + 7) // 8, "big"),
            -2: e.to_bytes((e.bit_length() + 7) // 8, "big")}


def _without(key: str) -> Callable[[dict[str, Any]], None]:
    """Drop one attStmt field."""
    def drop(att: dict[str, Any]) -> None:
        att["attStmt"] = {k: v for k, v in att["attStmt"].items() if k != key}

    return drop


def with_challenge(credential: Credential, challenge: bytes) -> Credential:
    """The same credential under another challenge (a replay into a new ceremony)."""
    return _client_data(credential, challenge=websafe_encode(challenge))


def _raw_client_data(credential: Credential, edit: Callable[[str], str]) -> Credential:
    """clientDataJSON rewritten as text: for what no JSON encoder writes (duplicate names,
    NaN, deep nesting)."""
    out = deepcopy(credential)
    text = websafe_decode(out["response"]["clientDataJSON"]).decode()
    out["response"]["clientDataJSON"] = websafe_encode(edit(text).encode())
    return out


def _duplicate_type(text: str) -> str:
    """`type` twice, the last one `webauthn.create`: a last-wins parser sees a valid type."""
    return '{"type":"webauthn.get",' + text[1:]


def _deep(text: str) -> str:
    """A member nested 5,000 arrays deep: a recursive parser's stack, not a JSON limit."""
    return text[:-1] + ',"x":' + "[" * 5000 + "]" * 5000 + "}"


TAMPERS: dict[str, Callable[[Credential], Credential]] = {
    "tamper-type": lambda c: _client_data(c, type="webauthn.get"),
    "tamper-challenge": lambda c: with_challenge(c, b"\x00" * 32),
    "tamper-origin": lambda c: _client_data(c, origin="https://login.microsoftonline.evil"),
    # made in a page another origin framed (WebAuthn §5.8.1): Entra's page is never framed
    "cross-origin": lambda c: _client_data(c, crossOrigin=True),
    "foreign-top-origin": lambda c: _client_data(c, topOrigin="https://login.microsoftonline.evil"),
    # the Security-info page's origin, which the emulator accepts only from its own page
    "pages-origin": lambda c: _client_data(c, origin=PAGES_ORIGIN),
    "tamper-rp-id": lambda c: _auth_data(c, _rp_id_hash("microsoft.com")),
    "clear-uv": lambda c: _auth_data(c, _clear_flag(AuthenticatorData.FLAG.UV)),
    "clear-up": lambda c: _auth_data(c, _clear_flag(AuthenticatorData.FLAG.UP)),
    "cred-props-not-rk": lambda c: {**deepcopy(c), "clientExtensionResults": {
        **c.get("clientExtensionResults", {}), "credProps": {"rk": False}}},
    # the credential key's alg is not one creationOptions offered (WebAuthn §7.1): what a
    # client passing on an authenticator that ignored pubKeyCredParams would send
    "tamper-alg": lambda c: _attestation_object(c, _credential_key(lambda _: _EDDSA_PUBLIC_KEY)),
    # the credential key has the offered algorithm but could never verify a sign-in
    "tamper-key": lambda c: _attestation_object(c, _credential_key(_unusable)),
    "bs-without-be": lambda c: _auth_data(c, _backup_state_without_eligibility),
    "extensions-not-a-map": lambda c: _attestation_object(c, _extensions_array),
    # RSA keys RFC 8017 §3.1 rules out at 2048 bits: an even modulus, an exponent not below n
    "rsa-even-modulus": lambda c: _attestation_object(
        c, _credential_key(lambda _: _rsa_key(2**2047 + 2, 65537))),
    "rsa-exponent-not-below-modulus": lambda c: _attestation_object(
        c, _credential_key(lambda _: _rsa_key(2**2047 + 1, 2**2047 + 1))),
    # an attestation statement without its signature: malformed, not merely unverifiable
    "drop-attestation-sig": lambda c: _attestation_object(c, _without("sig")),
    # a packed statement without its certificate: shaped as self attestation, no certificate
    "drop-attestation-x5c": lambda c: _attestation_object(c, _without("x5c")),
    # unusable clientDataJSON: refused as input (400), no decision
    "client-data-duplicate-type": lambda c: _raw_client_data(c, _duplicate_type),
    "client-data-nan": lambda c: _raw_client_data(c, lambda t: t[:-1] + ',"x":NaN}'),
    "client-data-deep": lambda c: _raw_client_data(c, _deep),
    "token-binding-present-without-id": lambda c: _client_data(
        c, tokenBinding={"status": "present"}),
    "cross-origin-not-boolean": lambda c: _client_data(c, crossOrigin="yes"),
}
