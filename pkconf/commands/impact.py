"""`pkconf impact`: what changing the policy does to the tenant's users, before it ships."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..admin.directory import (
    load_directory,
    load_registered,
    policy_targets,
    user_classes_from_policy,
)
from ..admin.impact import FAIL_ON, chosen_profiles, impact
from ..admin.impact_report import CAP, FORMATS
from ..authenticators.files import (
    ProfileError,
    is_authenticator_file,
    metadata_with,
    read_authenticator_file,
)
from ..inputs import UsageError, read_metadata, read_policy, read_rule_book
from .common import add_rule_book_arguments

HELP = ("compare the current and the proposed policy: registrations newly blocked or allowed "
        "per user class, profile and path, and registered passkeys that stop signing in")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--current", required=True, metavar="CUR.json",
                   help="the policy in force (the fido2 configuration or the whole "
                        "authentication methods policy)")
    p.add_argument("--proposed", required=True, metavar="NEW.json", help="the policy to be")
    p.add_argument("--directory", metavar="D", help="Graph users pages, groups with members or "
                   "an EffectivePasskey snapshot (file or folder); without it, the classes the "
                   "policies' own targets name")
    p.add_argument("--registered", metavar="R", help="registered passkeys per user (Graph "
                   "fido2Methods); needs --directory")
    p.add_argument("--profiles", nargs="+", metavar="NAME|FILE",
                   help="authenticator profiles or authenticator files (default: every "
                        "profile that is not test-only)")
    add_rule_book_arguments(p)
    p.add_argument("--format", choices=sorted(FORMATS), default="table")
    p.add_argument("--output", metavar="FILE", help="write there instead of stdout")
    p.add_argument("--fail-on", choices=sorted(FAIL_ON),
                   help="exit 1 when this kind of change happens (a CI gate)")
    p.add_argument("--all", action="store_true",
                   help=f"name every user (default: the first {CAP} per row)")


def run(args: argparse.Namespace) -> int:
    book = read_rule_book(args.as_of, args.cloud)
    try:
        profiles = chosen_profiles(args.profiles)
        files = [read_authenticator_file(n) for n in args.profiles or ()
                 if is_authenticator_file(n)]
    except ProfileError as e:
        raise UsageError(str(e)) from None
    if args.registered and not args.directory:
        raise UsageError("--registered needs --directory: the users' groups decide sign-in")
    current, proposed = read_policy(args.current), read_policy(args.proposed)
    directory = load_directory(args.directory) if args.directory else None
    classes = (directory.user_classes(policy_targets([current, proposed]))
               if directory else user_classes_from_policy([current, proposed]))
    metadata = read_metadata(None, None, test_blob=metadata_with(files) if files else None)
    result = impact(current, proposed, classes, profiles, directory=directory,
                    registered=load_registered(args.registered) if args.registered else None,
                    metadata=metadata, book=book)
    text = FORMATS[args.format](result, None if args.all else CAP)
    if args.output:
        try:
            Path(args.output).write_text(text)
        except OSError as e:
            raise UsageError(f"cannot write {args.output}: {e.strerror or e}") from None
    else:
        print(text, end="")
    return 1 if result.fails(args.fail_on) else 0
