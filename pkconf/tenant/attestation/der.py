"""A minimal DER reader: just enough ASN.1 to read certificate extensions by hand.

Why by hand: no ASN.1 library (pyasn1, asn1crypto) is installed in the venv, and
cryptography exposes no parser for a lone extension value. We also need it for certificates
that cryptography refuses to expose extensions of at all (real TPM AIK certificates with a
non-DER certificatePolicies entry), where only the extensions we check must be readable.
Every malformation raises `DerError` (a ValueError), which callers map to a reason code.
"""

from __future__ import annotations

from dataclasses import dataclass

UNIVERSAL, APPLICATION, CONTEXT, PRIVATE = 0, 1, 2, 3
BOOLEAN, INTEGER, BIT_STRING, OCTET_STRING, NULL, OID = 1, 2, 3, 4, 5, 6
ENUMERATED, SEQUENCE, SET = 10, 16, 17


class DerError(ValueError):
    """Bytes that are not the DER structure we expected."""


@dataclass(frozen=True)
class Tlv:
    """One DER element: its tag (class, constructed bit, number) and its content octets."""

    cls: int
    constructed: bool
    number: int
    value: bytes

    def is_(self, number: int, cls: int = UNIVERSAL) -> bool:
        return self.cls == cls and self.number == number

    def expect(self, number: int, cls: int = UNIVERSAL) -> Tlv:
        if not self.is_(number, cls):
            raise DerError(f"expected tag {cls}/{number}, found {self.cls}/{self.number}")
        return self

    def children(self) -> list[Tlv]:
        """The elements inside a constructed element (SEQUENCE, SET, explicit tag)."""
        if not self.constructed:
            raise DerError(f"tag {self.cls}/{self.number} is not constructed")
        return read_all(self.value)

    def inner(self) -> Tlv:
        """The single element inside an explicit tag or an OCTET STRING wrapper."""
        return read_one(self.value)

    def as_int(self) -> int:
        if not self.value:
            raise DerError("empty INTEGER")
        return int.from_bytes(self.value, "big", signed=True)

    def as_bool(self) -> bool:
        if len(self.value) != 1:
            raise DerError("BOOLEAN must be one octet")
        return self.value != b"\x00"

    def as_oid(self) -> str:
        self.expect(OID)
        arcs, n = [], 0
        for i, byte in enumerate(self.value):
            n = (n << 7) | (byte & 0x7F)
            if not byte & 0x80:
                arcs.append(n)
                n = 0
            elif i == len(self.value) - 1:
                raise DerError("truncated OBJECT IDENTIFIER")
        if not arcs:
            raise DerError("empty OBJECT IDENTIFIER")
        first = min(arcs[0] // 40, 2)
        return ".".join(str(a) for a in (first, arcs[0] - 40 * first, *arcs[1:]))


def _read(data: bytes, pos: int) -> tuple[Tlv, int]:
    try:
        first = data[pos]
        pos += 1
        cls, constructed, number = first >> 6, bool(first & 0x20), first & 0x1F
        if number == 0x1F:  # high-tag-number form (Android's [600], [702] ...)
            number = 0
            while True:
                byte = data[pos]
                pos += 1
                number = (number << 7) | (byte & 0x7F)
                if not byte & 0x80:
                    break
        length = data[pos]
        pos += 1
        if length == 0x80:
            raise DerError("indefinite length is not DER")
        if length & 0x80:
            size = length & 0x7F
            if size > 4 or pos + size > len(data):
                raise DerError("bad length")
            length = int.from_bytes(data[pos : pos + size], "big")
            pos += size
    except IndexError:
        raise DerError("truncated element header") from None
    end = pos + length
    if end > len(data):
        raise DerError("element runs past the end of its container")
    return Tlv(cls, constructed, number, data[pos:end]), end


def read_all(data: bytes) -> list[Tlv]:
    """All the elements of a concatenation; bytes left over are an error."""
    out, pos = [], 0
    while pos < len(data):
        tlv, pos = _read(data, pos)
        out.append(tlv)
    return out


def read_one(data: bytes) -> Tlv:
    """Exactly one element, with nothing after it."""
    tlv, end = _read(data, 0)
    if end != len(data):
        raise DerError("trailing bytes after the element")
    return tlv
