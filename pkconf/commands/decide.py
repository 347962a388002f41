"""`pkconf decide`: one ceremony against a fresh emulator, and the decision it gets."""

from __future__ import annotations

import argparse
from dataclasses import replace

from ..authenticators.files import (
    PATHS,
    ProfileError,
    is_authenticator_file,
    load_authenticator,
    read_authenticator_file,
    resolve_profile,
)
from ..ceremonies import CTAP_CEREMONIES
from ..ceremonies.ctap import VARIATIONS, Setup
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
from ..tenant.decision import Decision
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
    p.add_argument("--ceremony", choices=sorted(CTAP_CEREMONIES), default="ctap",
                   help="ctap: the user on Security info; graph: admin provisioning; "
                        "graph-me: the user's own Graph client on /me")
    p.add_argument("--variation", choices=VARIATIONS, help="damage the ceremony on purpose")


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
    with (EmulatorServer(metadata=metadata, as_of=book.as_of, cloud=book.cloud) as server,
          TenantApi(server.base_url) as api):
        try:
            result = CTAP_CEREMONIES[args.ceremony](api, profile, setup,
                                                    variation=args.variation)
        except TenantError as e:
            raise UsageError(str(e)) from None
    assert isinstance(result.decision, Decision)  # only a browser refuses before the tenant
    return print_decision(result.decision, args.json)
