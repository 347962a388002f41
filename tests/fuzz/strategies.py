"""Hypothesis strategies for hostile registration material: JSON and CBOR values, byte edits,
and valid samples (tests/hostile/samples.py) to start from."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from tests.hostile.samples import SAMPLE_NAMES

json_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40))
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                  max_size=4),
    max_leaves=12)

cbor_scalars = (st.none() | st.booleans() | st.integers(-(2**65), 2**65) | st.binary(max_size=80)
                | st.text(max_size=24) | st.floats())
cbor_keys = st.integers(-4, 4) | st.sampled_from(["fmt", "attStmt", "authData", "alg", "sig",
                                                  "x5c", "ver", "response", "certInfo",
                                                  "pubArea"]) | st.text(max_size=6)
cbor_values: st.SearchStrategy[Any] = st.recursive(
    cbor_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(cbor_keys, inner, max_size=5),
    max_leaves=12)

EDIT = st.tuples(st.integers(0, 1 << 16), st.sampled_from(("flip", "delete", "insert", "set",
                                                            "truncate")),
                 st.binary(min_size=1, max_size=8))
edits = st.lists(EDIT, min_size=1, max_size=4)
samples = st.sampled_from(SAMPLE_NAMES)


def edit(data: bytes, changes: list[tuple[int, str, bytes]]) -> bytes:
    """`data` with the byte edits made, positions taken modulo its length."""
    buf = bytearray(data)
    for where, how, what in changes:
        at = where % (len(buf) + 1)
        if how == "flip" and at < len(buf):
            buf[at] ^= what[0] or 1
        elif how == "delete":
            del buf[at:at + len(what)]
        elif how == "insert":
            buf[at:at] = what
        elif how == "set":
            buf[at:at + len(what)] = what
        elif how == "truncate":
            del buf[at:]
    return bytes(buf)


def leaves(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON object: each can be replaced by a hostile value."""
    found = [path]
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += leaves(value, (*path, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found += leaves(value, (*path, i))
    return found


def replaced(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of `obj` with the value at `path` replaced (the root, when path is empty)."""
    if not path:
        return value
    out = copy.deepcopy(obj)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out
