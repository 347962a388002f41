"""How deep CBOR nests, measured without recursion, before a recursive decoder reads it.

fido2's CBOR decoder recurses once per array, map or tag level: authenticator data whose COSE
key or extensions nest a few thousand levels deep raises RecursionError, and cbor2 stops only
at 400 levels, deep enough for fido2 to fail after it. The data item heads (RFC 8949 §3) are
walked with an explicit stack instead, and anything deeper than an attestation ever is refused.
"""

from __future__ import annotations

MAX_DEPTH = 16  # an attestation object nests 3 levels (map, attStmt, x5c), a COSE key 1

_ARRAY, _MAP, _TAG, _SIMPLE = 4, 5, 6, 7
_INDEFINITE, _BREAK = 31, 0xFF


class CborDepthError(ValueError):
    """Not a CBOR data item of bounded nesting; the message says why."""


def _head(data: bytes, at: int) -> tuple[int, int | None, int]:
    """(major type, argument or None when indefinite, offset after the head): RFC 8949 §3."""
    if at >= len(data):
        raise CborDepthError("ends inside a CBOR data item")
    initial = data[at]
    major, info = initial >> 5, initial & 0x1F
    if info < 24:
        return major, info, at + 1
    if info <= 27:  # §3: a 1, 2, 4 or 8 byte argument follows
        size = 1 << (info - 24)
        if at + 1 + size > len(data):
            raise CborDepthError("ends inside a CBOR data item")
        return major, int.from_bytes(data[at + 1:at + 1 + size], "big"), at + 1 + size
    if info == _INDEFINITE and major in (2, 3, _ARRAY, _MAP):  # §3.2
        return major, None, at + 1
    raise CborDepthError(f"holds a malformed CBOR head 0x{initial:02x} (RFC 8949 §3)")


def item_end(data: bytes, at: int = 0, limit: int = MAX_DEPTH) -> int:
    """The offset just past the one CBOR data item at `at`, refusing nesting over `limit`.

    Arrays, maps, tags and indefinite-length strings each open a level; `open_items` holds,
    per open level, how many items it still takes (None: until a break, §3.2.1).
    """
    open_items: list[int | None] = []
    while True:
        if open_items and open_items[-1] is None and at < len(data) and data[at] == _BREAK:
            open_items.pop()
            at += 1
        else:
            major, argument, at = _head(data, at)
            if major in (2, 3) and argument is not None:  # a definite string: its bytes
                at += argument
                if at > len(data):
                    raise CborDepthError("ends inside a CBOR string")
            elif major in (2, 3, _ARRAY, _MAP, _TAG):
                count = (None if argument is None else 1 if major == _TAG
                         else argument * 2 if major == _MAP else argument)
                if count != 0:
                    open_items.append(count)
                    if len(open_items) > limit:
                        raise CborDepthError(f"nests too deeply (over {limit} levels)")
                    continue
        # an item is complete: it counts against the levels it closes
        while open_items and open_items[-1] is not None:
            remaining = open_items[-1] - 1
            if remaining:
                open_items[-1] = remaining
                break
            open_items.pop()
        if not open_items:
            return at
