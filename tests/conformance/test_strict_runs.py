"""A nightly job must never pass having tested nothing: a selection that runs nothing, or a
bad shard, is one line and exit 2; `pkconf run` and the plugin take the same options."""

from __future__ import annotations

import argparse

import pytest
from _pytest.config.argparsing import Parser

from conformance import plugin
from pkconf.cli import main
from pkconf.commands import run


@pytest.mark.parametrize(("given", "says"), [
    (["--profile", "yubikey-5-usbb"], "unknown profile 'yubikey-5-usbb'"),
    (["--area", "key-restriction"], "unknown area 'key-restriction'"),
    (["--case", "ZZ-*"], "--case 'ZZ-*' matches no case"),
    (["--case", "KR-*", "--case", "ZZ-*"], "--case 'ZZ-*' matches no case"),
    (["--case", "KR-*", "--ceremony", "browser"], "no case matches --ceremony browser --case KR-*"),
    (["--shard", "5/4"], "--shard '5/4': expected I/N"),
    (["--shard", "0/4"], "--shard '0/4': expected I/N"),
    (["--shard", "two"], "--shard 'two': expected I/N"),
    (["--target", "htp://127.0.0.1:8000"], "--target: 'htp://127.0.0.1:8000' is not an http://"),
    (["--target", "http://127.0.0.1:99999"], "--target: 'http://127.0.0.1:99999': Port out of"),
])
def test_a_selection_that_runs_nothing_is_one_line_and_exit_2(
        given: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--no-matrix", *given]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and says in err, err


def _plugin_options() -> dict[str, str]:
    parser = Parser(_ispytest=True)  # pytest builds its own the same way
    plugin.pytest_addoption(parser)
    group = parser.getgroup("pkconf")
    return {name: option.attrs()["help"] for option in group.options
            for name in option.names() if name.startswith("--")}


def _run_options() -> dict[str, str]:
    parser = argparse.ArgumentParser()
    run.add_arguments(parser)
    return {name: action.help or "" for action in parser._actions
            for name in action.option_strings if name.startswith("--")}


def test_pkconf_run_and_the_plugin_take_the_same_options_with_the_same_help() -> None:
    plugin_options, run_options = _plugin_options(), _run_options()
    only_run = {"--workers", "--reports", "--no-html", "--help"}  # the command's own
    only_plugin = {"--results-dir"}  # how pkconf run hands the plugin its reports folder
    assert set(run_options) - set(plugin_options) == only_run
    assert set(plugin_options) - set(run_options) == only_plugin
    for flag in set(plugin_options) & set(run_options):
        assert plugin_options[flag] == run_options[flag], flag
    assert "--no-matrix" in plugin_options and "--no-browser-reuse" in run_options
