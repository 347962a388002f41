"""The Allure results folder kept light: no fixture containers that say nothing, shards merged.

allure-pytest writes one container file per fixture use (`case` and `conformance`: two per
case, ~7,700 of a full run's files), each holding only the fixture's start and stop. A
container whose set-up and tear-down passed without steps, attachments or a message adds
nothing a reader uses, so it is dropped; one that failed (an emulator that did not start) or
carries evidence stays. Merging shards copies their results into one folder the same way, so a
merged run is a reports folder like any other.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CONTAINER = "-container.json"
PASSED = (None, "passed")


def says_nothing(container: dict[str, Any]) -> bool:
    """Every fixture in it passed with no steps, attachments, parameters or message."""
    fixtures = [*container.get("befores", ()), *container.get("afters", ())]
    return all(f.get("status") in PASSED and not f.get("statusDetails") and not f.get("steps")
               and not f.get("attachments") and not f.get("parameters") for f in fixtures)


def _droppable(path: Path) -> bool:
    if not path.name.endswith(CONTAINER):
        return False
    try:
        container = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False  # not ours to judge: Allure reports a broken file itself
    return isinstance(container, dict) and says_nothing(container)


def compact(results_dir: Path) -> int:
    """Drop the containers that say nothing; returns how many."""
    dropped = [path for path in Path(results_dir).iterdir() if _droppable(path)]
    for path in dropped:
        path.unlink()
    return len(dropped)


def merge(sources: Sequence[Path], dest: Path) -> int:
    """Copy the sources' result files into dest (emptied first), leaving out the containers
    that say nothing; returns the number of files copied. Allure names every file by a UUID,
    so shards never collide; the environment files are written afresh by the report."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    copied = 0
    for source in sources:
        for path in Path(source).iterdir():
            if path.is_file() and not _droppable(path):
                shutil.copyfile(path, dest / path.name)
                copied += 1
    return copied
