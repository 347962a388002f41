"""The evidence policy: a pass keeps its compact decision, a failure (or `--evidence all`) its
whole record, each attachment once."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import allure_commons
import allure_commons.model2 as model
import pytest
from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import Parameter, StatusDetails
from allure_commons.reporter import AllureReporter
from fido2.utils import websafe_decode

from conformance import evidence
from conformance.cases import load_cases
from conformance.evidence import (
    DECISION,
    compact_decision,
    keeps_evidence,
    lighten,
    report_case,
)
from pkconf.admin.impact import entra_options
from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies.ctap import make_credential
from pkconf.ceremonies.result import CeremonyResult, ClientError
from pkconf.tenant.decision import Decision, Outcome
from pkconf.tenant.rules import Reason

CASE = load_cases()[0]
FULL_RECORD = ["policy", "clientData (decoded)", "attestation object (decoded)", "decision",
               "steps"]
REJECTED = Decision(Outcome.REJECTED, Reason.USER_NOT_TARGETED, "the user is in no target")


def ceremony(decision: Decision | ClientError = REJECTED) -> CeremonyResult:
    """A real registration's record (clientData, attestation object, steps) and a decision."""
    result = CeremonyResult()
    response = make_credential(PROFILES["yubikey-5-usb"], entra_options(), result)["response"]
    result.client_data_json = websafe_decode(response["clientDataJSON"])
    result.attestation_object = websafe_decode(response["attestationObject"])
    result.steps = ["registered"]
    result.decision = decision
    return result


class FakeBrowser:
    def __init__(self, shot: bytes | None, console: list[str]):
        self.shot, self.lines = shot, console

    def screenshot(self) -> bytes | None:
        return self.shot

    def console(self) -> list[str]:
        return self.lines


@pytest.fixture
def allure_calls(monkeypatch) -> dict[str, list[Any]]:
    """What report_case tells Allure: parameters and attachments, in order."""
    calls: dict[str, list[Any]] = {"parameters": [], "attachments": []}
    fake = SimpleNamespace(
        attach=lambda body, name, attachment_type: calls["attachments"].append(
            (name, body, attachment_type)),
        dynamic=SimpleNamespace(parameter=lambda name, value, excluded=None: calls[
            "parameters"].append((name, value, excluded))))
    monkeypatch.setattr(evidence, "allure", fake)
    return calls


@pytest.mark.parametrize(("decision", "line"), [
    (REJECTED, "rejected policy_scope USER_NOT_TARGETED: the user is in no target"),
    (Decision(Outcome.ACCEPTED, Reason.ACCEPTED, "fits"), "accepted ACCEPTED: fits"),
    (ClientError("NotAllowedError", "timed out"),
     "client-error client NotAllowedError: timed out"),
])
def test_the_compact_decision_is_outcome_family_reason_and_detail_on_one_line(decision, line):
    assert compact_decision(ceremony(decision)) == line


@pytest.mark.parametrize(("failed", "mode", "kept"), [
    (False, "failures", False), (True, "failures", True), (False, "all", True),
    (True, "all", True),
])
def test_full_evidence_is_kept_for_failures_and_under_evidence_all(failed, mode, kept):
    assert keeps_evidence(failed=failed, mode=mode) is kept


def test_an_unknown_evidence_mode_is_refused():
    with pytest.raises(ValueError, match="'some' is not one of"):
        keeps_evidence(failed=False, mode="some")


def test_a_passing_case_keeps_its_decision_as_a_parameter_and_attaches_nothing(allure_calls):
    report_case(CASE, ceremony(), failed=False, mode="failures")
    assert allure_calls == {"attachments": [], "parameters": [
        (DECISION, "rejected policy_scope USER_NOT_TARGETED: the user is in no target", True)]}


