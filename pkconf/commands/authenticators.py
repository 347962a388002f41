"""`pkconf authenticators`: the authenticator profiles the suite registers with, and any
physical FIDO keys attached to this machine."""

from __future__ import annotations

import argparse
import json

from ..authenticators.physical import AttachedKey, attached
from ..authenticators.profiles import PROFILES, Profile
from ..report.columns import aligned

HELP = "list the authenticator profiles and the physical FIDO keys attached"
COLUMNS = ("name", "aaguid", "format", "type", "platform", "transports")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _row(profile: Profile) -> dict[str, str | list[str] | bool]:
    return {
        "name": profile.name,
        "aaguid": profile.aaguid,
        "format": profile.attestation.fmt,
        "type": profile.passkey_type,
        "platform": str(profile.platform),
        "transports": list(profile.transports),
        "assumed": sorted(profile.assumed),
        "testOnly": profile.test_only,
    }


def run(args: argparse.Namespace) -> int:
    rows = [_row(p) for p in PROFILES.values()]
    keys = attached()
    if args.json:
        print(json.dumps({"profiles": rows, "physicalKeys": [k.to_json() for k in keys]},
                         indent=2))
        return 0
    table = [[", ".join(v) if isinstance(v, list) else str(v) for v in (r[c] for c in COLUMNS)]
             for r in rows]
    for line, row in zip(table, rows, strict=True):
        line[0] += "*" if row["testOnly"] else ""
    print("\n".join(aligned(COLUMNS, table)))
    print("\n* test only: a TEST ONLY key or a deliberately broken variant, there to reach "
          "one rule")
    print(_physical_summary(keys))
    return 0


def _physical_summary(keys: list[AttachedKey]) -> str:
    if not keys:
        return "Physical keys: none attached (no FIDO HID device found)."
    lines = [f"Physical keys: {len(keys)} attached"]
    lines += [f"  {k.product or 'unnamed key'}  {k.aaguid}  {', '.join(k.versions)}  {k.path}"
              for k in keys]
    return "\n".join(lines)
