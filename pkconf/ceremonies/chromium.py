"""Which Chromium Playwright drives, and how it is launched.

Playwright cannot download its own browser on a closed network, so the suite also accepts
Debian's `chromium` package. The choice is automatic and overridable:
$PKCONF_CHROMIUM, else Playwright's installed Chromium, else Debian's.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

ENV_VAR = "PKCONF_CHROMIUM"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = (
    "install one with `apt-get install -y chromium` (Debian/Ubuntu), or "
    "`playwright install chromium` where downloads work, or point PKCONF_CHROMIUM at a Chromium"
)

# Without the networking flags Chromium floods a closed network with refused connections
# (stack-notes); --no-sandbox because the suite runs as root in containers and CI.
_LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


_drivers: dict[int, Any] = {}  # thread id -> the Playwright driver started on that thread


def shared_playwright() -> Any:
    """This thread's Playwright driver, started once and shared by everything in the process.

    The sync API refuses to start a second driver on a thread while one runs, and one pytest
    worker runs several modules that each want a browser; so all of them share this one, and
    it stops when the process exits.
    """
    key = threading.get_ident()
    if key not in _drivers:
        from playwright.sync_api import sync_playwright

        driver = _drivers[key] = sync_playwright().start()
        atexit.register(_stop_quietly, driver)
    return _drivers[key]


def _stop_quietly(driver: Any) -> None:
    with contextlib.suppress(Exception):  # at exit, a driver's loop may already be gone
        driver.stop()


class ChromiumNotFound(RuntimeError):
    """No usable Chromium: the message says how to install one."""


def launch_args() -> list[str]:
    """Arguments for every Playwright launch (a fresh list: callers append their own)."""
    return list(_LAUNCH_ARGS)


def chromium_executable() -> str | None:
    """The Chromium to launch, or None when there is none.

    An explicit $PKCONF_CHROMIUM that does not name an executable is a mistake, not an absence:
    it raises rather than silently falling back to another browser.
    """
    override = os.environ.get(ENV_VAR)
    if override:
        found = shutil.which(override)
        if found is None:
            raise ChromiumNotFound(f"{ENV_VAR}={override} is not an executable")
        return found
    bundled = _playwright_chromium()
    if bundled is not None:
        return bundled
    return DEBIAN_CHROMIUM if os.access(DEBIAN_CHROMIUM, os.X_OK) else None


def require_chromium() -> str:
    """The Chromium to launch; raises ChromiumNotFound with the install command when none."""
    executable = chromium_executable()
    if executable is None:
        raise ChromiumNotFound(f"no Chromium found for Playwright: {INSTALL_HINT}")
    return executable


def chromium_version() -> str | None:
    """E.g. "Chromium 156.0.8078.108", for the report's environment; None when unknown."""
    try:
        executable = chromium_executable()
    except ChromiumNotFound:
        return None
    if executable is None:
        return None
    try:
        done = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    line = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    return line.split(" built on ")[0].strip() or None


@functools.cache
def _playwright_chromium() -> str | None:
    """Playwright's own Chromium when `playwright install chromium` has run, else None.

    Asked of Playwright itself (its browser layout changes between releases). The sync API
    refuses to start inside a running asyncio loop, so the question is asked on a fresh thread.
    """
    answer: list[str] = []

    def ask() -> None:
        from playwright.sync_api import Error, sync_playwright

        try:
            with sync_playwright() as p:
                answer.append(p.chromium.executable_path)
        except Error:
            pass

    worker = threading.Thread(target=ask, name="pkconf-playwright-probe")
    worker.start()
    worker.join()
    if answer and os.access(answer[0], os.X_OK) and Path(answer[0]).is_file():
        return answer[0]
    return None
