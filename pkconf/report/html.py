"""The single-file Allure 3 HTML reports, built by the npm tooling pinned in tools/allure.

Allure 3 is a Node program: the suite runs the copy `npm ci --prefix tools/allure` installed
(scripts/install-system-deps.sh) so every machine renders with the same version and config.
Without Node the run still succeeds: the raw results stay usable and the message says how to
get the HTML.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

from .. import __version__
from ..ceremonies.chromium import chromium_version
from ..paths import CHECKOUT

# A checkout's npm tooling; an installed pkconf has none, so outside a checkout the HTML report is
# skipped with the message that says how to get it, unless ./tools/allure holds a copy.
ALLURE_TOOLS = (CHECKOUT or Path.cwd()) / "tools" / "allure"
GENERATE_TIMEOUT_SECONDS = 600
# The Allure report, by decision family: the page people already link to. The by-profile and
# by-platform trees are pkconf's own light pages (views.py): a second Allure view embeds every
# result again (two views made each full run's HTML twice its weight).
PAGE = "index.html"
HISTORY_FILE = "history.jsonl"  # Allure 3's history: one line per generated report
HISTORY_ENV = "PKCONF_ALLURE_HISTORY"  # how allurerc.mjs learns the history file (no CLI flag)


class ReportError(RuntimeError):
    """Allure could not build the report from these results."""


def generate_html(
    results_dir: Path, out_dir: Path, *, history: Path | None = None, tools: Path = ALLURE_TOOLS
) -> Path | None:
    """Build the single-file Allure report, out_dir/index.html; None when Allure is missing.

    With `history` (a folder kept between runs, e.g. a nightly's cache), Allure reads the
    earlier runs from its history.jsonl and appends this one, so the report shows trends, new
    failures and flaky cases. Allure also writes summary.json and test-results.json beside the
    page, so it generates into a scratch folder and out_dir receives only the page. The config
    is passed explicitly because Allure looks for allurerc only in its cwd.
    """
    results_dir, out_dir = Path(results_dir), Path(out_dir)
    if not results_dir.is_dir():
        raise ReportError(f"no Allure results directory at {results_dir}")
    allure = tools / "node_modules" / ".bin" / "allure"
    if shutil.which("node") is None:
        _skip(results_dir, "Node.js is not installed", "install Node.js and run make report")
        return None
    if not allure.exists():
        _skip(results_dir, f"Allure is not installed in {tools}", f"run npm ci --prefix {tools}")
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    # beside out_dir, so the pages move by renaming
    with tempfile.TemporaryDirectory(prefix=".allure-", dir=out_dir.parent) as scratch:
        command = [str(allure), "generate", str(results_dir), "-o", scratch]
        command += ["--config", str(tools / "allurerc.mjs")]
        env = dict(os.environ)
        env.pop(HISTORY_ENV, None)
        if history is not None:
            history.mkdir(parents=True, exist_ok=True)
            env[HISTORY_ENV] = str(history.resolve() / HISTORY_FILE)
        try:
            done = subprocess.run(
                command,
                env=env,
                capture_output=True,
                text=True,
                timeout=GENERATE_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ReportError(f"allure generate did not run: {exc}") from exc
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip()[-2000:]
            raise ReportError(f"allure generate failed (exit {done.returncode}): {output}")
        page = Path(scratch) / PAGE
        if not page.is_file():
            raise ReportError(f"allure generate wrote no {PAGE}: see {tools / 'allurerc.mjs'}")
        shutil.move(page, out_dir / PAGE)
    return out_dir / PAGE


def write_environment(results_dir: Path, target: str) -> None:
    """Write environment.properties and executor.json, which Allure shows on the report."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    facts = {
        "pkconf": __version__,
        "python-fido2": version("fido2"),
        "python": platform.python_version(),
        "target": target,
    }
    chromium = chromium_version()
    if chromium is not None:
        facts["chromium"] = chromium
    lines = [f"{key}={_escape_property(value)}" for key, value in facts.items()]
    (results_dir / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")
    executor = json.dumps(_executor(), indent=2)
    (results_dir / "executor.json").write_text(executor + "\n", encoding="utf-8")


def _executor() -> dict[str, str]:
    """Who ran the suite: the GitHub Actions run when there is one, else this machine."""
    env = os.environ
    if env.get("GITHUB_ACTIONS") == "true":
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        run = f"{env.get('GITHUB_REPOSITORY', '')}/actions/runs/{env.get('GITHUB_RUN_ID', '')}"
        return {
            "name": "GitHub Actions",
            "type": "github",
            "buildName": f"{env.get('GITHUB_WORKFLOW', '')} #{env.get('GITHUB_RUN_NUMBER', '')}",
            "buildUrl": f"{server}/{run}",
        }
    return {"name": platform.node() or "local", "type": "local", "buildName": "pkconf (local run)"}


def _escape_property(value: str) -> str:
    """Java .properties escaping for a value: backslashes and line breaks."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _skip(results_dir: Path, why: str, fix: str) -> None:
    message = f"HTML report skipped: {why}. Results stay usable in {results_dir}; {fix}."
    print(message, file=sys.stderr)
