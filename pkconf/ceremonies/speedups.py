"""Opt-in speed-ups for python-fido2's data classes and CBOR, process-wide, switched on
explicitly.

Why: a software registration cost 3.7 ms (stack-notes), ~60 % of it in `typing.get_type_hints`.
python-fido2's data classes re-evaluate their type hints, and find each field's wire key by a
linear search of `dataclasses.fields`, on every construction and parse. Both are pure functions
of the class, so remembering them per class changes no result, only the time. With those gone,
fido2's CBOR codec was the next cost (a third of a ceremony): its encoder tries six `isinstance`
checks, against `typing` aliases, per value, and its decoder copies the rest of the input after
every item. `_cbor_encode`/`_cbor_decode_from` give the same bytes and values (same canonical key
order, same forgiveness of a short byte string, same exception types on bad input) by
dispatching on the exact type and reading at an offset.

Doing so replaces fido2 internals (`fido2.utils.get_type_hints`, the `_get_field_key` of
`_CborDataObject` and `_JsonDataObject`, and `fido2.cbor.encode`/`decode_from`) for the whole
process, so it is never a side effect of an import: the CLI, the conformance plugin and the
benchmarks call `enable_fido2_speedups()`. It applies only to fido2 releases whose internals
were read for it, and only when they still have the expected shape; otherwise fido2 stays as it
is and one warning says why.
"""

from __future__ import annotations

import struct
import typing
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import Field
from importlib.metadata import PackageNotFoundError, version
from threading import Lock
from typing import Any

import fido2.cbor
import fido2.ctap2.base
import fido2.utils

# fido2 releases whose utils.py, cbor.py and ctap2/base.py were read for these patches (identical
# in both)
CHECKED_VERSIONS = ("2.2.0", "2.2.1")

_HINTS = "get_type_hints"  # the name fido2.utils calls, imported from typing
_FIELD_KEY = "_get_field_key"  # the classmethod each data-object base defines
_OWNERS = ((fido2.ctap2.base, "_CborDataObject"), (fido2.utils, "_JsonDataObject"))
_CODEC = ("encode", "decode_from")  # fido2.cbor's functions that every other one goes through

_lock = Lock()
_originals: dict[type, Any] | None = None  # owner -> its own `_get_field_key`, while enabled
_codec: dict[str, Any] = {}  # fido2.cbor's own encode and decode_from, while enabled
_hints: dict[type, dict[str, Any]] = {}
_warned = False


def enable_fido2_speedups() -> bool:
    """Memoize fido2's per-class type hints and field keys; returns whether they are on.

    Idempotent. On an unchecked fido2 version or unexpected internals nothing is changed, a
    warning is issued once, and the result is False.
    """
    global _originals, _warned
    with _lock:
        if _originals is not None:
            return True
        owners, reason = _owners()
        if reason is not None:
            if not _warned:
                _warned = True
                warnings.warn(f"python-fido2 speed-ups left off: {reason}", RuntimeWarning,
                              stacklevel=2)
            return False
        originals = {owner: owner.__dict__[_FIELD_KEY] for owner in owners}
        setattr(fido2.utils, _HINTS, _memo_type_hints)
        for owner, original in originals.items():
            setattr(owner, _FIELD_KEY, classmethod(_memoized(original.__func__)))
        _codec.update({name: getattr(fido2.cbor, name) for name in _CODEC})
        fido2.cbor.encode, fido2.cbor.decode_from = _cbor_encode, _cbor_decode_from
        _originals = originals
        return True


def disable_fido2_speedups() -> None:
    """Put fido2's own functions back, the very objects that were replaced."""
    global _originals
    with _lock:
        if _originals is None:
            return
        setattr(fido2.utils, _HINTS, typing.get_type_hints)
        for owner, original in _originals.items():
            setattr(owner, _FIELD_KEY, original)
        for name, original in _codec.items():
            setattr(fido2.cbor, name, original)
        _codec.clear()
        _hints.clear()
        _originals = None


def _owners() -> tuple[list[type], str | None]:
    """The classes to patch, or why fido2 is not the one these patches were written for."""
    try:
        installed = version("fido2")
    except PackageNotFoundError:
        return [], "the installed fido2 version is unknown"
    if installed not in CHECKED_VERSIONS:
        return [], (f"fido2 {installed} is not a version they were checked against "
                    f"({', '.join(CHECKED_VERSIONS)})")
    if getattr(fido2.utils, _HINTS, None) is not typing.get_type_hints:
        return [], f"fido2.utils.{_HINTS} is not typing.{_HINTS}"
    for name in _CODEC:
        if getattr(getattr(fido2.cbor, name, None), "__module__", None) != "fido2.cbor":
            return [], f"fido2.cbor.{name} is not fido2's own"
    owners = []
    for module, name in _OWNERS:
        owner = getattr(module, name, None)
        if not isinstance(owner, type) or not isinstance(owner.__dict__.get(_FIELD_KEY),
                                                         classmethod):
            return [], f"{module.__name__}.{name}.{_FIELD_KEY} is not a classmethod"
        owners.append(owner)
    return owners, None


def _memo_type_hints(obj: Any, globalns: Any = None, localns: Any = None,
                     include_extras: bool = False) -> dict[str, Any]:
    """`typing.get_type_hints`, remembered per class for the plain call fido2 makes."""
    if not isinstance(obj, type) or globalns or localns or include_extras:
        return typing.get_type_hints(obj, globalns, localns, include_extras)
    hints = _hints.get(obj)
    if hints is None:
        hints = _hints[obj] = typing.get_type_hints(obj)
    return hints


