"""`pkconf lint`: a policy's findings before it ships, each with its severity, JSON path and the
rule it follows; exit 1 on an error-level finding, so it can gate the pull request."""

from __future__ import annotations

import argparse
import json

from ..admin.lint import Finding, NotAPolicy, Severity, exit_code, lint
from ..inputs import UsageError, read_json, read_rule_book
from ..report.columns import aligned
from .common import add_rule_book_arguments
from .rules import short_url

HELP = "check a passkey (FIDO2) policy for what Graph refuses and what does not do what it seems"
COLUMNS = ("severity", "code", "path", "message", "source")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("policy", metavar="POLICY.json",
                   help="the Graph fido2 configuration, or the whole authentication methods "
                        "policy (its fido2 entry is linted)")
    add_rule_book_arguments(p, as_of_help="lint by the rule book as of this day, YYYY-MM-DD "
                                          "(default: today): Windows Hello's rules changed at "
                                          "its GA")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _source(f: Finding) -> str:
    return f"{f.source.fact} ({f.source.status}) {short_url(f.source.url)}"


def _summary(findings: list[Finding]) -> str:
    if not findings:
        return "no findings"
    counts = ", ".join(f"{n} {s}" for s in Severity
                       if (n := sum(f.severity is s for f in findings)))
    return f"{len(findings)} finding{'s' * (len(findings) > 1)}: {counts}"


def run(args: argparse.Namespace) -> int:
    book = read_rule_book(args.as_of, args.cloud)
    try:
        findings = lint(read_json(args.policy, "policy"), book)
    except NotAPolicy as e:
        raise UsageError(f"policy {args.policy} {e}") from None
    if args.json:
        print(json.dumps({"policy": args.policy, "asOf": book.as_of.isoformat(),
                          "cloud": str(book.cloud), "findings": [f.to_json() for f in findings]},
                         indent=2))
    else:
        print(f"{args.policy} as of {book.as_of} in the {book.cloud} cloud: "
              f"{_summary(findings)}")
        if findings:
            print("\n".join(aligned(COLUMNS, [[f.severity, f.code, f.path, f.message, _source(f)]
                                              for f in findings])))
    return exit_code(findings)
