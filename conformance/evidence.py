"""What a case leaves in the Allure report: its compact decision always, full evidence only
when someone will read it.

A full run has thousands of passing cases; attaching the policy, the decoded clientData and
attestation object, the decision and the steps to each made ~30,000 result files and a report
over 100 MB that nobody opened for a pass. A passing case now carries its decision as a
parameter (one line in its header, no file); a failing case (and every case under
`--evidence all`) keeps the whole record, and a browser case's screenshot and console with it.
The plugin calls `report_case` once per case, so nothing is attached twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import allure
import allure_commons
import attr
from allure_commons.logger import AllureFileLogger
from allure_commons.types import AttachmentType

from pkconf.ceremonies.result import CeremonyResult
from pkconf.report.allure_results import says_nothing

from .cases import Case
from .runner import actual

EVIDENCE_MODES = ("failures", "all")
EVIDENCE_HELP = ("which cases keep full evidence (policy, decoded clientData and attestation "
                 "object, decision, steps, browser screenshot and console) in the report: "
                 "'failures' (default; a pass keeps its decision) or 'all'")
DECISION = "decision"  # the parameter a case's compact decision travels in
PYTEST_PARAMETER = "case"  # allure-pytest's repr of the Case: the "case id" parameter names it


class Browser(Protocol):
    """The part of a browser session that evidence reads (BrowserSession)."""

    def screenshot(self) -> bytes | None: ...

    def console(self) -> list[str]: ...


@dataclass(frozen=True)
class Attachment:
    name: str
    body: str | bytes
    kind: AttachmentType


def compact_decision(result: CeremonyResult) -> str:
    """`rejected policy_scope USER_NOT_TARGETED: <detail>`: what a pass keeps of its run."""
    said = actual(result)
    words = (said.outcome.value, said.family_name or "", str(said.reason))
    return f"{' '.join(w for w in words if w)}: {result.decision.detail}"


def keeps_evidence(*, failed: bool, mode: str) -> bool:
    """Full evidence for a failure, or for every case under `--evidence all`."""
    if mode not in EVIDENCE_MODES:
        raise ValueError(f"evidence mode {mode!r} is not one of {EVIDENCE_MODES}")
    return failed or mode == "all"


def evidence(case: Case, result: CeremonyResult | None,
             browser: Browser | None = None) -> list[Attachment]:
    """Everything that explains a decision, each once: what the ceremony produced (nothing when
    it broke before producing anything), then what the browser showed and logged."""
    found: list[Attachment] = []
    record: Iterable[tuple[str, Any]] = [("policy", case.policy)]
    if result is not None:
        record = [*record, ("clientData (decoded)", result.client_data()),
                  ("attestation object (decoded)", result.attestation()),
                  ("decision", result.decision.to_json()), ("steps", result.steps or None)]
    for name, body in record:
        if body is not None:
            found.append(Attachment(name, json.dumps(body, indent=2, default=str),
                                    AttachmentType.JSON))
    if browser is not None:
        if (shot := browser.screenshot()) is not None:
            found.append(Attachment("screenshot", shot, AttachmentType.PNG))
        if console := browser.console():
            found.append(Attachment("browser console", "\n".join(console), AttachmentType.TEXT))
    return found


def report_case(case: Case, result: CeremonyResult | None, browser: Browser | None = None, *,
                failed: bool, mode: str) -> None:
    """Annotate the running Allure test: the decision as a parameter (kept out of the history
    id, so a changed detail is the same test), then the evidence the mode keeps."""
    if result is not None:
        allure.dynamic.parameter(DECISION, compact_decision(result), excluded=True)
    if keeps_evidence(failed=failed, mode=mode):
        for item in evidence(case, result, browser):
            allure.attach(item.body, name=item.name, attachment_type=item.kind)


def lighten(test_result: Any) -> None:
    """Drop allure-pytest's parameter holding the whole Case's repr (policy, user, expectation:
    ~2.5 KB a result, repeated in the HTML) before the result is written; the "case id"
    parameter names the case, and the history id was computed before this runs."""
    test_result.parameters = [p for p in test_result.parameters
                              if p.name != PYTEST_PARAMETER]


def write_telling_containers_only() -> None:
    """Make Allure's file logger skip the fixture containers that say nothing, which the
    reports would delete after the run anyway (`allure_results.compact`): allure-pytest writes
    one for each case's `case` parameter, and writing it (attrs to dict, JSON, a temporary file,
    a rename) cost about half a millisecond a case. The logger is registered again with the
    filtering hook, under its own name, so allure-pytest's clean-up still finds it."""
    manager = allure_commons.plugin_manager
    for logger in manager.get_plugins():
        if type(logger) is not AllureFileLogger or "report_container" in vars(logger):
            continue
        name = manager.get_name(logger)
        manager.unregister(logger)
        logger.report_container = _telling(logger.report_container)  # type: ignore[method-assign]
        manager.register(logger, name)


class _Children(list[str]):
    """A fixture container's children (test uuids) that answer `in` from a set.

    allure-pytest asks `uuid not in group.children` of every fixture of every test, and a
    session-scoped fixture's container holds every test run so far: the lists made a run
    quadratic (at the 10,500th case of a long run, 2 ms of its 10 went there)."""

    def __init__(self, uuids: Iterable[str] = ()) -> None:
        super().__init__(uuids)
        self._uuids = set(self)

    def append(self, uuid: str) -> None:
        super().append(uuid)
        self._uuids.add(uuid)

    def __contains__(self, uuid: object) -> bool:
        return uuid in self._uuids


def index_container_children(reporter: Any) -> None:
    """Give every fixture container that allure-pytest's `reporter` (an `AllureReporter`)
    starts `_Children`; allure-pytest adds a child only by `append` (`_update_item`)."""
    start_group = reporter.start_group

    def start(uuid: str, group: Any) -> None:
        group.children = _Children(group.children)
        start_group(uuid, group)

    reporter.start_group = start


def _telling(write: Callable[[Any], None]) -> Callable[[Any], None]:
    @allure_commons.hookimpl
    def report_container(container: Any) -> None:
        if not says_nothing(attr.asdict(container)):
            write(container)
    return report_container