def _memoized(compute: Callable[[type, Field[Any]], Any]) -> Callable[[type, Field[Any]], Any]:
    """`compute(cls, field)` remembered per class and field name."""
    memo: dict[tuple[type, str], Any] = {}

    def field_key(cls: type, f: Field[Any]) -> Any:
        key = (cls, f.name)
        if key not in memo:
            memo[key] = compute(cls, f)
        return memo[key]

    return field_key


# --- CBOR (fido2.cbor's subset: ints, bools, text, bytes, arrays, maps) ---------------------------
def _cbor_head(major: int, n: int) -> bytes:
    """A CBOR item's first bytes: `major` (already shifted) and the argument `n`."""
    if n < 24:
        return bytes((major | n,))
    if n <= 0xFF:
        return bytes((major | 24, n))
    if n <= 0xFFFF:
        return struct.pack(">BH", major | 25, n)
    if n <= 0xFFFFFFFF:
        return struct.pack(">BI", major | 26, n)
    return struct.pack(">BQ", major | 27, n)  # struct.error beyond 64 bits, as fido2


def _cbor_key_order(item: tuple[bytes, bytes]) -> tuple[int, int, bytes]:
    """fido2's canonical order of encoded map keys: major type, length, bytes."""
    key = item[0]
    return key[0], len(key), key


def _cbor_encode(data: Any) -> bytes:
    """`fido2.cbor.encode`: the exact built-in types first, then fido2's own order of checks
    (so a bool stays a bool, a bytes subclass is bytes, a Mapping a map)."""
    kind = type(data)
    if kind is int:
        return _cbor_head(0x20, -1 - data) if data < 0 else _cbor_head(0, data)
    if kind is bytes:
        return _cbor_head(0x40, len(data)) + data
    if kind is str:
        text = data.encode("utf8")
        return _cbor_head(0x60, len(text)) + text
    if kind is dict:
        return _cbor_map(data)
    if kind is list or kind is tuple:
        return _cbor_head(0x80, len(data)) + b"".join([_cbor_encode(x) for x in data])
    if isinstance(data, bool):
        return b"\xf5" if data else b"\xf4"
    if isinstance(data, int):
        return _cbor_head(0x20, -1 - data) if data < 0 else _cbor_head(0, data)
    if isinstance(data, str):
        text = data.encode("utf8")
        return _cbor_head(0x60, len(text)) + text
    if isinstance(data, bytes | bytearray | memoryview):
        return _cbor_head(0x40, len(data)) + data
    if isinstance(data, Mapping):
        return _cbor_map(data)
    if isinstance(data, Sequence):
        return _cbor_head(0x80, len(data)) + b"".join([_cbor_encode(x) for x in data])
    raise ValueError(f"Unsupported value: {data!r}")


def _cbor_map(data: Mapping[Any, Any]) -> bytes:
    items = [(_cbor_encode(k), _cbor_encode(v)) for k, v in data.items()]
    items.sort(key=_cbor_key_order)
    return _cbor_head(0xA0, len(items)) + b"".join([k + v for k, v in items])


def _cbor_decode_from(data: bytes) -> tuple[Any, bytes]:
    """`fido2.cbor.decode_from`: the first item and the bytes after it. Bytes are read at an
    offset instead of copied after each item; other buffers go to fido2's own."""
    if not isinstance(data, bytes):
        decode_from: Callable[[Any], tuple[Any, bytes]] = _codec["decode_from"]
        return decode_from(data)
    value, end = _cbor_item(data, 0)
    return value, data[end:]


def _cbor_item(data: bytes, pos: int) -> tuple[Any, int]:
    """The item at `pos` and the offset after it, failing where fido2's decoder fails: an
    IndexError or struct.error when the input ends early, a KeyError for a tag (major type 6),
    a ValueError for an argument of 28-31; like fido2, a byte or text string longer than the
    input is cut short, and every simple value or float is a bool (true only for 21)."""
    first = data[pos]
    major, ai = first >> 5, first & 0x1F
    pos += 1
    if major == 7:
        return ai == 21, pos
    if major == 6:
        raise KeyError(6)
    if ai < 24:
        n = ai
    elif ai == 24:
        n, pos = data[pos], pos + 1
    elif ai == 25:
        n, pos = struct.unpack_from(">H", data, pos)[0], pos + 2
    elif ai == 26:
        n, pos = struct.unpack_from(">I", data, pos)[0], pos + 4
    elif ai == 27:
        n, pos = struct.unpack_from(">Q", data, pos)[0], pos + 8
    else:
        raise ValueError("Invalid additional information")
    if major == 0:
        return n, pos
    if major == 1:
        return -1 - n, pos
    if major == 2:
        return data[pos:pos + n], min(pos + n, len(data))
    if major == 3:
        return data[pos:pos + n].decode("utf8"), min(pos + n, len(data))
    if major == 4:
        values = []
        for _ in range(n):
            value, pos = _cbor_item(data, pos)
            values.append(value)
        return values, pos
    items = {}
    for _ in range(n):
        key, pos = _cbor_item(data, pos)
        items[key], pos = _cbor_item(data, pos)
    return items, pos
