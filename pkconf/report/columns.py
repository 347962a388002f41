"""Plain-text tables for the terminal: left-aligned columns, two spaces apart."""

from __future__ import annotations

from collections.abc import Sequence


def aligned(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The header and each row, every column as wide as its widest cell."""
    table = [list(head), *(list(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(head))]
    return ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
            for line in table]
