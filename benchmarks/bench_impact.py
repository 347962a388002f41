"""`pkconf impact` over a large tenant: users per second, the time split and peak memory.

    .venv/bin/python benchmarks/bench_impact.py [--users 50000] [--group-sets 200] [--quick]
                                                [--json]

Generates a Graph users export (pages of 999 users, each with its transitive groups drawn from
about `--group-sets` distinct sets) and registered passkeys for a tenth of the users in a temp
dir, then runs the command's steps under two policies that differ in a YubiKey AAGUID and a
pilot group, over every non-test profile and both paths. Prints figures only; the target
(issue 10) is 4 s on 2 cores, and the ratio to it is printed, never asserted; `pkconf bench`
reads it as users per second. `--quick` (what `pkconf bench --quick` passes every script) runs
the same 50,000 users, in ~5 s: the target is stated for that size, and a smaller tenant's rate
would be decided by the fixed costs (a registration per profile).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from figures import emit, figure

from pkconf.admin.directory import load_directory, load_registered, policy_targets
from pkconf.admin.impact import chosen_profiles, impact
from pkconf.admin.impact_report import CAP, FORMATS
from pkconf.ceremonies.speedups import enable_fido2_speedups
from pkconf.inputs import read_metadata, read_policy, read_rule_book

TARGET_SECONDS = 4.0
TARGET_USERS = 50_000  # in TARGET_SECONDS
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "impact" / "yubikey-removal"
PAGE = 999  # Graph's largest $top for users


def _write_tenant(root: Path, users: int, group_sets: int) -> None:
    """Users pages, registered passkeys, and the fixture's two policies (their target groups
    among the generated ones)."""
    rng = random.Random(10)
    current = json.loads((FIXTURE / "current.json").read_text())
    proposed = json.loads((FIXTURE / "proposed.json").read_text())
    targeted = sorted({t["id"] for p in (current["authenticationMethodConfigurations"][1],
                                         proposed) for t in (*p["includeTargets"],
                                                             *p["excludeTargets"])})
    groups = targeted + [f"00000000-0000-4000-8000-{i:012d}" for i in range(60)]
    sets = [rng.sample(groups, rng.randint(1, 8)) for _ in range(group_sets)]
    (root / "directory").mkdir()
    registered: dict[str, list[dict[str, Any]]] = {}
    aaguids = ["c1f9a0bc-1dd2-404a-b27f-8e29047a43fd", "cb69481e-8ff7-4039-93ec-0a2729a154a8"]
    for start in range(0, users, PAGE):
        value = []
        for i in range(start, min(start + PAGE, users)):
            uid = f"{i:08d}-0000-4000-8000-000000000000"
            value.append({"id": uid, "userPrincipalName": f"user{i}@contoso.com",
                          "userType": "Guest" if i % 50 == 0 else "Member",
                          "transitiveMemberOf": [{"@odata.type": "#microsoft.graph.group",
                                                  "id": g} for g in rng.choice(sets)]})
            if i % 10 == 0:
                registered[uid] = [{"aaGuid": rng.choice(aaguids), "model": "YubiKey 5",
                                    "attestationLevel": "attested",
                                    "passkeyType": "deviceBound",
                                    "createdDateTime": "2026-03-02T09:15:00Z"}]
        (root / "directory" / f"users-{start // PAGE:03d}.json").write_text(
            json.dumps({"value": value}))
    (root / "registered.json").write_text(json.dumps(registered))
    (root / "current.json").write_text(json.dumps(current))
    (root / "proposed.json").write_text(json.dumps(proposed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--group-sets", type=int, default=200)
    parser.add_argument("--quick", action="store_true",
                        help="the same run: the target's 50,000 users take ~5 s")
    parser.add_argument("--json", action="store_true", help="end with the figures as JSON")
    args = parser.parse_args()
    enable_fido2_speedups()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write_tenant(root, args.users, args.group_sets)
        started = time.perf_counter()
        current, proposed = read_policy(root / "current.json"), read_policy(root / "proposed.json")
        directory = load_directory(root / "directory")
        registered = load_registered(root / "registered.json")
        classes = directory.user_classes(policy_targets([current, proposed]))
        distinct = len({(u.groups, u.user_type) for u in directory.users.values()})
        read = time.perf_counter()
        result = impact(current, proposed, classes, chosen_profiles(None), directory=directory,
                        registered=registered, metadata=read_metadata(None, None),
                        book=read_rule_book("2026-11-25", None))
        decided = time.perf_counter()
        sizes = {name: len(render(result, CAP)) for name, render in FORMATS.items()}
        written = time.perf_counter()
    total = written - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(directory.users)} users, {distinct} distinct group sets and types, "
          f"{len(classes)} classes the policies tell apart, {len(result.profiles)} profiles x 2 "
          f"paths x 2 policies, {len(registered)} users with registered passkeys")
    print(f"reading {read - started:.2f} s, deciding {decided - read:.2f} s (one registration "
          f"per profile included), writing {written - decided:.2f} s "
          f"({', '.join(f'{k} {v // 1024} KB' for k, v in sizes.items())})")
    print(f"total {total:.2f} s: {len(directory.users) / total:,.0f} users/s; "
          f"{total / TARGET_SECONDS:.2f} x the {TARGET_SECONDS:.0f} s target; "
          f"peak memory {peak_mb:.0f} MB")
    print(f"changes: {len(result.registration)} registration rows, {len(result.sign_in)} "
          f"sign-in rows")
    emit([figure(f"pkconf impact, {len(directory.users):,} users", TARGET_USERS / TARGET_SECONDS,
                 len(directory.users) / total, "users/s", "higher")], args.json)


if __name__ == "__main__":
    main()
