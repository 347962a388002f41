"""Where the suite's own files live: fixtures (policies, expectations, PKI, MDS) and reports.

The fixtures come from the installed distribution (fixtures/ installs as `pkconf_fixtures`), so
`pip install .` outside a checkout still finds them; an editable install maps that package to the
checkout's fixtures/. Reports and the Allure tooling belong to a source checkout when pkconf runs
from one, else to the current directory.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path


def package_dir(package: str) -> Path:
    """An installed package's directory: a regular install unpacks it, so its files are on disk."""
    found = files(package)
    if not isinstance(found, Path):  # e.g. a zipped install: nothing a Path could name
        raise ImportError(f"{package} is not installed as a directory ({found})")
    return found


def _checkout() -> Path | None:
    """The source checkout pkconf runs from (an editable install), or None for a regular one."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


CHECKOUT = _checkout()
FIXTURES = Path(os.environ.get("PKCONF_FIXTURES") or package_dir("pkconf_fixtures"))
TEST_MDS_BLOB = FIXTURES / "mds" / "test-mds-blob.jwt"
TEST_MDS_ROOT = FIXTURES / "mds" / "test-mds-root.pem"
REPORTS = (CHECKOUT or Path.cwd()) / "reports"
