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
