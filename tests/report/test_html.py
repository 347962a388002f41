"""The single-file Allure report: environment files, missing tooling, history, and its tree.

The end-to-end test runs a tiny pytest session with allure-pytest, builds the HTML with the
pinned Allure 3, and opens it from file:// in headless Chromium, as a reader would: what did
not pass, by family; the passes are in the light pages (test_views.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from pkconf.ceremonies.chromium import (
    INSTALL_HINT,
    chromium_executable,
    launch_args,
    shared_playwright,
)
from pkconf.report import html
from pkconf.report.html import ALLURE_TOOLS, ReportError, generate_html, write_environment


def fake_tool(directory: Path, name: str, script: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return path


def properties(results: Path) -> dict[str, str]:
    lines = (results / "environment.properties").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_environment_names_suite_fido2_python_chromium_and_target(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(html, "chromium_version", lambda: "Chromium 156.0.8078.108")
    write_environment(tmp_path, "emulator http://127.0.0.1:8080")
    env = properties(tmp_path)
    assert sorted(env) == ["chromium", "pkconf", "python", "python-fido2", "target"]
    assert env["chromium"] == "Chromium 156.0.8078.108"
    assert env["target"] == "emulator http://127.0.0.1:8080"
    assert re.fullmatch(r"2\.\d+\.\d+", env["python-fido2"])
    assert re.fullmatch(r"3\.\d+\.\d+", env["python"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", env["pkconf"])


def test_environment_leaves_chromium_out_when_there_is_none(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(html, "chromium_version", lambda: None)
    write_environment(tmp_path, "emulator")
    assert "chromium" not in properties(tmp_path)


def test_environment_value_with_line_breaks_stays_one_property(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(html, "chromium_version", lambda: None)
    write_environment(tmp_path, "tenant\\one\nsecond line")
    assert properties(tmp_path)["target"] == "tenant\\\\one\\nsecond line"


def test_executor_names_the_github_run_on_ci(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(html, "chromium_version", lambda: None)
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "contoso/pkconf",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_NUMBER": "17",
        "GITHUB_WORKFLOW": "nightly",
    }.items():
        monkeypatch.setenv(name, value)
    write_environment(tmp_path, "emulator")
    assert json.loads((tmp_path / "executor.json").read_text()) == {
        "name": "GitHub Actions",
        "type": "github",
        "buildName": "nightly #17",
        "buildUrl": "https://github.com/contoso/pkconf/actions/runs/4242",
    }


def test_executor_is_local_outside_ci(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(html, "chromium_version", lambda: None)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    write_environment(tmp_path, "emulator")
    assert json.loads((tmp_path / "executor.json").read_text())["type"] == "local"


def test_without_node_the_report_is_skipped_with_how_to_get_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert generate_html(tmp_path, tmp_path / "out") is None
    message = capsys.readouterr().err
    assert "Node.js is not installed" in message
    assert f"Results stay usable in {tmp_path}; install Node.js and run make report." in message


def test_without_the_allure_package_the_report_is_skipped(monkeypatch, tmp_path, capsys):
    fake_tool(tmp_path / "bin", "node", "exit 0")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert generate_html(tmp_path, tmp_path / "out", tools=tmp_path / "tools") is None
    assert f"Allure is not installed in {tmp_path / 'tools'}" in capsys.readouterr().err


def test_missing_results_directory_is_a_report_error(tmp_path: Path):
    with pytest.raises(ReportError, match="no Allure results directory"):
        generate_html(tmp_path / "no-results", tmp_path / "out")


def test_allure_failure_is_a_report_error_with_its_output(monkeypatch, tmp_path: Path):
    fake_tool(tmp_path / "bin", "node", "exit 0")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    tools = tmp_path / "tools"
    fake_tool(tools / "node_modules" / ".bin", "allure", "echo 'config is broken' >&2; exit 3")
    with pytest.raises(ReportError, match=r"exit 3\): config is broken"):
        generate_html(tmp_path, tmp_path / "out", tools=tools)


def test_a_page_allure_did_not_write_is_a_report_error_naming_the_config(monkeypatch, tmp_path):
    fake_tool(tmp_path / "bin", "node", "exit 0")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    tools = tmp_path / "tools"
    fake_tool(tools / "node_modules" / ".bin", "allure", "exit 0")
    with pytest.raises(ReportError, match=r"wrote no index\.html: see .*allurerc\.mjs"):
        generate_html(tmp_path, tmp_path / "out", tools=tools)


@pytest.mark.parametrize("history", [None, "nightly-history"])
def test_allure_is_told_the_history_file_only_when_there_is_one(monkeypatch, tmp_path, history):
    fake_tool(tmp_path / "bin", "node", "exit 0")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")  # env
    monkeypatch.setenv(html.HISTORY_ENV, "/left/over/from/the/caller.jsonl")
    tools = tmp_path / "tools"
    said = tmp_path / "said"
    fake_tool(tools / "node_modules" / ".bin", "allure",
              f'env > {said}; touch "$4/index.html"')  # $4: -o DIR
    folder = tmp_path / history if history else None
    generate_html(tmp_path, tmp_path / "out", history=folder, tools=tools)
    told = dict(line.split("=", 1) for line in said.read_text().splitlines() if "=" in line)
    expected = str(tmp_path / history / html.HISTORY_FILE) if history else None
    assert told.get(html.HISTORY_ENV) == expected


# --- the real report, opened in Chromium -------------------------------------------------------

CASES = """
import allure
import pytest


