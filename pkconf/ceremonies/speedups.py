"""Opt-in speed-ups for python-fido2's data classes, process-wide, switched on explicitly.

Why: a software registration cost 3.7 ms (stack-notes), ~60 % of it in `typing.get_type_hints`.
python-fido2's data classes re-evaluate their type hints, and find each field's wire key by a
linear search of `dataclasses.fields`, on every construction and parse. Both are pure functions
of the class, so remembering them per class changes no result, only the time.

Doing so replaces fido2 internals (`fido2.utils.get_type_hints` and the `_get_field_key` of
`_CborDataObject` and `_JsonDataObject`) for the whole process, so it is never a side effect of
an import: the CLI, the conformance plugin and the benchmarks call `enable_fido2_speedups()`.
It applies only to fido2 releases whose internals were read for it, and only when they still
have the expected shape; otherwise fido2 stays as it is and one warning says why.
"""

from __future__ import annotations

import typing
import warnings
from collections.abc import Callable
from dataclasses import Field
from importlib.metadata import PackageNotFoundError, version
from threading import Lock
from typing import Any

import fido2.ctap2.base
import fido2.utils

# fido2 releases whose utils.py and ctap2/base.py were read for these patches (identical in both)
CHECKED_VERSIONS = ("2.2.0", "2.2.1")

_HINTS = "get_type_hints"  # the name fido2.utils calls, imported from typing
_FIELD_KEY = "_get_field_key"  # the classmethod each data-object base defines
_OWNERS = ((fido2.ctap2.base, "_CborDataObject"), (fido2.utils, "_JsonDataObject"))

_lock = Lock()
_originals: dict[type, Any] | None = None  # owner -> its own `_get_field_key`, while enabled
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
