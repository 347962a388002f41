"""`pkconf tenant`: put a test tenant back as it was — its policy after a crashed run, and the
users and groups a run left behind."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..ceremonies.graph_client import GraphClient, GraphError, add_graph_options, graph_settings
from ..ceremonies.graph_target import PREFIX, RestoreFile, restore_policy
from ..ceremonies.tenant import TenantError
from ..inputs import UsageError

HELP = "restore a test tenant's fido2 policy from a restore file, or delete a run's leftovers"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    restore = sub.add_parser("restore", help="PATCH the policy saved before a run's first "
                                             "write back, check it, remove the file")
    restore.add_argument("file", metavar="FILE", help="reports/tenant-restore-<tenant>.json")
    add_graph_options(restore.add_argument)
    cleanup = sub.add_parser("cleanup", help=f"delete test users and groups named {PREFIX}… "
                                             "(a run's leftovers) and their passkeys")
    add_graph_options(cleanup.add_argument)
    cleanup.add_argument("--dry-run", action="store_true", help="list, delete nothing")


def _given(args: argparse.Namespace, flag: str) -> object:
    return getattr(args, flag.lstrip("-").replace("-", "_"), None)


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "restore":
            return _restore(args)
        return _cleanup(args)
    except (GraphError, TenantError) as e:
        raise UsageError(str(e)) from None


def _restore(args: argparse.Namespace) -> int:
    restore = RestoreFile(Path(args.file))
    if not restore.path.is_file():
        raise UsageError(f"{restore.path}: no such restore file")
    saved = restore.settings()  # the options given override what the file says

    def option(flag: str) -> object:
        return _given(args, flag) or {"--tenant": saved.tenant, "--client-id": saved.client_id,
                                      "--graph-url": saved.graph_url,
                                      "--authority": saved.authority,
                                      "--ca-file": saved.ca_file}.get(flag)

    settings = graph_settings(option)
    with GraphClient(settings) as client:
        print(restore_policy(client, restore))
    return 0


def _cleanup(args: argparse.Namespace) -> int:
    settings = graph_settings(lambda flag: _given(args, flag))
    with GraphClient(settings) as client:
        users = [u for u in client.pages("/users", {"$filter": f"startswith(userPrincipalName,"
                                                               f"'{PREFIX}')"})
                 if str(u.get("userPrincipalName", "")).startswith(PREFIX)]
        groups = [g for g in client.pages("/groups", {"$filter": f"startswith(displayName,"
                                                                 f"'{PREFIX}')"})
                  if str(g.get("displayName", "")).startswith(PREFIX)]
        for user in users:
            print(f"{'would delete' if args.dry_run else 'deleting'} user "
                  f"{user['userPrincipalName']}")
            if not args.dry_run:
                for method in client.pages(f"/users/{user['id']}/authentication/fido2Methods"):
                    client.request("DELETE", f"/users/{user['id']}/authentication/fido2Methods/"
                                             f"{method['id']}", expect=(204, 404))
                client.request("DELETE", f"/users/{user['id']}", expect=(204, 404))
        for group in groups:
            print(f"{'would delete' if args.dry_run else 'deleting'} group {group['displayName']}")
            if not args.dry_run:
                client.request("DELETE", f"/groups/{group['id']}", expect=(204, 404))
    print(f"{len(users)} users, {len(groups)} groups{' (dry run)' if args.dry_run else ''}")
    return 0
