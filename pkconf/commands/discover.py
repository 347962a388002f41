"""`pkconf discover`: what a real tenant did (a Graph-target run's observations) held against
the rule book, and the evidence a maintainer can write into it; `--fail-on contradicted` makes
it a CI gate on Entra changing under the suite."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..admin.discover import Verdict, discover, markdown, read_observations, table, to_json
from ..inputs import UsageError
from ..paths import CHECKOUT, REPORTS

HELP = "compare a tenant's observations (reports/observations.jsonl) with the rule book"
DEFAULT_OUT = REPORTS / "discovery.md"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("observations", nargs="+", metavar="OBSERVATIONS.jsonl",
                   help="observation files of Graph-target runs (docs/graph-target.md §4)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", metavar="FILE.md", type=Path, default=DEFAULT_OUT,
                   help="the Markdown evidence for the rule book (default: "
                        "reports/discovery.md)")
    p.add_argument("--fail-on", choices=("contradicted",),
                   help="exit 1 when an observation contradicts its case")


def run(args: argparse.Namespace) -> int:
    found = discover(read_observations(args.observations))
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown(found, CHECKOUT))
    except OSError as e:
        raise UsageError(f"cannot write {args.out}: {e.strerror or e}") from None
    if args.json:
        print(json.dumps(to_json(found), indent=2))
    else:
        print("\n".join(table(found)))
        print(f"\nevidence for the rule book: {args.out}")
    return 1 if args.fail_on and found.total(Verdict.CONTRADICTED) else 0
