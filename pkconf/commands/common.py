"""What the decision commands share: their input options and how a decision is printed."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_decision_arguments(p: argparse.ArgumentParser, *, policy_help: str) -> None:
    """The inputs and output options `verify` and `decide` share."""
    p.add_argument("--policy", required=True, metavar="POLICY.json", help=policy_help)
    p.add_argument("--user", required=True, metavar="USER.json",
                   help='{"userType", "groups", "mfaAgeSeconds", "tap"}')
    p.add_argument("--mds", metavar="BLOB",
                   help="a FIDO MDS3 BLOB (default: the suite's test BLOB)")
    p.add_argument("--mds-root", metavar="PEM", help="the root certificate the BLOB chains to")
    p.add_argument("--json", action="store_true", help="print the decision as one JSON object")


def print_decision(decision: dict[str, Any], as_json: bool) -> int:
    """Print a decision (Decision.to_json() shape); the exit code: 0 accepted, 1 rejected."""
    if as_json:
        print(json.dumps(decision, indent=2))
    else:
        accepted = decision.get("outcome") == "accepted"
        print("ACCEPTED" if accepted
              else f"REJECTED  {decision.get('family')}  {decision.get('reason')}")
        print(f"  {decision.get('detail', '')}")
        print(f"  aaguid={decision.get('aaguid')} type={decision.get('passkeyType')} "
              f"fmt={decision.get('attestationFormat')} level={decision.get('attestationLevel')}")
        source = decision.get("source") or {}
        print(f"  rule: {source.get('fact')} ({source.get('status')}) {source.get('url')}")
    return 0 if decision.get("outcome") == "accepted" else 1
