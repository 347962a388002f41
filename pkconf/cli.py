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

from . import __version__
from .ceremonies.speedups import enable_fido2_speedups
from .inputs import UsageError

COMMANDS = ("run", "decide", "verify", "serve", "report", "authenticators", "rules", "lint",
            "impact", "certify", "discover", "bench", "tenant")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
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
