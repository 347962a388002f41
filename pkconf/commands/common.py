"""What the decision commands share: their input options and how a decision is printed."""

from __future__ import annotations

import argparse
import json

from ..inputs import AS_OF_HELP, CLOUD_HELP
from ..tenant.decision import Decision


def add_rule_book_arguments(p: argparse.ArgumentParser, *, as_of_help: str = AS_OF_HELP) -> None:
    """--as-of and --cloud: read in `run` (`inputs.read_rule_book`), so a bad value is one line
    and exit 2 like every other unusable input."""
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help=as_of_help)
    p.add_argument("--cloud", metavar="CLOUD", help=CLOUD_HELP)


def add_decision_arguments(p: argparse.ArgumentParser, *, policy_help: str) -> None:
    """The inputs and output options `verify` and `decide` share."""
    p.add_argument("--policy", required=True, metavar="POLICY.json", help=policy_help)
    p.add_argument("--user", required=True, metavar="USER.json",
                   help='{"userType", "groups", "mfaAgeSeconds", "tap", '
                        '"windowsHelloForBusiness"} (README: USER.json)')
    add_rule_book_arguments(p)
    p.add_argument("--mds", metavar="BLOB",
                   help="a FIDO MDS3 BLOB (default: the suite's test BLOB)")
    p.add_argument("--mds-root", metavar="PEM", help="the root certificate the BLOB chains to")
    p.add_argument("--json", action="store_true", help="print the decision as one JSON object")


def print_decision(decision: Decision, as_json: bool) -> int:
    """Print a decision (`--json`: its JSON object); the exit code: 0 accepted, 1 rejected."""
    if as_json:
        print(json.dumps(decision.to_json(), indent=2))
    else:
        print("ACCEPTED" if decision.accepted
              else f"REJECTED  {decision.family}  {decision.reason}")
        print(f"  {decision.detail}")
        print(f"  aaguid={decision.aaguid} type={decision.passkey_type} "
              f"fmt={decision.attestation_format} level={decision.attestation_level}")
        print(f"  rule: {decision.rule.fact} ({decision.status}) {decision.rule.url}")
        print(f"  rule book: as of {decision.as_of or 'undated'} in {decision.cloud}, "
              f"{decision.reason} version {decision.version}{_period(decision)}")
    return 0 if decision.accepted else 1


def _period(decision: Decision) -> str:
    """When the applied rule version holds in the decision's cloud, if it is dated."""
    since, until = decision.rule.period(decision.cloud)
    words = [f"{word} {day}" for word, day in (("from", since), ("until", until)) if day]
    return f" ({' '.join(words)})" if words else ""
