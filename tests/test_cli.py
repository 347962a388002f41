"""The `pkconf` entry point: exit codes and messages that hold for every subcommand."""

from __future__ import annotations

import pytest

from pkconf import cli
from pkconf.commands import authenticators


def test_every_subcommand_is_offered(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in cli.COMMANDS)


def test_no_subcommand_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "usage: pkconf" in capsys.readouterr().out


def test_a_reader_that_goes_away_is_not_an_error(monkeypatch, capfd):
    def cut_short(args):
        raise BrokenPipeError

    monkeypatch.setattr(authenticators, "run", cut_short)
    assert cli.main(["authenticators"]) == 0
    assert "Traceback" not in capfd.readouterr().err


def test_usage_error_is_one_line_with_exit_2(monkeypatch, capsys):
    def refuse(args):
        raise cli.UsageError("that file is not a policy")

    monkeypatch.setattr(authenticators, "run", refuse)
    assert cli.main(["authenticators"]) == 2
    assert capsys.readouterr().err == "pkconf authenticators: that file is not a policy\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "--bogus"], "pkconf run: unrecognized arguments: --bogus"),
    (["run", "--shard"], "pkconf run: argument --shard: expected one argument"),
    (["bench", "--only", "nosuch"], "pkconf bench: argument --only: invalid choice: 'nosuch' "
                                    "(choose from 'ceremony', 'conformance', 'browser', 'impact')"),
    (["runn"], "pkconf: argument COMMAND: invalid choice: 'runn' (choose from 'run', "),
    (["--bogus"], "pkconf: unrecognized arguments: --bogus"),
], ids=["unknown-option", "missing-value", "choice-not-offered", "unknown-command",
        "unknown-option-before-command"])
def test_an_argument_argparse_refuses_is_one_line_naming_the_command_with_exit_2(
        capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


REQUIRED = {  # each command's required arguments; the files need not exist, flags are read first
    "decide": ["--policy", "p.json", "--user", "u.json", "--profile", "yubikey-5-usb"],
    "verify": ["r.json", "--policy", "p.json", "--user", "u.json", "--challenge", "AA",
               "--origin", "https://login.microsoft.com", "--rp-id", "login.microsoft.com"],
    "serve": [], "run": [], "rules": [], "lint": ["p.json"],
}


@pytest.mark.parametrize("command", sorted(REQUIRED))
@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--as-of", "2026-02-30", "--as-of '2026-02-30' is not a date (YYYY-MM-DD)"),
    ("--as-of", "20260320", "--as-of '20260320' is not a date (YYYY-MM-DD)"),
    ("--cloud", "china", "--cloud 'china' is not one of worldwide, gcc, gcchigh, dod"),
])
def test_a_bad_day_or_cloud_is_one_line_with_exit_2(capsys, command, flag, value, message):
    assert cli.main([command, *REQUIRED[command], flag, value]) == 2
    assert capsys.readouterr().err == f"pkconf {command}: {message}\n"


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--area", "key-restriction", "--area: unknown area 'key-restriction'; one of policy-scope"),
    ("--ceremony", "ctapp", "--ceremony: unknown ceremony 'ctapp'; one of ctap"),
])
def test_a_typo_in_a_selector_is_one_line_with_exit_2_not_an_empty_pass(capsys, flag, value,
                                                                          message):
    assert cli.main(["run", flag, value, "--no-matrix"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pkconf run: {message}") and err.count("\n") == 1
