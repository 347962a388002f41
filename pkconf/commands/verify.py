"""`pkconf verify`: check one captured registration response against a policy, offline."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from ..inputs import (
    UsageError,
    parse_user,
    read_json,
    read_metadata,
    read_policy,
    read_rule_book,
)
from ..tenant.decision import CeremonyContext, IssuedChallenge, RegistrationPath
from ..tenant.engine import decide
from ..tenant.registration import MalformedRegistration, b64url_decode, parse_registration
from .common import add_decision_arguments, print_decision

HELP = "check one captured registration response against a policy and print the decision"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("response", metavar="RESPONSE.json",
                   help="the registration response (browser JSON, or a Graph POST body)")
    add_decision_arguments(p, policy_help="the fido2 policy as Graph exports it")
    p.add_argument("--challenge", required=True, metavar="B64URL",
                   help="the challenge the relying party issued; one that starts with '-' "
                        "may also be written --challenge=B64URL")
    p.add_argument("--origin", required=True, metavar="URL", help="the expected origin")
    p.add_argument("--rp-id", required=True, metavar="ID", help="the expected RP ID")
    p.add_argument("--at", metavar="ISO8601",
                   help="the time to check certificates at; default: now (the rules' day is "
                        "--as-of)")
    p.add_argument("--path", choices=[p.value for p in RegistrationPath],
                   default=RegistrationPath.SELF_SERVICE.value, help="the registration path")


def parse_time(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--at {value!r} is not an ISO 8601 time") from None
    if not 1970 <= at.year <= 9000:  # room for challenge lifetimes and certificate dates
        raise UsageError(f"--at {value!r} is outside the years 1970 to 9000")
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    book = read_rule_book(args.as_of, args.cloud)
    body = read_json(args.response, "response")
    if isinstance(body, dict) and "publicKeyCredential" in body:
        body = body["publicKeyCredential"]  # a Graph POST fido2Methods body
    try:
        registration = parse_registration(body)
        challenge = b64url_decode(args.challenge, "--challenge")
    except MalformedRegistration as e:
        raise UsageError(f"{args.response}: {e}") from None
    now = parse_time(args.at)
    ceremony = CeremonyContext(
        now=now,
        # A captured response is judged as if its challenge was just issued and is unused.
        challenge=IssuedChallenge(challenge, now + timedelta(minutes=5)),
        rp_id=args.rp_id,
        origins=(args.origin,),
    )
    decision = decide(read_policy(args.policy), parse_user(read_json(args.user, "user")),
                      RegistrationPath(args.path), registration, ceremony,
                      metadata=read_metadata(args.mds, args.mds_root), book=book)
    return print_decision(decision, args.json)