@pytest.mark.parametrize(("failed", "mode"), [(True, "failures"), (False, "all")])
def test_a_kept_case_attaches_its_whole_record_once_each(allure_calls, failed, mode):
    result = ceremony()
    report_case(CASE, result, failed=failed, mode=mode)
    attached = {name: body for name, body, _ in allure_calls["attachments"]}
    assert [name for name, _, _ in allure_calls["attachments"]] == FULL_RECORD
    assert json.loads(attached["policy"]) == json.loads(json.dumps(CASE.policy, default=str))
    assert json.loads(attached["clientData (decoded)"])["type"] == "webauthn.create"
    assert "authData" in json.loads(attached["attestation object (decoded)"])
    assert json.loads(attached["decision"])["reason"] == "USER_NOT_TARGETED"
    assert json.loads(attached["steps"]) == ["registered"]
    assert [name for name, _, _ in allure_calls["parameters"]] == [DECISION]


def test_a_failing_browser_case_adds_its_screenshot_and_console(allure_calls):
    browser = FakeBrowser(b"\x89PNG", ["page loaded", "create() rejected"])
    report_case(CASE, ceremony(), browser, failed=True, mode="failures")
    extra = allure_calls["attachments"][len(FULL_RECORD):]
    assert [(name, body, kind.mime_type) for name, body, kind in extra] == [
        ("screenshot", b"\x89PNG", "image/png"),
        ("browser console", "page loaded\ncreate() rejected", "text/plain")]


def test_a_browser_with_no_page_and_no_console_adds_nothing(allure_calls):
    report_case(CASE, ceremony(), FakeBrowser(None, []), failed=True, mode="failures")
    assert [name for name, _, _ in allure_calls["attachments"]] == FULL_RECORD


def test_a_case_that_broke_before_its_ceremony_keeps_its_policy_and_no_decision(allure_calls):
    report_case(CASE, None, failed=True, mode="failures")
    assert [name for name, _, _ in allure_calls["attachments"]] == ["policy"]
    assert allure_calls["parameters"] == []


def test_lighten_drops_the_case_repr_and_keeps_the_named_parameters():
    result = SimpleNamespace(parameters=[Parameter("case", "Case(case_id='X', policy={...})"),
                                         Parameter("case id", "'X'"),
                                         Parameter(DECISION, "accepted ACCEPTED: fits")])
    lighten(result)
    assert [p.name for p in result.parameters] == ["case id", DECISION]


@pytest.mark.parametrize(("fixture", "written"), [
    (model.TestBeforeResult(name="case", status="passed"), False),
    (model.TestBeforeResult(name="emulator", status="broken",
                      statusDetails=StatusDetails(message="the emulator did not start")), True),
])
def test_only_containers_that_tell_something_are_written_and_the_logger_still_unregisters(
        tmp_path: Path, fixture: model.TestBeforeResult, written: bool) -> None:
    manager = allure_commons.plugin_manager
    logger = AllureFileLogger(tmp_path)
    manager.register(logger, "file-logger-under-test")
    try:
        evidence.write_telling_containers_only()
        manager.hook.report_container(container=model.TestResultContainer(uuid="c",
                                                                          befores=[fixture]))
    finally:  # as allure-pytest's clean-up does: by the name it finds for its logger
        manager.unregister(name=manager.get_name(logger))
    assert [p.name.endswith("-container.json") for p in tmp_path.iterdir()] == (
        [True] if written else [])
    assert manager.get_name(logger) is None


def test_a_fixture_containers_children_answer_membership_from_a_set_and_are_written_in_order(
        tmp_path: Path) -> None:
    reporter = AllureReporter()
    evidence.index_container_children(reporter)
    reporter.start_group("g", model.TestResultContainer(uuid="g"))
    for uuid in ("t2", "t1", "t3"):
        reporter.update_group("g", children=uuid)  # as allure-pytest adds each test
    group = reporter.get_item("g")
    assert "t1" in group.children and "t4" not in group.children
    assert group.children._uuids == {"t1", "t2", "t3"}  # what `in` reads
    logger = AllureFileLogger(tmp_path)
    logger.report_container(group)
    (written,) = tmp_path.iterdir()
    assert json.loads(written.read_text())["children"] == ["t2", "t1", "t3"]
