"""reports/junit.xml as CI systems group it: one suite, each case under family.platform.

pytest names every testcase after its test function (`classname="conformance.test_cases"`,
`name="test_entra_decides_as_documented[KR-ALLOW-001[yubikey-5-usb/ctap]]"`), so a CI test
view shows two classes of thousands. Rewritten from results.jsonl, a testcase's classname is
the family its case expects and the platform (`authenticator_governance.security-key`; an
accepted case `accepted.<platform>`, the same family the summary counts it under) and its name
is the case id with profile and ceremony. Shards' files merge into one, with totals recounted,
so a merged report's JUnit equals an unsharded run's.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .summary import ResultsError, family

OUTCOMES = {"failures": "failure", "errors": "error", "skipped": "skipped"}  # count -> element


def case_id(testcase_name: str) -> str | None:
    """The parametrize id inside `test_name[...]`: the case id; None for an unparametrized
    test."""
    _, bracket, rest = testcase_name.partition("[")
    return rest[:-1] if bracket and rest.endswith("]") else None


def classname(record: dict[str, Any]) -> str:
    return f"{family(record)}.{record.get('platform') or 'unknown'}"


def write_junit(sources: Sequence[Path], results: list[dict[str, Any]], out: Path) -> int:
    """One JUnit file from the sources' testcases, renamed after their case records (a testcase
    without one keeps pytest's names; one already renamed stays as it is); returns the number
    of testcases written. A case in two sources counts once, with its later testcase, as in the
    summary. A source may be `out` itself: every source is read before `out` is written."""
    by_id = {record["id"]: record for record in results}
    testcases: dict[tuple[str, str], ET.Element] = {}
    seconds = 0.0
    for source in sources:
        try:
            root = ET.parse(source).getroot()
        except (OSError, ET.ParseError) as exc:
            raise ResultsError(f"cannot read JUnit XML {source}: {exc}") from exc
        for old in root.iter("testsuite"):
            seconds += float(old.get("time") or 0)
        for testcase in root.iter("testcase"):
            name = testcase.get("name", "")
            record = by_id.get(name) or by_id.get(case_id(name) or "")
            if record is not None:
                testcase.set("classname", classname(record))
                testcase.set("name", record["id"])
            key = (testcase.get("classname", ""), testcase.get("name", ""))
            testcases.pop(key, None)  # a rerun moves the case to its latest position
            testcases[key] = testcase
    suite = ET.Element("testsuite", name="pkconf")
    suite.extend(testcases.values())
    cases = list(suite)
    counts = {key: sum(1 for c in cases if c.find(tag) is not None)
              for key, tag in OUTCOMES.items()}
    suite.attrib.update({"tests": str(len(cases)), "time": f"{seconds:.3f}",
                         **{key: str(n) for key, n in counts.items()}})
    suites = ET.Element("testsuites", name="pkconf conformance")
    suites.append(suite)
    out.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(out, encoding="utf-8", xml_declaration=True)
    return len(cases)