def case(epic, platform, profile, title):
    return lambda test: allure.epic(epic)(allure.feature(platform)(
        allure.story(profile)(allure.title(title)(test))))


@case("authenticator_governance", "iphone", "yubikey-5-nfc-iphone",
      "Blocked YubiKey AAGUID is rejected")
def test_blocked():
    pass


@case("policy_scope", "iphone", "yubikey-5-nfc-iphone", "Guest is rejected")
def test_guest():
    pass


@case("authenticator_governance", "android", "pixel-8", "Unlisted AAGUID is rejected")
def test_unlisted():
    pytest.fail("DECISION MISMATCH: expected rejected/AAGUID_NOT_ALLOWED, got accepted")


@case("policy_scope", "windows", "windows-hello", "Excluded user is rejected")
def test_excluded():
    assert False, "DECISION MISMATCH: expected rejected/USER_EXCLUDED, got accepted"


@case("accepted", "desktop", "chrome-virtual", "Software passkey is accepted")
def test_software():
    raise RuntimeError("emulator did not answer")
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """The page built from a real allure-pytest session of five cases, two of them passing."""
    if (
        shutil.which("node") is None
        or not (ALLURE_TOOLS / "node_modules" / ".bin" / "allure").exists()
    ):
        pytest.skip("Allure 3 is not installed: run scripts/install-system-deps.sh (needs npm)")
    work = tmp_path_factory.mktemp("allure")
    (work / "test_cases.py").write_text(CASES, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "ALLURE_"))}
    pytest_args = ["-q", "-p", "no:cacheprovider", "-p", "no:xdist", "--alluredir", "results"]
    session = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args, "test_cases.py"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert session.returncode == 1, session.stdout + session.stderr  # the cases that fail do
    page = generate_html(work / "results", work / "report")
    assert page == work / "report" / "index.html"
    return page


@pytest.fixture(scope="module")
def chromium():
    executable = chromium_executable()
    if executable is None:
        pytest.skip(f"no Chromium for Playwright: {INSTALL_HINT}")
    chromium = shared_playwright().chromium.launch(executable_path=executable, args=launch_args())
    yield chromium
    chromium.close()


def opened(chromium, report: Path):
    """The report, rendered. Under a loaded CI machine a first load has stalled now and then
    (the tree never drew in 45 s); a reload gets it, so one stalled load is not a failure."""
    page = chromium.new_page()
    tree = page.get_by_test_id("tree-section-title").first
    page.goto(report.as_uri())
    try:
        tree.wait_for(timeout=20_000)
    except PlaywrightTimeoutError:
        page.reload()
        tree.wait_for(timeout=45_000)
    return page


@pytest.fixture(scope="module")
def page(chromium, report: Path):
    """index.html, opened."""
    return opened(chromium, report)


def opened_group(page, group_name: str):
    """A tree group with every collapsed section inside it opened."""
    name = page.get_by_test_id("tree-section-title").filter(
        has_text=re.compile(f"^{re.escape(group_name)}$")
    )
    group = page.get_by_test_id("tree-section").filter(has=name).locator("xpath=..")
    closed = group.get_by_test_id("tree-arrow").filter(
        has=page.locator("svg:not([class*='--opened'])")
    )
    for _ in range(10):  # epic, platform, profile: a few levels at most
        if closed.count() == 0:
            break
        closed.first.click()
    return group


def titles_under(page, group_name: str) -> set[str]:
    """The case titles in a tree group."""
    return set(opened_group(page, group_name).get_by_test_id("tree-leaf-title").all_inner_texts())


def top_level_groups(page) -> list[str]:
    top_level = page.get_by_test_id("tree-content").first.locator(
        "xpath=./div/div[@data-testid='tree-section']"
    )
    return sorted(top_level.get_by_test_id("tree-section-title").all_inner_texts())


def test_report_is_one_self_contained_html_file_and_nothing_else(report: Path):
    assert sorted(p.name for p in report.parent.iterdir()) == ["index.html"]
    assert "<html" in report.read_text(encoding="utf-8")[:2000].lower()


def test_report_tree_lists_the_decision_families_of_what_did_not_pass_as_epics(page):
    page.get_by_test_id("nav-tab-results").click()
    assert top_level_groups(page) == ["accepted", "authenticator_governance", "policy_scope"]


@pytest.mark.parametrize(
    ("epic", "titles"),
    [
        ("authenticator_governance", {"Unlisted AAGUID is rejected"}),
        ("policy_scope", {"Excluded user is rejected"}),
        ("accepted", {"Software passkey is accepted"}),
    ],
)
def test_report_groups_each_case_that_did_not_pass_under_its_family(page, epic, titles):
    page.get_by_test_id("nav-tab-results").click()
    assert titles_under(page, epic) == titles


@pytest.mark.parametrize(
    ("category", "titles"),
    [
        ("Entra decided differently", {"Unlisted AAGUID is rejected", "Excluded user is rejected"}),
        ("The harness broke", {"Software passkey is accepted"}),
    ],
)
def test_report_separates_decision_mismatches_from_harness_failures(page, category, titles):
    page.get_by_test_id("nav-tab-categories").click()
    assert titles_under(page, category) == titles
