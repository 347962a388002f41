"""Which cases a run selects, and the check that a selection runs something.

`get` reads an option by its flag: pytest's `config.getoption`, or `pkconf run`'s arguments,
so the command refuses an empty selection before pytest starts and the plugin does the same
under plain pytest.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Callable, Sequence
from typing import Any

from pkconf.authenticators.files import is_authenticator_file
from pkconf.inputs import UsageError

from .cases import Case, load_cases
from .options import SELECTORS, shard, unmatched
from .own_policy import RunProfiles

Get = Callable[[str], Any]


@functools.cache
def explicit_cases() -> list[Case]:
    """The case files, read once per process (the selection check and collection share it)."""
    return load_cases()


@functools.cache
def matrix_cases(strength: int) -> list[Case]:
    from .matrix import generate

    return generate(strength)


def _source(get: Get, source: str, own: Sequence[Case]) -> list[Case]:
    if get("--policy"):
        return list(own) if source == "explicit" else []
    if source == "explicit":
        return explicit_cases()
    return [] if get("--no-matrix") else matrix_cases(get("--matrix-strength"))


def select_cases(get: Get, source: str, own: Sequence[Case],
                 run_profiles: RunProfiles) -> list[Case]:
    """The cases of one source ("explicit" or "matrix"), filtered by the selectors, then
    sharded."""
    cases = _source(get, source, own)
    profiles = get("--profile")
    if profiles:  # a file stands for the profiles it registered, one per platform path
        profiles = [p for p in profiles if not is_authenticator_file(p)]
        profiles += list(run_profiles.profiles)
    wanted = {"ceremony": get("--ceremony"), "profile": profiles, "area": get("--area")}
    for attr, values in wanted.items():
        if values:
            cases = [c for c in cases if getattr(c, attr) in values]
    if globs := get("--case"):
        cases = [c for c in cases if any(fnmatch.fnmatch(c.case_id, g) or
                                         fnmatch.fnmatch(c.id, g) for g in globs)]
    spec = shard(get("--shard"))
    if spec is None:
        return cases
    index, count = spec
    return [c for i, c in enumerate(cases) if i % count == index - 1]


def _given(get: Get) -> list[str]:
    return [f"--{flag} {value}" for flag in SELECTORS for value in get(f"--{flag}") or ()]


def check_collected(get: Get, collected: Sequence[tuple[str, str]]) -> None:
    """The plugin's check, over the (case id, full id) pairs pytest collected: the selectors
    have already filtered them, so a glob matching none of them matched nothing selectable."""
    if not (given := _given(get)):
        return
    if why := unmatched(get("--case"), collected):
        raise UsageError(why)
    if not collected and not get("--shard"):
        raise UsageError(f"no case matches {' '.join(given)}")


def check_selection(get: Get, own: Sequence[Case], run_profiles: RunProfiles) -> None:
    """A selection that runs nothing is an error naming the selectors, never a green run: a
    --case glob that matches no case, or selectors that together leave nothing."""
    if not (given := _given(get)):
        return
    every = [*_source(get, "explicit", own), *_source(get, "matrix", own)]
    if why := unmatched(get("--case"), ((c.case_id, c.id) for c in every)):
        raise UsageError(why)
    def unsharded(flag: str) -> Any:  # a shard of a small selection may be empty: no error
        return None if flag == "--shard" else get(flag)

    if not any(select_cases(unsharded, source, own, run_profiles) for source in ("explicit",
                                                                                   "matrix")):
        raise UsageError(f"no case matches {' '.join(given)}")
