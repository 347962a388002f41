"""The real captured registrations, shipped with the tests (README.md here names each origin).

They are test data, so they live beside the tests and every clone runs them; PKCONF_VECTORS
names another directory with a real_registrations.json (a newer capture set) instead.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

VECTORS = Path(os.environ.get("PKCONF_VECTORS", Path(__file__).parent)) / "real_registrations.json"

Vector = dict[str, Any]


@cache
def vectors() -> tuple[Vector, ...]:
    """Every capture in file order: tests and README.md name them by index."""
    return tuple(json.loads(VECTORS.read_text()))
