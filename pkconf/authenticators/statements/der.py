"""A tiny DER writer for the few ASN.1 structures cryptography cannot build for us.

cryptography writes certificates, but an extension it does not know (the FIDO AAGUID, the
Android key description, the Apple nonce) takes raw DER bytes, so we encode those by hand
(ITU-T X.690 §8 and §10). Only definite lengths and the universal types we need.
"""

from __future__ import annotations

_INTEGER, _OCTET_STRING, _NULL, _ENUMERATED = 0x02, 0x04, 0x05, 0x0A
_SEQUENCE, _SET = 0x30, 0x31
_CONTEXT_CONSTRUCTED = 0xA0


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8)
    return bytes([0x80 | len(body)]) + body


def tlv(tag: bytes, content: bytes) -> bytes:
    return tag + _length(len(content)) + content


def integer(value: int) -> bytes:
    """Two's complement, minimal length (X.690 §8.3)."""
    size = value.bit_length() // 8 + 1
    return tlv(bytes([_INTEGER]), value.to_bytes(size, signed=True))


def enumerated(value: int) -> bytes:
    return tlv(bytes([_ENUMERATED]), integer(value)[2:])


def octet_string(value: bytes) -> bytes:
    return tlv(bytes([_OCTET_STRING]), value)


def null() -> bytes:
    return tlv(bytes([_NULL]), b"")


def sequence(*items: bytes) -> bytes:
    return tlv(bytes([_SEQUENCE]), b"".join(items))


def set_of(*items: bytes) -> bytes:
    """DER orders SET OF elements by their encodings (X.690 §11.6)."""
    return tlv(bytes([_SET]), b"".join(sorted(items)))


def explicit(number: int, content: bytes) -> bytes:
    """[number] EXPLICIT: context-specific, constructed; high tag numbers in base 128."""
    if number < 31:
        return tlv(bytes([_CONTEXT_CONSTRUCTED | number]), content)
    digits = [number & 0x7F]
    number >>= 7
    while number:
        digits.append(0x80 | (number & 0x7F))
        number >>= 7
    return tlv(bytes([_CONTEXT_CONSTRUCTED | 0x1F, *reversed(digits)]), content)
