"""Which Chromium Playwright gets: PKCONF_CHROMIUM, Playwright's, Debian's, or a clear error."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pkconf.ceremonies import chromium as browser
from pkconf.ceremonies.chromium import (
    ChromiumNotFound,
    chromium_executable,
    chromium_version,
    launch_args,
    require_chromium,
)


def fake_chromium(directory: Path, script: str = "") -> Path:
    """An executable standing in for Chromium, answering --version with the given script."""
    path = directory / "chromium"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def no_installed_chromium(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PKCONF_CHROMIUM", raising=False)
    monkeypatch.setattr(browser, "_playwright_chromium", lambda: None)
    monkeypatch.setattr(browser, "DEBIAN_CHROMIUM", str(tmp_path / "absent" / "chromium"))


def test_launch_args_keep_chromium_off_the_closed_network():
    assert launch_args() == [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ]


def test_launch_args_are_a_fresh_list_each_time():
    launch_args().append("--host-rules=MAP x 127.0.0.1")
    assert "--host-rules=MAP x 127.0.0.1" not in launch_args()


def test_environment_variable_overrides_every_other_chromium(monkeypatch, tmp_path: Path):
    fake = fake_chromium(tmp_path)
    monkeypatch.setenv("PKCONF_CHROMIUM", str(fake))
    monkeypatch.setattr(browser, "_playwright_chromium", lambda: "/opt/playwright/chrome")
    assert chromium_executable() == str(fake)


def test_environment_variable_naming_no_executable_is_an_error(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PKCONF_CHROMIUM", str(tmp_path / "missing-chromium"))
    with pytest.raises(ChromiumNotFound, match=r"PKCONF_CHROMIUM=.*missing-chromium"):
        chromium_executable()


def test_playwright_chromium_comes_before_debian_chromium(monkeypatch):
    monkeypatch.delenv("PKCONF_CHROMIUM", raising=False)
    monkeypatch.setattr(browser, "_playwright_chromium", lambda: "/opt/playwright/chrome")
    assert chromium_executable() == "/opt/playwright/chrome"


def test_debian_chromium_is_used_when_playwright_has_none(monkeypatch, tmp_path: Path):
    fake = fake_chromium(tmp_path)
    monkeypatch.delenv("PKCONF_CHROMIUM", raising=False)
    monkeypatch.setattr(browser, "_playwright_chromium", lambda: None)
    monkeypatch.setattr(browser, "DEBIAN_CHROMIUM", str(fake))
    assert chromium_executable() == str(fake)


@pytest.mark.usefixtures("no_installed_chromium")
def test_no_chromium_anywhere_is_none_and_require_says_how_to_install():
    assert chromium_executable() is None
    assert chromium_version() is None
    with pytest.raises(ChromiumNotFound) as error:
        require_chromium()
    assert "apt-get install -y chromium" in str(error.value)
    assert "playwright install chromium" in str(error.value)


@pytest.mark.parametrize(
    ("script", "version"),
    [
        (
            "echo 'Chromium 156.0.8078.108 built on Debian GNU/Linux 12 (bookworm)'",
            "Chromium 156.0.8078.108",
        ),
        (
            "echo 'Google Chrome for Testing 159.0.8154.6 '",
            "Google Chrome for Testing 159.0.8154.6",
        ),
        ("exit 1", None),
    ],
    ids=["debian", "playwright", "silent"],
)
def test_chromium_version_is_the_name_and_number_it_reports(monkeypatch, tmp_path, script, version):
    monkeypatch.setenv("PKCONF_CHROMIUM", str(fake_chromium(tmp_path, script)))
    assert chromium_version() == version


def test_playwright_lookup_works_from_inside_an_asyncio_loop():
    """The sync Playwright API refuses a running loop; async callers must still get an answer."""

    async def look() -> str | None:
        return browser._playwright_chromium.__wrapped__()

    # asyncio.run needs a thread without a loop: this worker's shared Playwright driver, if
    # another module started it, keeps one running on the main thread.
    with ThreadPoolExecutor(1) as pool:
        found = pool.submit(asyncio.run, look()).result()
    assert found is None or Path(found).is_file()
