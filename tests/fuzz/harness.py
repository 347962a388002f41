"""What every fuzz target shares: the example budget, the per-example deadline and watchdog,
and the tally `make fuzz` prints (inputs per target, 5xx, crashes).

Two profiles: the short one runs in the default test run (derandomized, so CI sees the same
examples each time); `PKCONF_FUZZ=long` (`make fuzz`) draws fresh examples, enough that the
targets together run at least 100,000 inputs.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis.errors import HypothesisException
from hypothesis.strategies import SearchStrategy

LONG = os.environ.get("PKCONF_FUZZ") == "long"
SHORT_EXAMPLES, LONG_EXAMPLES = 60, 8_500  # per target, times its weight
# A target that goes through the emulator's HTTP stack costs ~50 times a parse: the long
# profile gives it this many and meets the 100,000 with the in-process targets.
LONG_HTTP_EXAMPLES = 2_000
# One example slower than DEADLINE fails: a hang is a fault. Not tighter: on a loaded 2-core
# machine one emulator round trip was seen to stall 6 s and then run in milliseconds.
DEADLINE = timedelta(seconds=5)
WATCHDOG_SECONDS = 30  # an example that never returns is stopped here, not waited on

inputs: Counter[str] = Counter()  # target -> examples run
server_errors: Counter[str] = Counter()  # target -> 5xx answers seen
crashes: Counter[str] = Counter()  # target -> examples that broke the invariant
slow: Counter[str] = Counter()  # target -> examples past the deadline (hypothesis re-runs them)

F = TypeVar("F", bound=Callable[..., Any])


def fuzz(target: str, weight: float = 1.0, *, http: bool = False,
         **strategies: SearchStrategy[Any]) -> Callable[[F], F]:
    """`@given(**strategies)` under the profile's budget, each example counted and watched."""
    examples = SHORT_EXAMPLES if not LONG else LONG_HTTP_EXAMPLES if http else LONG_EXAMPLES
    budget = settings(
        max_examples=max(1, int(examples * weight)),
        deadline=DEADLINE, database=None, derandomize=not LONG, print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much, HealthCheck.large_base_example],
    )

    def wrap(test: F) -> F:
        @wraps(test)
        def counted(*args: Any, **kwargs: Any) -> Any:
            inputs[target] += 1
            started = time.monotonic()
            try:
                with _watchdog():
                    result = test(*args, **kwargs)
            except HypothesisException:
                raise  # hypothesis's own control flow (an example that drew too much)
            except Exception:
                crashes[target] += 1
                raise
            if time.monotonic() - started > DEADLINE.total_seconds():
                slow[target] += 1  # hypothesis fails it unless a re-run is in time (load)
            return result
        return budget(given(**strategies)(counted))  # type: ignore[return-value]
    return wrap


@contextmanager
def _watchdog() -> Iterator[None]:
    """SIGALRM after WATCHDOG_SECONDS: a hung example raises instead of stalling the run."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"an example ran past {WATCHDOG_SECONDS} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, WATCHDOG_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def report() -> list[str]:
    """The lines `make fuzz` ends with: per target, then the totals."""
    if not inputs:
        return []
    width = max(map(len, inputs))
    lines = [f"{target:<{width}}  {count:>8} inputs  5xx {server_errors[target]}  "
             f"crashes {crashes[target]}  slow {slow[target]}"
             for target, count in sorted(inputs.items())]
    lines.append(f"{'total':<{width}}  {sum(inputs.values()):>8} inputs  "
                 f"5xx {sum(server_errors.values())}  crashes {sum(crashes.values())}  "
                 f"slow {sum(slow.values())}")
    return lines
