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
dispatching on the exact type and reading at an offset. Then fido2's generic data-class parse
(issue 13: a fifth of a ceremony): `_parse_value` rebuilds `t | None`, `issubclass(origin,
Sequence)` and `getattr(t, "from_dict")` for every value, and `__post_init__` /
`_parse_from_dict` list the fields and their keys on every object. All of that depends on the
type alone, so `_parse_plan` works it out once per type hint and `_field_plan` once per class;
what depends on the value (`isinstance`, the `str` -> bytes decoding) still runs every time,
nested values still go through `cls._parse_value` (a subclass's override still applies), and
a hint whose plan cannot be worked out is parsed by fido2's own function. And the same
authenticator data were parsed four times per ceremony (the device's, the client's response,
its attestation object, the tenant's): `AuthenticatorData` remembers the last `_AUTH_DATA_MEMO`
parses by their bytes, handing each new object its own copies of what is mutable; and a
parse of new ones reads the attested credential data once where fido2 parses, re-encodes
and parses them again (kept only when the re-encoding gives back the same bytes; an ES256 key
in fido2's own 77-byte form is read off its fixed layout). The client's `AttestationObject.create`
encoded its parts and decoded them straight back: plain parts are now copied instead.

Doing so replaces fido2 internals (`fido2.utils.get_type_hints`, the `_get_field_key` of
`_CborDataObject` and `_JsonDataObject`, `fido2.cbor.encode`/`decode_from`, and the
`_parse_value`, `_parse_from_dict` and `__post_init__` of `_DataClassMapping` /
`_JsonDataObject`, their `from_dict` and `__getitem__`, the responses' `_parse_value`,
`AuthenticatorData.__init__`, `AttestedCredentialData.unpack_from`,
`AttestationObject.create`, `CollectedClientData.create`, the `sha256` of fido2.webauthn and
fido2.ctap2.pin, and the `_as_cbor` of fido2.webauthn and fido2.client) for the whole process,
so it is never a side effect of an import: the CLI, the conformance plugin and the benchmarks
call `enable_fido2_speedups()`. It applies only to fido2 releases whose internals were read
for it, and only when they still have the expected shape; otherwise fido2 stays as it is and
one warning says why.
"""

from __future__ import annotations

import abc
import builtins
import hashlib
import json
import struct
import types
import typing
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import Field, fields
from enum import Enum, EnumMeta
from importlib.metadata import PackageNotFoundError, version
from threading import Lock
from typing import Any

import fido2.cbor
import fido2.client
import fido2.ctap2.base
import fido2.ctap2.pin
import fido2.utils
import fido2.webauthn
from fido2.cose import CoseKey
from fido2.webauthn import (
    Aaguid,
    AttestationObject,
    AttestedCredentialData,
    AuthenticationResponse,
    AuthenticatorData,
    CollectedClientData,
    RegistrationResponse,
)

from ..tenant.attestation.es256_key import SIZE as ES256_KEY_SIZE
from ..tenant.attestation.es256_key import canonical_es256_key
from ..tenant.attestation.statement import assembled

# fido2 releases whose utils.py, cbor.py, webauthn.py and ctap2/base.py were read for these
# patches (identical in both; cose.py differs in verification and ML-DSA keys only, and in
# neither has a COSE key an `__init__` of its own)
CHECKED_VERSIONS = ("2.2.0", "2.2.1")

_HINTS = "get_type_hints"  # the name fido2.utils calls, imported from typing
_FIELD_KEY = "_get_field_key"  # the classmethod each data-object base defines
_OWNERS = ((fido2.ctap2.base, "_CborDataObject"), (fido2.utils, "_JsonDataObject"))
_CODEC = ("encode", "decode_from")  # fido2.cbor's functions that every other one goes through
# module functions replaced: (the modules that call one by its name, the name, fido2's own):
# `sha256` (through `cryptography`'s Hash object) for the client data hash and the PIN
# protocols' shared secret and PIN hash; `_as_cbor` for the RP, user and parameters the client
# sends
_FUNCTIONS: tuple[tuple[tuple[types.ModuleType, ...], str, Callable[..., Any]], ...] = (
    ((fido2.webauthn, fido2.ctap2.pin), "sha256", fido2.utils.sha256),
    ((fido2.webauthn, fido2.client), "_as_cbor", fido2.webauthn._as_cbor))
_DATA, _JSON = fido2.utils._DataClassMapping, fido2.utils._JsonDataObject
# the parse functions replaced: (owner, name, whether the owner's own is a classmethod)
_PARSE = ((_DATA, "_parse_value", True), (_JSON, "_parse_value", True),
          (_DATA, "_parse_from_dict", True), (_DATA, "__post_init__", False),
          (_DATA, "from_dict", True), (_DATA, "__getitem__", False),
          (RegistrationResponse, "_parse_value", True),
          (AuthenticationResponse, "_parse_value", True),
          (AuthenticatorData, "__init__", False), (AttestedCredentialData, "unpack_from", True),
          (AttestationObject, "create", True), (CollectedClientData, "create", True))
# the hint whose values the two responses' `_parse_value` keep as they are (client extension
# results), as fido2.webauthn spells it: its own `Mapping`
_EXTENSIONS_HINT = fido2.webauthn.Mapping[str, Any] | None  # type: ignore[attr-defined]
# enum metaclass calls that look a value up as `EnumMeta.__call__` does: its own, and fido2's
# (None for an unknown value, instead of a ValueError)
_ENUM_CALLS = (EnumMeta.__call__,
               getattr(fido2.webauthn, "_StringEnumMeta", EnumMeta).__call__)
_AUTH_DATA_MEMO = 64  # authenticator data parses remembered (a ceremony needs one)
# hint types `isinstance` always refuses with a TypeError (Sequence[X], list[X], dict[K, V])
_NEVER_INSTANCES = (type(Sequence[int]), types.GenericAlias)
# the C function ABCMeta.__instancecheck__ wraps, (cls, value), and that method (None: abc in
# pure Python, where _plain_abc is always False and isinstance asks as always)
_abc_instancecheck: Callable[[Any, Any], bool] = getattr(
    abc, "_abc_instancecheck", lambda cls, value: isinstance(value, cls))
_ABC_CHECK = abc.ABCMeta.__instancecheck__ if hasattr(abc, "_abc_instancecheck") else None

_lock = Lock()
_originals: dict[type, Any] | None = None  # owner -> its own `_get_field_key`, while enabled
_codec: dict[str, Any] = {}  # fido2.cbor's own encode and decode_from, while enabled
_parse: dict[tuple[type, str], Any] = {}  # (owner, name) -> fido2's own, while enabled
_hints: dict[type, dict[str, Any]] = {}
_plans: dict[tuple[bool, Any, Any], _Plan] = {}  # (JSON rules, hint, its args) -> its plan
_fields: dict[type, tuple[_FieldPlan, ...]] = {}
_nested_plans: dict[tuple[bool, Any, Any], _Plan] = {}  # as `_plans`, exact instances kept
_auth_data: dict[bytes, tuple[Any, ...]] = {}  # bytes -> AuthenticatorData's parsed fields
_auth_data_lock = Lock()
_response_parsers: set[Any] = set()  # our responses' `_parse_value`s, while enabled
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
        for modules, name, _ in _FUNCTIONS:
            for module in modules:
                setattr(module, name, _FUNCTION_REPLACEMENTS[name])
        replacements: tuple[Any, ...] = (
            classmethod(_data_parse_value), classmethod(_json_parse_value),
            classmethod(_parse_from_dict), _post_init, classmethod(_from_dict), _getitem,
            classmethod(_response_parse_value(RegistrationResponse)),
            classmethod(_response_parse_value(AuthenticationResponse)), _auth_data_init,
            classmethod(_unpack_credential_data), classmethod(_attestation_object_create),
            classmethod(_client_data_create))
        for (owner, name, _), replacement in zip(_PARSE, replacements, strict=True):
            _parse[(owner, name)] = owner.__dict__[name]
            setattr(owner, name, replacement)
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
        for modules, name, own in _FUNCTIONS:
            for module in modules:
                setattr(module, name, own)
        for (owner, name), original in _parse.items():
            setattr(owner, name, original)
        _codec.clear()
        _parse.clear()
        _hints.clear()
        _plans.clear()
        _nested_plans.clear()
        _fields.clear()
        _auth_data.clear()
        _response_parsers.clear()
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
    for modules, name, fidos in _FUNCTIONS:
        for module in modules:
            if getattr(module, name, None) is not fidos or \
                    not getattr(fidos, "__module__", "").startswith("fido2."):
                return [], f"{module.__name__}.{name} is not fido2's own"
    for name in _CODEC:
        if getattr(getattr(fido2.cbor, name, None), "__module__", None) != "fido2.cbor":
            return [], f"fido2.cbor.{name} is not fido2's own"
    for parser, name, is_classmethod in _PARSE:
        own = parser.__dict__.get(name)
        if not isinstance(own, classmethod) if is_classmethod else not callable(own):
            return [], f"{parser.__name__}.{name} is not fido2's own"
    for hint in (Sequence[int], list[int]):
        try:
            isinstance(0, hint)
        except TypeError:
            continue
        return [], f"isinstance accepts {hint}"
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


def _sha256(data: bytes) -> bytes:
    """`fido2.utils.sha256`, by `hashlib` (the same digest, and a TypeError for what is not
    bytes-like, as there) without building a `cryptography` Hash object per call."""
    return hashlib.sha256(data).digest()


# --- CBOR (fido2.cbor's subset: ints, bools, text, bytes, arrays, maps) ---------------------------
_BYTE = tuple(bytes((i,)) for i in range(256))  # each one-byte string, made once


def _cbor_head(major: int, n: int) -> bytes:
    """A CBOR item's first bytes: `major` (already shifted) and the argument `n`."""
    if n < 24:
        return _BYTE[major | n]
    if n <= 0xFF:
        return bytes((major | 24, n))
    if n <= 0xFFFF:
        return struct.pack(">BH", major | 25, n)
    if n <= 0xFFFFFFFF:
        return struct.pack(">BI", major | 26, n)
    return struct.pack(">BQ", major | 27, n)  # struct.error beyond 64 bits, as fido2


def _cbor_encode(data: Any) -> bytes:
    """`fido2.cbor.encode`: the exact built-in types first, then fido2's own order of checks
    (so a bool stays a bool, a bytes subclass is bytes, a Mapping a map)."""
    kind = type(data)
    if kind is dict:
        return _cbor_map(data)
    if kind is int:
        if 0 <= data < 24:
            return _BYTE[data]
        return _cbor_head(0x20, -1 - data) if data < 0 else _cbor_head(0, data)
    if kind is str:
        text = data.encode("utf8")
        n = len(text)
        return (_BYTE[0x60 | n] if n < 24 else _cbor_head(0x60, n)) + text
    if kind is bytes:
        n = len(data)
        return (_BYTE[0x40 | n] if n < 24 else _cbor_head(0x40, n)) + data
    if kind is list or kind is tuple:
        return _cbor_array(data)
    if isinstance(data, bool):
        return b"\xf5" if data else b"\xf4"
    if isinstance(data, int):
        return _cbor_head(0x20, -1 - data) if data < 0 else _cbor_head(0, data)
    if isinstance(data, str):
        text = data.encode("utf8")
        return _cbor_head(0x60, len(text)) + text
    if isinstance(data, bytes | bytearray | memoryview):
        return _cbor_head(0x40, len(data)) + data
    if isinstance(data, dict | Mapping):  # a dict subclass is none of the above (its layout)
        return _cbor_map(data)
    if isinstance(data, Sequence):
        return _cbor_array(data)
    raise ValueError(f"Unsupported value: {data!r}")


def _cbor_array(data: Sequence[Any]) -> bytes:
    parts = [_cbor_head(0x80, len(data))]
    append = parts.append
    for value in data:
        kind = type(value)
        if kind is int and 0 <= value < 24:
            append(_BYTE[value])
        elif kind is bytes:
            n = len(value)
            append(_BYTE[0x40 | n] if n < 24 else _cbor_head(0x40, n))
            append(value)
        elif kind is dict:
            append(_cbor_map(value))
        else:
            append(_cbor_encode(value))
    return b"".join(parts)


def _cbor_map(data: Mapping[Any, Any]) -> bytes:
    """Each key, then its value, encoded in the map's order (the first failure is fido2's), then
    sorted as fido2 sorts them: by the key's major type, length and bytes; equal keys (such as
    1 and an IntEnum 1 of a Mapping that holds both) stay in the map's order. The commonest
    keys and values (small ints, text, bytes, dicts) are encoded here, not by a call each."""
    items = []
    for i, (k, v) in enumerate(data.items()):
        kind = type(k)
        if kind is int and -25 < k < 24:
            key = _BYTE[k] if k >= 0 else _BYTE[31 - k]
        elif kind is str:
            text = k.encode("utf8")
            n = len(text)
            key = (_BYTE[0x60 | n] if n < 24 else _cbor_head(0x60, n)) + text
        else:
            key = _cbor_encode(k)
        kind = type(v)
        if kind is int and 0 <= v < 24:
            value = _BYTE[v]
        elif kind is str:
            text = v.encode("utf8")
            n = len(text)
            value = (_BYTE[0x60 | n] if n < 24 else _cbor_head(0x60, n)) + text
        elif kind is bytes:
            n = len(v)
            value = (_BYTE[0x40 | n] if n < 24 else _cbor_head(0x40, n)) + v
        elif kind is dict:
            value = _cbor_map(v)
        else:
            value = _cbor_encode(v)
        items.append((key[0], len(key), key, i, value))
    items.sort()
    n = len(items)
    return (_BYTE[0xA0 | n] if n < 24 else _cbor_head(0xA0, n)) + \
        b"".join([item[2] + item[4] for item in items])


def _cbor_decode_from(data: bytes) -> tuple[Any, bytes]:
    """`fido2.cbor.decode_from`: the first item and the bytes after it. Bytes are read at an
    offset instead of copied after each item; other buffers go to fido2's own."""
    if not isinstance(data, bytes):
        decode_from: Callable[[Any], tuple[Any, bytes]] = _codec["decode_from"]
        return decode_from(data)
    value, end = _cbor_item(data, 0)
    return value, data[end:]


_NOT_IMMEDIATE = object()
# the value of each one-byte item, by that byte: ints -24..23, and every simple value or float,
# which fido2 reads as a bool (true only for 21) without its argument; else _NOT_IMMEDIATE
_IMMEDIATE: tuple[Any, ...] = tuple(
    b if b < 0x18 else 0x1F - b if 0x20 <= b < 0x38 else b == 0xF5 if b >= 0xE0
    else _NOT_IMMEDIATE for b in range(256))


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
    # an array's items, or a map's keys and values in turn: one byte long, or short text or
    # bytes (each cut short at the end of the input, as fido2 cuts them), read here
    immediate, size = _IMMEDIATE, len(data)
    array = major == 4
    values: list[Any] = []
    items: dict[Any, Any] = {}
    key = None
    for i in range(n if array else 2 * n):
        first = data[pos]
        value = immediate[first]
        if value is not _NOT_IMMEDIATE:
            pos += 1
        elif 0x40 <= first < 0x58 or 0x60 <= first < 0x78:
            end = pos + 1 + (first & 0x1F)
            value = data[pos + 1:end]
            if first >= 0x60:
                value = value.decode("utf8")
            pos = min(end, size)
        else:
            value, pos = _cbor_item(data, pos)
        if array:
            values.append(value)
        elif i & 1:
            items[key] = value
        else:
            key = value
    return (values if array else items), pos


# --- data-class parsing (fido2.utils._DataClassMapping and _JsonDataObject) ----------------------
_Plan = Callable[[type, Any], Any]  # (the class parsing, a value) -> the parsed value
# a class's fields in order, each as (field, its wire key, deserialize, its type hint, the
# plan of the hint if the class parses by ours, else None: its own `_parse_value` is asked;
# and the class whose exact instances that plan keeps as they are, if any)
_FieldPlan = tuple[Field[Any], Any, Callable[[Any], Any] | None, Any, _Plan | None, Any]


def _data_parse_value(cls: type, t: Any, value: Any) -> Any:
    """`_DataClassMapping._parse_value`, by the plan of `t`."""
    return _plan_of(False, t)(cls, value)


def _json_parse_value(cls: type, t: Any, value: Any) -> Any:
    """`_JsonDataObject._parse_value` (bytes come as websafe base64), by the plan of `t`."""
    return _plan_of(True, t)(cls, value)


_OURS: dict[Any, bool] = {_data_parse_value: False, _json_parse_value: True}  # -> JSON rules


def _plan_of(json: bool, t: Any) -> _Plan:
    """The plan of hint `t`, remembered. Equal hints share one unless their arguments come in
    another order (`A | B | None == B | A | None`, yet fido2 unwraps the first argument)."""
    key = (json, t, getattr(t, "__args__", None))
    try:
        return _plans[key]
    except KeyError:
        plan = _plans[key] = _parse_plan(json, t)
        return plan
    except TypeError:  # an unhashable hint: fido2's own, every time
        return _own_parse(json, t)


def _own_parse(json: bool, t: Any) -> _Plan:
    """fido2's own `_parse_value` for `t` (the JSON one defers to the data one, as in fido2)."""
    own = _parse[(_JSON if json else _DATA, "_parse_value")].__func__
    return lambda cls, value: own(cls, t, value)


def _parse_plan(json: bool, t: Any) -> _Plan:
    """fido2's `_parse_value` for hint `t` with every step that depends on `t` alone taken
    now: unwrap `X | None`, then in fido2's order: websafe `str` for bytes (JSON), `Any`, an
    instance already, each item of a sequence, each pair of a mapping, `from_dict`, calling the
    type. If a step fails for this `t`, fido2's own function parses it (and fails the same)."""
    try:
        inner = t.__args__[0] if (t | None) == t else t
        from_str = json and isinstance(inner, type) and issubclass(inner, bytes)
        is_any = inner is Any
        check = type(inner) not in _NEVER_INSTANCES
        origin = getattr(inner, "__origin__", object)
        item = inner.__args__[0] if issubclass(origin, Sequence) else None
        pair = inner.__args__ if item is None and issubclass(origin, Mapping) else None
        key_t, value_t = pair if pair is not None else (None, None)
        from_dict = getattr(inner, "from_dict", None)
        wrap = None if from_dict else getattr(inner, "__call__", None)  # noqa: B004 - as fido2
        members = None if from_dict else _enum_members(inner)
        abc_check = check and _plain_abc(inner)
    except Exception:  # whatever fido2 raises for this hint, it raises itself
        return _own_parse(json, t)
    is_sequence = item is not None

    def parse(cls: Any, value: Any) -> Any:
        if from_str and isinstance(value, str):
            return fido2.utils.websafe_decode(value)
        if is_any:
            return value
        if check:
            try:
                if (type(value) is inner or _abc_instancecheck(inner, value)) if abc_check \
                        else isinstance(value, inner):
                    return value
            except TypeError:
                pass
        if is_sequence:
            parse_item = _nested(cls, item)
            return [parse_item(cls, v) for v in value]
        if pair is not None and isinstance(value, Mapping):
            parse_key, parse_value = _nested(cls, key_t), _nested(cls, value_t)
            return {parse_key(cls, k): parse_value(cls, v) for k, v in value.items()}
        if from_dict:
            return from_dict(value)
        if members is not None:
            try:
                return members[value]
            except (KeyError, TypeError):  # the enum's own call says what becomes of it
                pass
        if wrap:
            return wrap(value)
        raise ValueError(f"Unparseable value of type {type(value)} for {inner}")

    return parse


def _plain_abc(t: Any) -> bool:
    """Whether `isinstance(value, t)` is, past its own `type(value) is t` test, the C function
    `ABCMeta.__instancecheck__` only wraps (as for the data classes, all Mappings): asked
    directly, it answers the same without that wrapper's Python frame."""
    return (_ABC_CHECK is not None and isinstance(t, type)
            and getattr(type(t), "__instancecheck__", None) is _ABC_CHECK)


def _enum_members(t: Any) -> Mapping[Any, Any] | None:
    """The value -> member map that calling enum `t` looks a value up in first (`Enum.__new__`,
    reached unchanged through `EnumMeta.__call__` or fido2's `_StringEnumMeta.__call__`, which
    only handles the values not found), or None when `t` is not such an enum."""
    if (isinstance(t, EnumMeta) and type(t).__call__ in _ENUM_CALLS
            and t.__new__ is Enum.__new__):
        return t._value2member_map_  # type: ignore[no-any-return]
    return None


def _nested(cls: Any, t: Any) -> _Plan:
    """How `cls` parses a nested value of hint `t`: as fido2 does, by `cls._parse_value`; when
    that is ours, straight by the plan of `t`, and an exact instance of its class as it is."""
    json = _OURS.get(getattr(cls._parse_value, "__func__", None))
    if json is None:

        def by_its_own(cls: Any, value: Any) -> Any:
            return cls._parse_value(t, value)

        return by_its_own
    key = (json, t, getattr(t, "__args__", None))
    try:
        return _nested_plans[key]
    except KeyError:
        plan, kept = _plan_of(json, t), _kept_type(t)
        nested = _nested_plans[key] = (plan if kept is None else
                                       lambda cls, value: value if type(value) is kept
                                       else plan(cls, value))
        return nested
    except TypeError:  # an unhashable hint
        return _plan_of(json, t)


def _field_plan(cls: Any) -> tuple[_FieldPlan, ...]:
    """The fields of a data class with their keys, `deserialize`, hints and the plans of
    these, worked out once."""
    plan = _fields.get(cls)
    if plan is None:
        hints = fido2.utils.get_type_hints(cls)
        parse_value = getattr(cls._parse_value, "__func__", None)
        json = _OURS.get(parse_value)
        # a response itself (not a subclass), right on the JSON base: `super()` is ours
        response = parse_value in _response_parsers and cls.__bases__ == (_JSON,)
        plan = _fields[cls] = tuple(
            (f, cls._get_field_key(f), f.metadata.get("deserialize"), hints[f.name],
             *_hint_plan(json, response, hints[f.name]))
            for f in fields(cls))
    return plan


def _hint_plan(json: bool | None, response: bool, t: Any) -> tuple[_Plan | None, Any]:
    """How a class parses a field of hint `t`, and which exact class it keeps as it is: by the
    plan of `t` if the class parses by ours (`json` says which), as a response does if its
    `_parse_value` is our `_response_parse_value` (extension results kept, the rest by the
    JSON plan), else by its own `_parse_value` (None)."""
    if response:
        if t == _EXTENSIONS_HINT:
            return _keep, None
        return _plan_of(True, t), _kept_type(t)
    if json is None:
        return None, None
    return _plan_of(json, t), _kept_type(t)


def _keep(cls: Any, value: Any) -> Any:
    return value


def _kept_type(t: Any) -> type | None:
    """The class a plan for `t` (`X` or `X | None`) returns an exact instance of as it is, so
    such a value need not be parsed: its first check is `isinstance(value, X)`, true for an
    instance of `X` itself whatever `X`'s metaclass says, and the JSON `str` rule never applies
    to anything but a `str`."""
    try:
        inner = t.__args__[0] if (t | None) == t else t
    except Exception:  # a hint the plan leaves to fido2: nothing is kept
        return None
    return inner if isinstance(inner, type) else None


def _parse_from_dict(cls: Any, data: Mapping[Any, Any]) -> Any:
    """`_DataClassMapping._parse_from_dict`: the fields found in `data`, parsed, to `cls`."""
    kwargs = {}
    for f, key, deserialize, hint, plan, kept in _field_plan(cls):
        value = data.get(key)
        if value is None:
            continue
        if deserialize:
            kwargs[f.name] = deserialize(value)
        elif type(value) is kept:
            kwargs[f.name] = value
        else:
            kwargs[f.name] = plan(cls, value) if plan else cls._parse_value(hint, value)
    return cls(**kwargs)


def _post_init(self: Any) -> None:
    """`_DataClassMapping.__post_init__`: the field keys, and every field parsed in place."""
    cls = type(self)
    field_keys: dict[Any, Field[Any]] = {}
    object.__setattr__(self, "_field_keys", field_keys)
    for f, key, _, hint, plan, kept in _field_plan(cls):
        field_keys[key] = f
        value = getattr(self, f.name)
        if value is not None and type(value) is not kept:
            try:
                object.__setattr__(
                    self, f.name, plan(cls, value) if plan else cls._parse_value(hint, value))
            except (TypeError, KeyError, ValueError):  # as fido2: the error is the context
                raise ValueError(  # noqa: B904
                    f"Error parsing field {f.name} for {self.__class__.__name__}")


def _from_dict(cls: Any, data: Any) -> Any:
    """`_DataClassMapping.from_dict`, with `collections.abc.Mapping` for `typing`'s (slower
    alias of the same class)."""
    if data is None:
        return None
    if type(data) is cls or (_abc_instancecheck(cls, data) if _plain_abc(cls)
                             else isinstance(data, cls)):
        return data
    if type(data) is not dict and not isinstance(data, Mapping):  # a dict is one for good
        raise TypeError(f"{cls.__name__}.from_dict called with non-Mapping data of type"
                        f"{type(data)}")
    return cls._parse_from_dict(data)


def _getitem(self: Any, key: Any) -> Any:
    """`_DataClassMapping.__getitem__`: a field's value by its key (`_item`)."""
    f = self._field_keys[key]
    value = getattr(self, f.name)
    if value is None:
        raise KeyError(key)
    return _item(f, value)


def _as_cbor(data: Any) -> dict[Any, Any]:
    """`fido2.webauthn._as_cbor`: a data object's items by `_DataClassMapping.__getitem__` (not
    the JSON rule of its class), in its order. Looked up once instead of by a `super()` per key,
    and, where the object iterates as `_DataClassMapping` does and that lookup finds ours, read
    off its fields straight away (each key's field and value are what `__getitem__` reads)."""
    getitem = super(_JSON, data).__getitem__
    if type(data).__iter__ is not _DATA.__iter__ or \
            getattr(getitem, "__func__", None) is not _getitem:
        return {k: getitem(k) for k in data}
    return {key: _item(f, value) for key, f in data._field_keys.items()
            if (value := getattr(data, f.name)) is not None}


def _item(f: Field[Any], value: Any) -> Any:
    """A field's value (not None) as `_DataClassMapping.__getitem__` gives it, nested objects as
    dicts; with `collections.abc` for `typing`'s aliases, and the exact built-in types answered
    at once as fido2's checks answer them: ints and dicts as they are (neither a Sequence, a
    dict needing no copy), a str or bytes as it is unless empty (a Sequence none of whose items
    is a Mapping, or, when empty, one all of whose items are: fido2 then gives [])."""
    serialize = f.metadata.get("serialize")
    if serialize:
        return serialize(value)
    kind = type(value)
    if kind is int or kind is bool or kind is dict:
        return value
    if kind is str or kind is bytes:
        return value if value else []
    if isinstance(value, Mapping) and not isinstance(value, dict):
        return dict(value)
    if isinstance(value, Sequence) and all(isinstance(v, Mapping) for v in value):
        return [v if isinstance(v, dict) else dict(v) for v in value]
    return value


_FUNCTION_REPLACEMENTS: dict[str, Callable[..., Any]] = {"sha256": _sha256, "_as_cbor": _as_cbor}


def _response_parse_value(owner: Any) -> Callable[[Any, Any, Any], Any]:
    """`owner._parse_value` (Registration- and AuthenticationResponse): client extension
    results stay as they are, with their hint built once instead of for every value. Its
    fields' plans (`_hint_plan`) know this, when `super(owner, cls)` is our JSON parse."""

    def parse_value(cls: Any, t: Any, value: Any) -> Any:
        if t == _EXTENSIONS_HINT:
            return value
        return super(owner, cls)._parse_value(t, value)

    _response_parsers.add(parse_value)
    return parse_value


# --- authenticator data, parsed once per bytes ---------------------------------------------------
_AUTH_DATA_FIELDS = ("rp_id_hash", "flags", "counter", "credential_data", "extensions")


def _auth_data_init(self: Any, _: bytes) -> None:
    """`AuthenticatorData.__init__`: the fields of the same bytes parsed before, else
    `_auth_data_fields` (fido2's own parse for fewer than the fixed 37 bytes); failures are
    never remembered. Only `AuthenticatorData` itself: a subclass may parse differently."""
    own = _parse[(AuthenticatorData, "__init__")]
    if type(self) is not AuthenticatorData:
        return own(self, _)  # type: ignore[no-any-return]
    raw = bytes(self)
    parsed = _auth_data.get(raw)
    if parsed is None:
        if len(raw) < _AUTH_DATA_FIXED:
            return own(self, _)  # type: ignore[no-any-return]  # fido2 says what is missing
        fields = _auth_data_fields(raw)
        with _auth_data_lock:
            while len(_auth_data) >= _AUTH_DATA_MEMO:
                del _auth_data[next(iter(_auth_data))]
            _auth_data[raw] = tuple(_fresh(value) for value in fields)
    else:
        fields = tuple(value if type(value) in _ATOMS else _fresh(value) for value in parsed)
    for name, value in zip(_AUTH_DATA_FIELDS, fields, strict=True):
        object.__setattr__(self, name, value)
    return None


_AUTH_DATA_FIXED = 37  # RP ID hash, flags, counter
_AT, _ED = AuthenticatorData.FLAG.AT.value, AuthenticatorData.FLAG.ED.value
_ATOMS = frozenset({bytes, int, str, bool, type(None)})  # immutable: never copied


def _auth_data_fields(raw: bytes) -> tuple[Any, ...]:
    """What fido2's `AuthenticatorData.__init__` reads from `raw` (at least the fixed 37 bytes)
    in `_AUTH_DATA_FIELDS` order, failing as it fails: the fixed fields sliced instead of read
    through a `ByteBuffer`, and the flags tested as the int they are, not through `IntFlag`."""
    flags, rest = raw[32], raw[_AUTH_DATA_FIXED:]
    credential_data = extensions = None
    if flags & _AT:
        credential_data, rest = AttestedCredentialData.unpack_from(rest)
    if flags & _ED:
        extensions, rest = fido2.cbor.decode_from(rest)
    if rest:
        raise ValueError("Wrong length")
    return raw[:32], flags, int.from_bytes(raw[33:37]), credential_data, extensions


def _unpack_credential_data(cls: Any, data: bytes) -> tuple[Any, bytes]:
    """`AttestedCredentialData.unpack_from`: fido2 parses the data, then builds the object from
    the parts (`create` encodes the COSE key again, and its `__init__` parses all of it once
    more). Where the encoding gives back the very bytes that were read, that second parse would
    give what the first did, so the object is made from the first (whose COSE key nobody else
    holds); otherwise, and for a subclass, fido2's own way."""
    read = _canonical_es256(data) if cls is AttestedCredentialData else None
    if read is not None:  # the parse fido2 would make, whose encoding gives the bytes back
        (aaguid, credential_id, public_key), end = read
        return _credential_data(data[:end], aaguid, credential_id, public_key), data[end:]
    aaguid, credential_id, public_key, rest = cls._parse(data)
    made = aaguid + struct.pack(">H", len(credential_id)) + credential_id + \
        fido2.cbor.encode(public_key)
    if cls is not AttestedCredentialData or made + rest != data:
        return cls.create(aaguid, credential_id, public_key), rest
    return _credential_data(made, aaguid, credential_id, public_key), rest


def _credential_data(raw: bytes, aaguid: Any, credential_id: bytes, public_key: Any) -> Any:
    """Attested credential data `raw` with its parsed fields, as the tenant assembles it."""
    return assembled(AttestedCredentialData, raw, aaguid=aaguid, credential_id=credential_id,
                     public_key=public_key)


def _canonical_es256(data: bytes) -> tuple[tuple[Aaguid, bytes, CoseKey], int] | None:
    """The (AAGUID, credential id, COSE key) `AttestedCredentialData._parse(data)` gives, and
    where they end, when the key is an ES256 key in fido2's canonical 77 bytes (read off its
    fixed layout, as the tenant reads it), else None."""
    at = 18 + int.from_bytes(data[16:18])
    key = canonical_es256_key(data, at)
    if key is None:
        return None
    return (Aaguid(data[:16]), data[18:at], key), at + ES256_KEY_SIZE


def _client_data_create(cls: Any, type: str, challenge: bytes | str, origin: str,
                        cross_origin: bool = False, **kwargs: Any) -> Any:
    """`CollectedClientData.create`: fido2 writes the JSON, then its `__init__` reads it back
    for the fields. Where the values are ASCII text and a bool (whose JSON reads back as the
    same plain `str` and bool), the fields are those values; otherwise, with further members,
    and for a subclass, fido2's own way."""
    encoded = fido2.utils.websafe_encode(challenge) if isinstance(challenge, bytes) else challenge
    if (cls is not CollectedClientData or kwargs or builtins.type(cross_origin) is not bool
            or not all(isinstance(text, str) and text.isascii()
                       for text in (type, encoded, origin))):
        own = _parse[(CollectedClientData, "create")].__func__
        return own(cls, type, challenge, origin, cross_origin, **kwargs)
    members = {"type": type, "challenge": encoded, "origin": origin, "crossOrigin": cross_origin}
    # plain str, as json.loads gives
    plain_type, plain_challenge, plain_origin = (str.__str__(text)
                                                 for text in (type, encoded, origin))
    data: dict[str, Any] = {"type": plain_type, "challenge": plain_challenge,
                            "origin": plain_origin, "crossOrigin": cross_origin}
    return assembled(cls, json.dumps(members, separators=(",", ":")).encode(), _data=data,
                     type=plain_type, challenge=fido2.utils.websafe_decode(plain_challenge),
                     origin=plain_origin, cross_origin=cross_origin)


def _attestation_object_create(cls: Any, fmt: str, auth_data: AuthenticatorData,
                               att_stmt: Mapping[str, Any]) -> Any:
    """`AttestationObject.create`: fido2 encodes the three parts, then decodes what it wrote
    to fill the object's fields. Where the parts are plain values (whose decoding is known
    without reading the bytes back: a copy, maps in canonical key order), the fields are
    filled from them; otherwise, and for a subclass, by fido2's decode."""
    raw = fido2.cbor.encode({"fmt": fmt, "authData": auth_data, "attStmt": att_stmt})
    statement = _decoded(att_stmt) if cls is AttestationObject else None
    if type(fmt) is not str or not isinstance(auth_data, bytes) or type(statement) is not dict:
        return cls(raw)
    return assembled(cls, raw, fmt=fmt, auth_data=AuthenticatorData(bytes(auth_data)),
                     att_stmt=statement)


def _decoded(value: Any) -> Any:
    """What decoding the encoding of a plain `value` gives (exact ints, bools, text, bytes,
    lists and dicts of them), or None for anything else."""
    kind = type(value)
    if kind is int or kind is bool or kind is str or kind is bytes:
        return value
    if kind is list:
        items = [_decoded(v) for v in value]
        return None if any(v is None for v in items) else items
    if kind is dict:
        pairs = []
        for k, v in value.items():
            key, item = _decoded(k), _decoded(v)
            if key is None or item is None:
                return None
            pairs.append((_cbor_sort_key(fido2.cbor.encode(key)), key, item))
        pairs.sort(key=_first)
        return {key: item for _, key, item in pairs}
    return None


def _cbor_sort_key(encoded: bytes) -> tuple[int, int, bytes]:
    """Where an encoded map key goes in fido2's canonical order."""
    return encoded[0], len(encoded), encoded


def _first(entry: tuple[Any, ...]) -> Any:
    return entry[0]


def _fresh(value: Any) -> Any:
    """A copy of a parsed value that shares nothing mutable with it: dicts (COSE keys, the
    extensions), lists and attested credential data are new; bytes, ints and strings are
    immutable and kept."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is AttestedCredentialData:
        return assembled(AttestedCredentialData, value, aaguid=value.aaguid,
                         credential_id=value.credential_id, public_key=_fresh(value.public_key))
    if kind is dict or issubclass(kind, CoseKey):  # no CoseKey has an __init__ of its own
        return kind({k: v if type(v) in _ATOMS else _fresh(v) for k, v in value.items()})
    if kind is list:
        return [v if type(v) in _ATOMS else _fresh(v) for v in value]
    return value
