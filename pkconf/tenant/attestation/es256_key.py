"""The one credential key shape nearly every registration carries, read off its fixed layout.

An ES256 COSE key as fido2 encodes it (canonical CBOR, RFC 8949 §4.2.1; CTAP2 §8): {1: 2,
3: -7, -1: 1, -2: x, -3: y}, x and y 32-byte strings. Its 77 bytes decode, parse and encode back
to themselves, so the key is known from the layout without the CBOR round trip fido2 makes;
the tenant's parse and the client's speed-ups both read it here.
"""

from __future__ import annotations

from fido2.cose import ES256

_OPENING = bytes.fromhex("a5" "0102" "0326" "2001" "215820")
_Y = bytes.fromhex("225820")
SIZE = 77


def canonical_es256_key(raw: bytes, at: int) -> ES256 | None:
    """The credential key at `at` when its bytes are an ES256 key in that form: the value fido2
    decodes from them (CoseKey.parse's class for alg -7 is ES256), and whose encoding gives
    them back; else None."""
    if not (raw.startswith(_OPENING, at) and raw.startswith(_Y, at + 42)
            and len(raw) >= at + SIZE):
        return None
    return ES256({1: 2, 3: -7, -1: 1, -2: raw[at + 10:at + 42], -3: raw[at + 45:at + SIZE]})
