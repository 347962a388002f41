"""What every benchmark prints for `pkconf bench`: its figures against their targets.

A figure is {"figure", "target", "measured", "unit", "better"}; `better` is "lower" (a time),
"higher" (a rate or a speed-up) or "flat" (a spread in percent, good within ±target). With
`--json` a script prints them as one JSON array on its last line; the targets live here, in
the scripts, and are printed, never asserted.
"""

from __future__ import annotations

import json
from typing import Any

Figure = dict[str, Any]


def figure(name: str, target: float, measured: float, unit: str, better: str) -> Figure:
    if better not in ("lower", "higher", "flat"):
        raise ValueError(f"better is lower, higher or flat, not {better!r}")
    return {"figure": name, "target": target, "measured": round(measured, 4), "unit": unit,
            "better": better}


def emit(figures: list[Figure], as_json: bool) -> None:
    """The figures for a reader, then (with --json) for `pkconf bench`."""
    for f in figures:
        print(f"  {f['figure']}: {f['measured']:.4g} {f['unit']} (target {f['target']:g})")
    if as_json:
        print(json.dumps(figures))
