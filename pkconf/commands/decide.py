"""`pkconf decide`: one ceremony against a fresh emulator, and the decision it gets."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from ..authenticators.files import (
    PATHS,
    ProfileError,
    is_authenticator_file,
    load_authenticator,
    read_authenticator_file,
    resolve_profile,
)
from ..authenticators.profiles import Profile
from ..ceremonies import CTAP_CEREMONIES
from ..ceremonies.ctap import VARIATIONS, Setup
from ..ceremonies.graph_client import GraphClient, GraphError, add_graph_options
from ..ceremonies.graph_target import METHOD_FIELDS
from ..ceremonies.result import TenantRefusal
from ..ceremonies.tenant import TenantApi, TenantError
from ..emulator.server import EmulatorServer
from ..inputs import (
    UsageError,
    fido2_configuration,
    parse_user,
    read_json,
    read_metadata,
    read_policy,
    read_rule_book,
)
from ..paths import REPORTS
from ..tenant.decision import Decision
from ..tenant.rules import Cloud
from .common import add_decision_arguments, print_decision

HELP = "run one registration ceremony against a fresh emulator and print the decision"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_decision_arguments(p, policy_help="the fido2 policy as Graph exports it (group "
                                          "targets by name or id)")
    p.add_argument("--profile", required=True, metavar="NAME|FILE",
                   help="an authenticator profile (see `pkconf authenticators`) or an "
                        "authenticator file (docs/authenticator-file.md)")
    p.add_argument("--path", choices=PATHS, metavar="PATH",
                   help="with an authenticator file: the declared platform path to register "
                        "from (default: the first it declares)")
    p.add_argument("--ceremony", choices=sorted(CTAP_CEREMONIES),
                   help="ctap: the user on Security info (default); graph: admin provisioning "
                        "(the one with --target graph); graph-me: the user's own Graph client")
    p.add_argument("--variation", choices=VARIATIONS, help="damage the ceremony on purpose")
    p.add_argument("--target", choices=("emulator", "graph"), default="emulator",
                   help="emulator (default: a fresh one) or graph: provision on a tenant through "
                        "Microsoft Graph (docs/graph-target.md); --policy must be the tenant's "
                        "unless --allow-policy-changes")
    add_graph_options(p.add_argument)


def run(args: argparse.Namespace) -> int:
    if args.path and not is_authenticator_file(args.profile):
        raise UsageError("--path goes with an authenticator file: a built-in profile is one "
                         "platform path")
    try:
        profile = (load_authenticator(args.profile, args.path) if args.path
                   else resolve_profile(args.profile))
    except ProfileError as e:
        raise UsageError(str(e)) from None
    book = read_rule_book(args.as_of, args.cloud)
    read_policy(args.policy)  # refuse an invalid policy with its JSON paths before starting
    # the emulator makes a fresh user: USER.json's id (for `verify`'s targets) has no use here
    user = replace(parse_user(read_json(args.user, "user")), user_id="")
    setup = Setup(fido2_configuration(read_json(args.policy, "policy"))[0], user)
    file = read_authenticator_file(args.profile) if is_authenticator_file(args.profile) else None
    metadata = read_metadata(args.mds, args.mds_root,
                             test_blob=file.metadata() if file else None)
    if args.target == "graph":
        return _on_tenant(args, profile, setup, book.cloud)
    with (EmulatorServer(metadata=metadata, as_of=book.as_of, cloud=book.cloud) as server,
          TenantApi(server.base_url) as api):
        try:
            result = CTAP_CEREMONIES[args.ceremony or "ctap"](api, profile, setup,
                                                              variation=args.variation)
        except TenantError as e:
            raise UsageError(str(e)) from None
    assert isinstance(result.decision, Decision)  # only a browser refuses before the tenant
    return print_decision(result.decision, args.json)


def _on_tenant(args: argparse.Namespace, profile: Profile, setup: Setup, cloud: Cloud) -> int:
    """One provisioning ceremony on a real tenant; what it answered, with its request ids."""
    from conformance.graph_target import graph_options

    if args.ceremony not in (None, "graph"):
        raise UsageError(f"--target graph provisions through Graph: --ceremony {args.ceremony} "
                         "needs a signed-in user, which an app's token is not")
    options = graph_options(lambda flag: getattr(args, flag[2:].replace("-", "_"), None),
                            REPORTS, cloud)
    with GraphClient(options.settings) as client:
        tenant = options.tenant(client)
        try:
            tenant.start()
            if setup.policy is not None and (why := tenant.policy_unfit(setup.policy)):
                raise UsageError(f"--policy: {why}")
            result = CTAP_CEREMONIES["graph"](tenant, profile, setup, variation=args.variation)
            request_ids = tenant.request_ids()
        except (GraphError, TenantError) as e:
            raise UsageError(str(e)) from None
        finally:
            for line in tenant.close():
                print(line, file=sys.stderr)
    decision = result.decision
    if isinstance(decision, TenantRefusal):
        if args.json:
            print(json.dumps({**decision.to_json(), "requestIds": request_ids}, indent=2))
        else:
            print(f"REJECTED by the tenant  {decision.detail}\n  request ids: "
                  f"{' '.join(request_ids)}")
        return 1
    assert isinstance(decision, Decision)
    answer = result.response or {}
    if "@pkconf.decision" in answer:  # the emulator says why; a real tenant does not
        code = print_decision(decision, args.json)
        if not args.json:
            print(f"  request ids: {' '.join(request_ids)}")
        return code
    method = {key: answer.get(key) for key in METHOD_FIELDS}
    if args.json:
        print(json.dumps({"outcome": "accepted", "method": method, "requestIds": request_ids},
                         indent=2))
    else:  # what the tenant made of it, rather than facts a decision of ours would claim
        print(f"ACCEPTED by the tenant  {result.status}\n  "
              + " ".join(f"{key}={value}" for key, value in method.items())
              + f"\n  request ids: {' '.join(request_ids)}")
    return 0
