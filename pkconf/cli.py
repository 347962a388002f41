"""`pkconf`: the command line. Each subcommand lives in `pkconf.commands.<name>`.

A subcommand module exposes `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
Exit codes follow one convention: 0 success/accepted, 1 rejected or failed cases, 2 unusable
input (with a one-line reason on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn

from . import __version__
from .ceremonies.speedups import enable_fido2_speedups
from .inputs import UsageError

# Options whose value may start with "-": one base64url challenge in 64 does, and argparse reads
# `--challenge -abc` as two options. Given apart, such a value is attached (`--challenge=-abc`).
DASH_VALUE_OPTIONS = frozenset({"--challenge"})
COMMANDS = ("run", "decide", "verify", "serve", "report", "authenticators", "rules", "lint",
            "impact", "certify", "discover", "bench", "tenant")


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors (an unknown option, a missing value, a choice not
    offered) are one line naming the command, exit 2, as every other usage error: argparse
    prints its whole usage first. Subcommands' parsers are made of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pkconf",
        description="Passkey registration conformance suite for Microsoft Entra ID.",
    )
    parser.add_argument("--version", action="version", version=f"pkconf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"pkconf.commands.{name}")
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(run=module.run)
    return parser


def _attach_dash_values(argv: list[str]) -> list[str]:
    """`--challenge VALUE` as `--challenge=VALUE` when VALUE starts with "-"."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in DASH_VALUE_OPTIONS and arg.startswith("-") and arg != "--":
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, unknown = parser.parse_known_args(
        _attach_dash_values(sys.argv[1:] if argv is None else argv))
    if unknown:  # said by the command they were given to, not by `pkconf` as argparse does
        prog = " ".join(filter(None, ["pkconf", getattr(args, "command", None)]))
        parser.exit(2, f"{prog}: unrecognized arguments: {' '.join(unknown)}\n")
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    enable_fido2_speedups()
    try:
        return args.run(args)
    except UsageError as e:
        print(f"pkconf {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"pkconf {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`pkconf ... | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
