"""JSON text read with bounded nesting, so that hostile input is refused, never a crash.

Python's json module recurses once per nesting level: a document a few thousand levels deep
raises RecursionError, and one a few hundred deep can too when the caller's stack is already
deep (a web server's). The nesting is therefore measured first, without recursion, and a
document deeper than any the suite reads is refused before the parser sees it.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32  # far beyond any policy, user or clientDataJSON; the emulator's body limit too

# RFC 8259 §7: a string is quotes around unescaped characters and backslash escapes; brackets
# inside one are text, not structure
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_STRUCTURE = re.compile(r"[\[\]{}]")


class JsonTextError(ValueError):
    """The text is not JSON the suite reads; the message says why."""


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects (RFC 8259 §4, §5) nest deeper than `limit` in `text`."""
    depth = 0
    for bracket in _STRUCTURE.finditer(_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def loads(text: str, limit: int = MAX_DEPTH) -> Any:
    """The JSON value of `text`, nested at most `limit` levels deep."""
    if too_deep(text, limit):
        raise JsonTextError(f"nests deeper than {limit} levels")
    try:
        return json.loads(text)
    except ValueError as e:
        raise JsonTextError(f"is not JSON: {e}") from None
