"""The options `pkconf run` and the pytest plugin share: defined once, so both accept the same
flags with the same help, and the checks a selection must pass before anything runs.

`add` is `argparse.ArgumentParser.add_argument` or pytest's `OptionGroup.addoption`; both take
the same keywords.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pkconf.ceremonies.graph_client import add_graph_options
from pkconf.ceremonies.tenant import TenantUrlError, tenant_url
from pkconf.inputs import AS_OF_HELP, CLOUD_HELP, UsageError

from .cases import CEREMONIES
from .evidence import EVIDENCE_HELP, EVIDENCE_MODES

AREAS = ("policy-scope", "bootstrap", "passkey-types", "key-restrictions", "attestation",
         "windows-hello", "platform-paths", "ceremony-integrity", "provisioning-api", "browser",
         "matrix", "own-policy")
SELECTORS = ("ceremony", "profile", "case", "area")
# Installed pytest plugins the suite never uses, blocked in its runs: each process would pay
# ~1.5 s for them (hypothesis's package is assertion-rewritten on import, and its and anyio's
# hooks look at every one of ~4,000 collected cases), in every xdist worker; pytest's own
# subtests plugin looks at every report, three per case, in the workers and the controller.
UNUSED_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:anyio", "-p", "no:subtests")


def add_run_options(add: Callable[..., Any]) -> None:
    """Every option of a conformance run, for `pkconf run` and the plugin alike."""
    add("--target", default="emulator",
        help="'emulator' (default: one embedded emulator per worker), the base URL of a running "
             "one, or 'graph': a tenant through Microsoft Graph (docs/graph-target.md)")
    add("--ceremony", action="append", metavar="CEREMONY",
        help=f"only cases of this ceremony: {', '.join(CEREMONIES)} (repeatable)")
    add("--profile", action="append", metavar="PROFILE",
        help="only cases of this authenticator profile (`pkconf authenticators`), or with "
             "--policy an authenticator file's, on each platform path it declares (repeatable)")
    add("--case", action="append", metavar="GLOB",
        help="only cases whose id matches this glob, e.g. 'KR-*' (repeatable)")
    add("--area", action="append", metavar="AREA",
        help=f"only cases of this decision area: {', '.join(AREAS)} (repeatable)")
    add("--policy", metavar="FILE",
        help="run every profile against this policy instead of the case files; the decisions "
             "are recorded, not compared")
    add("--user", metavar="FILE",
        help="with --policy: decide for this user (USER.json; its groups are the tenant's "
             "group ids)")
    add("--directory", metavar="PATH",
        help="with --policy: decide once for each user class of this directory export")
    add("--matrix-strength", type=int, default=2, metavar="T",
        help="t-wise strength of the generated matrix (0: full product; default 2)")
    add("--no-matrix", action="store_true", help="explicit cases only, no generated matrix")
    add("--shard", metavar="I/N", help="run only shard I of N (1-based)")
    add("--mds", metavar="BLOB", help="a FIDO MDS3 BLOB for the emulator (default: the suite's "
                                      "test BLOB)")
    add("--mds-root", metavar="PEM", help="the root certificate --mds chains to")
    add("--as-of", metavar="YYYY-MM-DD", help=AS_OF_HELP)
    add("--cloud", metavar="CLOUD", help=CLOUD_HELP)
    add("--evidence", choices=EVIDENCE_MODES, default="failures", help=EVIDENCE_HELP)
    add("--browser-ws", metavar="URL",
        help="connect browser cases to this Playwright browser server instead of launching "
             "Chromium (launch it with BrowserSession.browser_args())")
    add("--no-browser-reuse", action="store_true",
        help="a fresh browser context per browser case (default: reuse what fits)")
    add_graph_options(add)


def shard(spec: str | None) -> tuple[int, int] | None:
    """`I/N` with 1 <= I <= N, or a UsageError naming the value."""
    if not spec:
        return None
    index, _, count = spec.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise UsageError(f"--shard {spec!r}: expected I/N with 1 <= I <= N, e.g. 1/4")
    return int(index), int(count)


def check_target(target: str) -> None:
    """--target is emulator, graph or the http(s) URL of a running emulator: anything else
    would fail every case alike, so it is refused before one runs."""
    if target in ("emulator", "graph"):
        return
    try:
        tenant_url(target)
    except TenantUrlError as e:
        raise UsageError(f"--target: {e}; expected emulator, graph or a running emulator's "
                         "URL") from None


def check_selectors(areas: Sequence[str] | None, ceremonies: Sequence[str] | None) -> None:
    """A typo'd area or ceremony would select nothing and pass: refuse it, naming it."""
    for flag, values, known in (("--area", areas, AREAS), ("--ceremony", ceremonies, CEREMONIES)):
        for value in values or ():
            if value not in known:
                raise UsageError(f"{flag}: unknown {flag[2:]} {value!r}; one of "
                                 f"{', '.join(known)}")


def unmatched(globs: Sequence[str] | None, ids: Iterable[tuple[str, str]]) -> str | None:
    """The first --case glob that matches no case id (`case_id` or the full `id`), if any."""
    import fnmatch

    pairs = list(ids)
    for glob in globs or ():
        if not any(fnmatch.fnmatch(case_id, glob) or fnmatch.fnmatch(full, glob)
                   for case_id, full in pairs):
            return f"--case {glob!r} matches no case"
    return None
