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
_PLAIN_SIMPLE = (0xF4, 0xF5, 0xF6)  # false, true, null (RFC 8949 §3.3)


class CborDepthError(ValueError):
    """Not a CBOR data item of bounded nesting; the message says why."""


def item_end(data: bytes, at: int = 0, limit: int = MAX_DEPTH) -> tuple[int, bool]:
    """The offset just past the one CBOR data item at `at`, refusing nesting over `limit`; and
    whether the item is *plain*: no tag, no indefinite length, no simple value but false, true
    and null. A plain item's value is the same whichever decoder reads it (cbor2 reads tags 2
    and 3 as integers and indefinite lengths as lists, which fido2's decoder refuses).

    Arrays, maps, tags and indefinite-length strings each open a level; `open_items` holds,
    per open level, how many items it still takes (None: until a break, §3.2.1). The heads
    (RFC 8949 §3) are read inline: this runs on every attestation object a tenant decides.
    """
    open_items: list[int | None] = []
    plain, size = True, len(data)
    while True:
        if at >= size:
            raise CborDepthError("ends inside a CBOR data item")
        initial = data[at]
        if initial == _BREAK and open_items and open_items[-1] is None:
            open_items.pop()
            at += 1
        else:
            major, info = initial >> 5, initial & 0x1F
            argument: int | None
            if info < 24:
                argument, at = info, at + 1
            elif info <= 27:  # §3: a 1, 2, 4 or 8 byte argument follows
                end = at + 1 + (1 << (info - 24))
                if end > size:
                    raise CborDepthError("ends inside a CBOR data item")
                argument, at = int.from_bytes(data[at + 1:end], "big"), end
            elif info == _INDEFINITE and major in (2, 3, _ARRAY, _MAP):  # §3.2
                argument, at = None, at + 1
            else:
                raise CborDepthError(f"holds a malformed CBOR head 0x{initial:02x} (RFC 8949 §3)")
            if argument is None or major == _TAG or (major == _SIMPLE
                                                     and initial not in _PLAIN_SIMPLE):
                plain = False
            if major in (2, 3) and argument is not None:  # a definite string: its bytes
                at += argument
                if at > size:
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
            return at, plain
