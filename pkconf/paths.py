"""Where the suite's own files live: fixtures (policies, expectations, PKI, MDS) and reports."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("PKCONF_FIXTURES", PROJECT_ROOT / "fixtures"))
TEST_MDS_BLOB = FIXTURES / "mds" / "test-mds-blob.jwt"
TEST_MDS_ROOT = FIXTURES / "mds" / "test-mds-root.pem"
REPORTS = PROJECT_ROOT / "reports"
