"""JSON text read strictly: bounded nesting, JSON values only, each member name once.

Python's json module recurses once per nesting level: a document a few thousand levels deep
raises RecursionError, and one a few hundred deep can too when the caller's stack is already
deep (a web server's). The nesting is therefore measured first, without recursion, and a
document deeper than any the suite reads is refused before the parser sees it. The module
also reads NaN and Infinity, which are not JSON, and lets the last of two same-named members
win, where another reader may take the first: both are refused too.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any, NoReturn

MAX_DEPTH = 32  # far beyond any policy, user or clientDataJSON; the emulator's body limit too

# RFC 8259 §7: a string is quotes around unescaped characters and backslash escapes; brackets
# inside one are text, not structure. Written as runs of plain characters between escapes (the
# same strings as `"(?:[^"\\]|\\.)*"`, half the time on a 50,000-user directory export).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_STRUCTURE = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonTextError(ValueError):
    """The text is not JSON the suite reads; the message says why."""


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects (RFC 8259 §4, §5) nest deeper than `limit` in `text`."""
    if text.count("[") + text.count("{") <= limit:  # too few brackets, even in strings
        return False
    brackets = _NOT_STRUCTURE.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def _no_constants(name: str) -> NoReturn:
    """RFC 8259 §6: "Numeric values that cannot be represented ... (such as Infinity and NaN)
    are not permitted"."""
    raise JsonTextError(f"is not JSON: {name} is not JSON")


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """RFC 7493 §2.3 (I-JSON): "Objects in I-JSON messages MUST NOT have members with duplicate
    names"; RFC 8259 §4 leaves such an object's meaning to the reader."""
    obj = dict(pairs)  # made in C: a directory export has hundreds of thousands of objects
    if len(obj) < len(pairs):  # a name came twice: say the first that does
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise JsonTextError(f"is not I-JSON: an object has the member {name[:40]!r} "
                                    "twice")
            seen.add(name)
    return obj


# json.loads with these arguments makes a decoder per call; the decoder holds no state
_DECODER = json.JSONDecoder(parse_constant=_no_constants, object_pairs_hook=_unique_names)


def loads(text: str, limit: int = MAX_DEPTH) -> Any:
    """The JSON value of `text`, nested at most `limit` levels deep, as I-JSON reads it."""
    if too_deep(text, limit):
        raise JsonTextError(f"nests too deeply (over {limit} levels)")
    try:
        if not text.startswith("\ufeff"):  # else json.loads says why
            return _DECODER.decode(text)
        return json.loads(text, parse_constant=_no_constants, object_pairs_hook=_unique_names)
    except JsonTextError:
        raise
    except ValueError as e:
        raise JsonTextError(f"is not JSON: {e}") from None
