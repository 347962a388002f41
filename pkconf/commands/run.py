"""`pkconf run`: the main job — every conformance case against the emulator, then the reports."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..paths import CHECKOUT, REPORTS, package_dir

HELP = "run the conformance suite (explicit cases and the generated matrix) and write reports"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from conformance.options import add_run_options

    add_run_options(p.add_argument)  # the plugin's options, with the same help
    p.add_argument("-n", "--workers", default="auto",
                   help="pytest-xdist workers (default: auto = one per core)")
    p.add_argument("--reports", default=str(REPORTS), metavar="DIR",
                   help="where reports go (default: reports/)")
    p.add_argument("--no-html", action="store_true", help="skip the single-file HTML report")


def _shared_options() -> list[tuple[str, dict[str, Any]]]:
    """The run options the plugin takes too, as (flag, keywords): passed on to pytest."""
    from conformance.options import add_run_options

    found: list[tuple[str, dict[str, Any]]] = []
    add_run_options(lambda *flags, **kw: found.append((flags[-1], kw)))
    return found


def _pytest_config(suite: Path) -> list[str]:
    """A checkout's own pytest settings (its conftest loads the plugin); installed, the same
    settings given here, and no ini file or conftest of the directory pkconf runs in."""
    if CHECKOUT:
        return ["--rootdir", str(CHECKOUT), "-c", str(CHECKOUT / "pyproject.toml")]
    return ["--rootdir", str(suite.parent), "-c", os.devnull, "--confcutdir", str(suite),
            "-p", "conformance.plugin", "-ra", "--import-mode=importlib"]


def pytest_args(args: argparse.Namespace, reports: Path) -> list[str]:
    from conformance.options import UNUSED_PLUGINS

    suite = package_dir("conformance")
    out = [str(suite / "test_cases.py")]
    if not args.no_matrix and not args.policy:
        out.append(str(suite / "test_matrix_cases.py"))
    out += [*_pytest_config(suite),
            # pkconf has imported httpx (and so anyio's plugin) before pytest starts here
            "-W", "ignore::pytest.PytestAssertRewriteWarning", *UNUSED_PLUGINS,
            "-p", "no:cacheprovider", "-q", "-n", str(args.workers),
            "--alluredir", str(reports / "allure-results"), "--clean-alluredir",
            "--junitxml", str(reports / "junit.xml"), "--results-dir", str(reports)]
    for flag, kw in _shared_options():
        value = getattr(args, flag[2:].replace("-", "_"))
        if kw.get("action") == "store_true":
            out += [flag] if value else []
        elif kw.get("action") == "append":
            out += [item for v in value or () for item in (flag, v)]
        elif value is not None:
            out += [flag, str(value)]
    if args.target == "graph":  # one tenant, one process: cases share its policy
        out[out.index("-n") + 1] = "0"
    return out


def run(args: argparse.Namespace) -> int:
    import pytest

    from ..inputs import UsageError, read_rule_book
    from .report import write_reports

    read_rule_book(args.as_of, args.cloud)  # a bad day or cloud: one line here, not pytest's
    from conformance.options import check_selectors, check_target, shard
    from conformance.own_policy import own_policy_cases, read_run_profiles
    from conformance.selection import check_selection

    shard(args.shard)
    check_target(args.target)
    check_selectors(args.area, args.ceremony)  # a typo'd selector would run nothing
    files = read_run_profiles(args.profile, args.policy)  # an unknown profile or bad file too
    own = []
    if args.policy:  # a bad policy, user or directory: the same
        own = own_policy_cases(args.policy, args.user, args.directory, files.profiles)
    elif args.user or args.directory:
        raise UsageError("--user and --directory go with --policy")
    check_selection(lambda flag: getattr(args, flag[2:].replace("-", "_")), own, files)
    reports = Path(args.reports).resolve()
    if args.target == "graph":  # missing options or an unrestored tenant: one line, here
        from conformance.graph_target import graph_options

        graph_options(lambda flag: getattr(args, flag[2:].replace("-", "_"), None), reports,
                      read_rule_book(args.as_of, args.cloud).cloud)
    reports.mkdir(parents=True, exist_ok=True)
    code = pytest.main(pytest_args(args, reports))
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        if args.shard:  # a shard of a small selection may well be empty: nothing failed
            print(f"shard {args.shard} has no cases")
            return 0
        raise UsageError("no case matched the selectors")  # checked above; kept as a guard
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise UsageError(f"the test run did not complete (pytest exit code {int(code)})")
    results = reports / "results.jsonl"
    if args.target == "graph" and (not results.exists() or not results.read_text().strip()):
        raise UsageError("no case ran on the tenant: each was skipped for the reason listed "
                         "above" + ("" if args.allow_policy_changes else
                                    " (--allow-policy-changes lets cases apply their policies)"))
    write_reports(reports, args.target, html=not args.no_html)
    return 0 if code == pytest.ExitCode.OK else 1
