"""The light by-profile and by-platform pages: every case in its tree, failures opened."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from pkconf.report.views import write_views


def record(case: str, profile: str, platform: str, family: str | None, status: str = "passed",
           url: str = "https://learn.microsoft.com/entra") -> dict[str, Any]:
    outcome = "rejected" if family else "accepted"
    decided = {"outcome": outcome, "family": family, "reason": "WHY" if family else "ACCEPTED"}
    return {"id": f"{case}[{profile}/ctap]", "title": f"{case} <title>", "profile": profile,
            "platform": platform, "status": status, "expected": decided,
            "actual": decided if status == "passed" else {"outcome": "accepted"},
            "detail": "what the tenant said", "source": {"fact": "§2", "url": url,
                                                          "status": "documented"}}


RESULTS = [
    record("KR-001", "yubikey-5-usb", "security-key", "authenticator_governance"),
    record("KR-002", "yubikey-5-usb", "windows", "authenticator_governance", "failed"),
    record("AC-001", "yubikey-5-usb", "windows", None),
    record("PS-001", "windows-hello", "windows", "policy_scope", url="javascript:alert(1)"),
]


class Tree(HTMLParser):
    """Each case row as its path of group names, and which groups start open."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.open: dict[tuple[str, ...], bool] = {}
        self.rows: set[tuple[str, ...]] = set()
        self.links: list[str] = []
        self._summary = self._in_name = False
        self._cells: list[str] | None = None
        self._opening = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "details":
            self._opening = "open" in dict(attrs)
        elif tag == "summary":
            self._in_name = True
            self.stack.append("")
        elif tag == "span":
            self._in_name = False
        elif tag == "tr":
            self._cells = []
        elif tag == "td" and self._cells is not None:
            self._cells.append("")
        elif tag == "a" and self._cells is not None:
            self.links.append(dict(attrs)["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "summary":
            self._in_name = False
            self.open[tuple(self.stack)] = self._opening
        elif tag == "details":
            self.stack.pop()
        elif tag == "tr" and self._cells:
            self.rows.add((*self.stack, self._cells[1]))
            self._cells = None

    def handle_data(self, data: str) -> None:
        if self._in_name:
            self.stack[-1] += data
        elif self._cells:
            self._cells[-1] += data


@pytest.fixture
def pages(tmp_path: Path) -> dict[str, Tree]:
    written = write_views(RESULTS, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["by-platform.html", "by-profile.html"]
    trees = {}
    for view, page in written.items():
        trees[view] = Tree()
        trees[view].feed(page.read_text(encoding="utf-8"))
    return trees


@pytest.mark.parametrize(("view", "rows"), [
    ("by-profile", {
        ("yubikey-5-usb", "authenticator_governance", "security-key", "KR-001[yubikey-5-usb/ctap]"),
        ("yubikey-5-usb", "authenticator_governance", "windows", "KR-002[yubikey-5-usb/ctap]"),
        ("yubikey-5-usb", "accepted", "windows", "AC-001[yubikey-5-usb/ctap]"),
        ("windows-hello", "policy_scope", "windows", "PS-001[windows-hello/ctap]")}),
    ("by-platform", {
        ("security-key", "authenticator_governance", "yubikey-5-usb", "KR-001[yubikey-5-usb/ctap]"),
        ("windows", "authenticator_governance", "yubikey-5-usb", "KR-002[yubikey-5-usb/ctap]"),
        ("windows", "accepted", "yubikey-5-usb", "AC-001[yubikey-5-usb/ctap]"),
        ("windows", "policy_scope", "windows-hello", "PS-001[windows-hello/ctap]")}),
])  # fmt: skip
def test_every_case_sits_under_its_groups_in_the_view_s_order(pages, view, rows):
    assert pages[view].rows == rows


def test_only_the_groups_around_a_failure_start_open(pages):
    opened = {path for path, is_open in pages["by-profile"].open.items() if is_open}
    assert opened == {("yubikey-5-usb",), ("yubikey-5-usb", "authenticator_governance"),
                      ("yubikey-5-usb", "authenticator_governance", "windows")}


def test_a_source_is_linked_only_when_it_is_a_web_address(pages):
    assert "javascript:alert(1)" not in pages["by-profile"].links
    assert "https://learn.microsoft.com/entra" in pages["by-profile"].links


def test_titles_are_escaped_not_markup(tmp_path: Path):
    page = write_views(RESULTS, tmp_path)["by-profile"].read_text(encoding="utf-8")
    assert "KR-001 &lt;title&gt;" in page and "<title>KR-001" not in page


def test_the_header_counts_every_status_present(tmp_path: Path):
    page = write_views(RESULTS, tmp_path)["by-platform"].read_text(encoding="utf-8")
    assert "4 cases: 3 passed, 1 failed" in page
    assert "1 case: 1 failed" in page  # KR-002's platform group
