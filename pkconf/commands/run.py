"""`pkconf run`: the main job — every conformance case against the emulator, then the reports."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..ceremonies.graph_client import add_graph_options
from ..paths import CHECKOUT, REPORTS, package_dir
from .common import add_rule_book_arguments

HELP = "run the conformance suite (explicit cases and the generated matrix) and write reports"


def add_arguments(p: argparse.ArgumentParser) -> None:
    for flag, what in (("--ceremony", "ctap or graph"),
                       ("--profile", "a profile name, or (with --policy) an authenticator "
                                     "file's, on each platform path it declares"),
                       ("--case", "a case id glob, e.g. 'KR-*'"), ("--area", "a decision area")):
        p.add_argument(flag, action="append", metavar=flag.strip("-").upper(),
                       help=f"only cases of this {what} (repeatable)")
    p.add_argument("--policy", metavar="FILE",
                   help="run every profile against your own policy (decisions recorded)")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--user", metavar="FILE",
                     help="with --policy: decide for this user (USER.json; its groups are your "
                          "tenant's group ids)")
    who.add_argument("--directory", metavar="PATH",
                     help="with --policy: decide once per user class of this directory export")
    p.add_argument("--matrix-strength", type=int, default=2, metavar="T",
                   help="t-wise strength of the generated matrix (0: full product; default 2)")
    p.add_argument("--no-matrix", action="store_true", help="explicit cases only")
    p.add_argument("--shard", metavar="I/N", help="run only shard I of N")
    p.add_argument("-n", "--workers", default="auto",
                   help="pytest-xdist workers (default: auto = one per core)")
    p.add_argument("--target", default="emulator",
                   help="'emulator' (default), the base URL of a running emulator, or 'graph': "
                        "a tenant through Microsoft Graph (docs/graph-target.md)")
    add_graph_options(p.add_argument)
    p.add_argument("--mds", metavar="BLOB", help="a FIDO MDS3 BLOB (default: the test BLOB)")
    p.add_argument("--mds-root", metavar="PEM", help="the root certificate --mds chains to")
    add_rule_book_arguments(p)  # for cases that pin no as_of/cloud of their own
    p.add_argument("--reports", default=str(REPORTS), metavar="DIR",
                   help="where reports go (default: reports/)")
    p.add_argument("--no-html", action="store_true", help="skip the single-file HTML report")


GRAPH_VALUES = ("tenant", "client_id", "certificate", "graph_url", "authority", "ca_file",
                "i_own_this_test_tenant", "restore_file", "policy_write_interval")


def _pytest_config(suite: Path) -> list[str]:
    """A checkout's own pytest settings (its conftest loads the plugin); installed, the same
    settings given here, and no ini file or conftest of the directory pkconf runs in."""
    if CHECKOUT:
        return ["--rootdir", str(CHECKOUT), "-c", str(CHECKOUT / "pyproject.toml")]
    return ["--rootdir", str(suite.parent), "-c", os.devnull, "--confcutdir", str(suite),
            "-p", "conformance.plugin", "-ra", "--import-mode=importlib"]


def pytest_args(args: argparse.Namespace, reports: Path) -> list[str]:
    suite = package_dir("conformance")
    out = [str(suite / "test_cases.py")]
    if not args.no_matrix and not args.policy:
        out.append(str(suite / "test_matrix_cases.py"))
    out += [*_pytest_config(suite),
            # pkconf has imported httpx (and so anyio's plugin) before pytest starts here
            "-W", "ignore::pytest.PytestAssertRewriteWarning",
            "-p", "no:cacheprovider", "-q", "-n", str(args.workers),
            "--alluredir", str(reports / "allure-results"), "--clean-alluredir",
            "--junitxml", str(reports / "junit.xml"), "--results-dir", str(reports),
            "--target", args.target, "--matrix-strength", str(args.matrix_strength)]
    for flag in ("ceremony", "profile", "case", "area"):
        for value in getattr(args, flag) or ():
            out += [f"--{flag}", value]
    for flag in ("policy", "user", "directory", "shard", "mds", "mds_root", "as_of", "cloud",
                 *GRAPH_VALUES):
        if getattr(args, flag):
            out += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    if args.allow_policy_changes:
        out.append("--allow-policy-changes")
    if args.target == "graph":  # one tenant, one process: cases share its policy
        out[out.index("-n") + 1] = "0"
    return out


def run(args: argparse.Namespace) -> int:
    import pytest

    from ..inputs import UsageError, read_rule_book
    from .report import write_reports

    read_rule_book(args.as_of, args.cloud)  # a bad day or cloud: one line here, not pytest's
    from conformance.own_policy import own_policy_cases, read_run_profiles
    from conformance.plugin import check_selectors

    check_selectors(args.area, args.ceremony)  # a typo'd selector would run nothing
    files = read_run_profiles(args.profile, args.policy)  # an unknown profile or bad file too
    if args.policy:  # a bad policy, user or directory: the same
        own_policy_cases(args.policy, args.user, args.directory, files.profiles)
    elif args.user or args.directory:
        raise UsageError("--user and --directory go with --policy")
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
        raise UsageError("no case matched the selectors")
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise UsageError(f"the test run did not complete (pytest exit code {int(code)})")
    results = reports / "results.jsonl"
    if args.target == "graph" and (not results.exists() or not results.read_text().strip()):
        raise UsageError("no case ran on the tenant: each was skipped for the reason listed "
                         "above" + ("" if args.allow_policy_changes else
                                    " (--allow-policy-changes lets cases apply their policies)"))
    write_reports(reports, args.target, html=not args.no_html)
    return 0 if code == pytest.ExitCode.OK else 1
