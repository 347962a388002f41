"""What the decision commands share: their input options and how a decision is printed."""

from __future__ import annotations

import argparse
import json

from ..tenant.decision import Decision


def add_decision_arguments(p: argparse.ArgumentParser, *, policy_help: str) -> None:
    """The inputs and output options `verify` and `decide` share."""
    p.add_argument("--policy", required=True, metavar="POLICY.json", help=policy_help)
    p.add_argument("--user", required=True, metavar="USER.json",
                   help='{"userType", "groups", "mfaAgeSeconds", "tap", '
                        '"windowsHelloForBusiness"} (README: USER.json)')
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
    return 0 if decision.accepted else 1
