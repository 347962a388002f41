"""The pytest plugin: selects cases, starts the emulator per worker, runs, reports.

Registered from the root `conftest.py`. A test module opts in by naming its case source
(`CASE_SOURCE = "explicit"` or `"matrix"`) and taking the `case` and `conformance` fixtures.
Every case lays out its own user and groups, so `pytest -n auto` is safe and order-free.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, TextIO

import allure
import allure_commons
import pytest
from allure_commons.model2 import StatusDetails
from allure_commons.utils import md5, represent

from pkconf.authenticators.files import metadata_with
from pkconf.authenticators.profiles import Platform
from pkconf.ceremonies.browser import BrowserSession
from pkconf.ceremonies.chromium import ChromiumNotFound
from pkconf.ceremonies.graph_client import GraphClient, GraphError
from pkconf.ceremonies.graph_target import GraphTenant
from pkconf.ceremonies.result import CeremonyResult
from pkconf.ceremonies.speedups import enable_fido2_speedups
from pkconf.ceremonies.tenant import TenantApi, TenantError
from pkconf.emulator.server import EmulatorServer
from pkconf.emulator.tls import TestTls
from pkconf.inputs import UsageError, read_metadata, read_rule_book
from pkconf.paths import REPORTS
from pkconf.tenant.decision import Decision
from pkconf.tenant.rules import RuleBook

from .cases import Case, Verdict
from .evidence import (
    index_container_children,
    lighten,
    report_case,
    write_telling_containers_only,
)
from .graph_target import (
    OBSERVATIONS,
    GraphOptions,
    graph_options,
    observation,
    skip_reason,
    write_observation,
)
from .options import AREAS, add_run_options, check_selectors, check_target, shard
from .own_policy import AREA as OWN_POLICY
from .own_policy import EPIC as OWN_POLICY_EPIC
from .own_policy import RunProfiles, headline, own_policy_cases, read_run_profiles
from .runner import (
    BROWSER_AUTHENTICATORS,
    DecisionMismatch,
    actual,
    case_book,
    check,
    run_case,
)
from .selection import check_collected, select_cases
from .worker_events import hold_test_events, without_keywords

RESULTS = "results.jsonl"
USAGE_EXIT = 2  # unusable input, as every pkconf command exits
_CASE_KEY = pytest.StashKey[dict[str, Any]]()
_RUN_BOOK = pytest.StashKey[RuleBook]()  # --as-of/--cloud, read once
_OWN_CASES = pytest.StashKey[list[Case]]()  # --policy (--user, --directory), read once
_RUN_PROFILES = pytest.StashKey[RunProfiles]()  # --profile names and files, read once
_ALLURE_HOOK = pytest.StashKey["_AllureResultHook"]()
_GRAPH = pytest.StashKey[GraphOptions]()  # --target graph, read once
_RESULTS_FILE = pytest.StashKey[TextIO]()  # results.jsonl, open for the session
_ITEM = pytest.StashKey[pytest.Item]()  # the test running now
_CHECKED = pytest.StashKey[bool]()  # the selection check ran (xdist: once per run)
_SKIPPED = pytest.StashKey[dict[str, int]]()  # why cases did not run on the tenant
DECISION = "decision"  # the user property an own-policy case's decision travels in


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("pkconf", "passkey registration conformance")
    add_run_options(g.addoption)  # the same options, with the same help, as `pkconf run`
    g.addoption("--results-dir", default=None, metavar="DIR",
                help="write one JSON line per case to DIR/results.jsonl (pkconf run passes "
                     "reports/); plain pytest runs leave the last run's reports alone")


def pytest_configure(config: pytest.Config) -> None:
    enable_fido2_speedups()  # fido2's type hints and field keys, memoized for the run
    if hasattr(config, "workerinput"):
        hold_test_events(config)  # a test's events reach xdist's controller in one write
    for area in AREAS:
        config.addinivalue_line("markers", f"{area.replace('-', '_')}: {area} cases")
    for platform in Platform:
        config.addinivalue_line("markers", f"{platform.value}: cases on {platform.value}")
    try:
        check_target(config.getoption("--target"))
        check_selectors(config.getoption("--area"), config.getoption("--ceremony"))
        config.stash[_RUN_BOOK] = read_rule_book(config.getoption("--as-of"),
                                                 config.getoption("--cloud"))
        policy = config.getoption("--policy")
        run_profiles = read_run_profiles(config.getoption("--profile"), policy)
        config.stash[_RUN_PROFILES] = run_profiles
        if policy:
            config.stash[_OWN_CASES] = own_policy_cases(policy, config.getoption("--user"),
                                                        config.getoption("--directory"),
                                                        run_profiles.profiles)
        elif config.getoption("--user") or config.getoption("--directory"):
            raise UsageError("--user and --directory go with --policy")
        shard(config.getoption("--shard"))
        if config.getoption("--target") == "graph":
            config.stash[_GRAPH] = _graph_run(config)
    except UsageError as e:
        pytest.exit(f"pkconf: {e}", returncode=USAGE_EXIT)
    results_dir = config.getoption("--results-dir")
    if results_dir and not hasattr(config, "workerinput"):  # the controller, or no xdist
        results = Path(results_dir) / RESULTS
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text("")
        if _GRAPH in config.stash:
            (Path(results_dir) / OBSERVATIONS).write_text("")


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(
        config: pytest.Config, report: pytest.CollectReport | pytest.TestReport,
) -> Generator[None, dict[str, Any] | None, dict[str, Any] | None]:
    data = yield
    return without_keywords(data) if data and hasattr(config, "workerinput") else data


def _graph_run(config: pytest.Config) -> GraphOptions:
    """--target graph: its options, in one process (the tenant is one shared state)."""
    if config.getoption("--policy"):
        raise UsageError("--policy runs on the emulator: a tenant's own policy is what "
                         "--target graph reads")
    if getattr(config.option, "numprocesses", None):
        raise UsageError("--target graph runs its cases one after another: use -n 0")
    book = config.stash[_RUN_BOOK]
    config.stash[_SKIPPED] = {}
    return graph_options(config.getoption, _results_dir(config), book.cloud)


def _results_dir(config: pytest.Config) -> Path:
    """Where results (and a tenant's observations) go: --results-dir, else reports/."""
    return Path(config.getoption("--results-dir") or REPORTS)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    write_telling_containers_only()  # first: pluggy calls the last registered first, and
    # the hook below must amend a result before the file logger writes it
    listener = session.config.pluginmanager.get_plugin("allure_listener")
    if listener is not None:  # only with --alluredir
        index_container_children(listener.allure_logger)
    hook = session.config.stash[_ALLURE_HOOK] = _AllureResultHook()
    allure_commons.plugin_manager.register(hook, "pkconf-test-case-id")


class _AllureResultHook:
    """Allure's testCaseId from the case id, so history lines up across runs and workers; and
    an own-policy case's decision as its status message, which allure-pytest leaves empty on a
    pass (messages are per worker process, as the results are written)."""

    def __init__(self) -> None:
        self.messages: dict[str, str] = {}  # case id, as parameters show it -> message

    @allure_commons.hookimpl
    def report_result(self, result: Any) -> None:
        lighten(result)
        for p in result.parameters:
            if p.name == "case id":
                result.testCaseId = md5(p.value)
                if (message := self.messages.get(p.value)) and result.statusDetails is None:
                    result.statusDetails = StatusDetails(message=message)


def _own(config: pytest.Config) -> list[Case]:
    """--policy's own cases (none without it)."""
    own: list[Case] = config.stash.get(_OWN_CASES, [])
    return own


def select(config: pytest.Config, source: str) -> list[Case]:
    """The cases of one source, filtered by the command-line selectors."""
    return select_cases(config.getoption, source, _own(config),
                        config.stash[_RUN_PROFILES])


def pytest_collection_finish(session: pytest.Session) -> None:
    """Without xdist: the selection check over what was collected."""
    if not hasattr(session.config, "workerinput"):
        _check_collected(session.config, [item.nodeid for item in session.items])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """With xdist: the controller checks the first worker's collection (they all collect the
    same cases)."""
    if not node.config.stash.get(_CHECKED, False):
        node.config.stash[_CHECKED] = True
        _check_collected(node.config, ids)


def _check_collected(config: pytest.Config, node_ids: list[str]) -> None:
    """A selection that runs nothing is an error naming the selector, never a green run (exit
    2, one line): a --case glob that matched no case, or selectors that together left none."""
    try:
        check_collected(config.getoption, [_case_ids(n) for n in node_ids
                                           if "[" in n and not n.endswith("[NOTSET]")])
    except UsageError as e:
        pytest.exit(f"pkconf: {e}", returncode=USAGE_EXIT)


def _case_ids(node_id: str) -> tuple[str, str]:
    """(case id, full id) from `…::test_x[KR-BLOCK-001[yubikey-5-usb/graph]]` (`[NOTSET]` is
    pytest's stand-in for an empty selection)."""
    full = node_id[node_id.index("[") + 1:-1]
    return full.split("[")[0], full


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    source = getattr(metafunc.module, "CASE_SOURCE", None)
    if source is None or "case" not in metafunc.fixturenames:
        return
    cases = select(metafunc.config, source)
    metafunc.parametrize("case", [
        pytest.param(c, id=c.id, marks=[getattr(pytest.mark, c.area.replace("-", "_")),
                                        getattr(pytest.mark, c.authenticator.platform.value)])
        for c in cases
    ])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a tenant, cases with the same policy run together: one policy write for them all."""
    if _GRAPH not in config.stash:
        return

    def policy_key(item: pytest.Item) -> str:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("case") if callspec is not None else None
        return json.dumps(case.policy, sort_keys=True) if isinstance(case, Case) else ""

    items.sort(key=policy_key)


@pytest.fixture(scope="session")
def emulator(pytestconfig: pytest.Config) -> Iterator[EmulatorServer | None]:
    """This worker's embedded emulator, over the test TLS of Entra's hosts; None when
    `--target` names a running one. Authenticator files' models are in no committed BLOB:
    without --mds their entries join the test BLOB, so enforced attestation verifies them."""
    if pytestconfig.getoption("--target") != "emulator":
        yield None
        return
    files = pytestconfig.stash[_RUN_PROFILES].files
    try:
        metadata = read_metadata(pytestconfig.getoption("--mds"),
                                 pytestconfig.getoption("--mds-root"),
                                 test_blob=metadata_with(files) if files else None)
    except UsageError as e:
        raise pytest.UsageError(str(e)) from None
    with EmulatorServer(metadata=metadata, tls=TestTls()) as server:
        yield server


@pytest.fixture(scope="session")
def tenant(pytestconfig: pytest.Config,
           emulator: EmulatorServer | None) -> Iterator[TenantApi | GraphTenant]:
    """The tenant under test: by default this worker's emulator; with --target graph a tenant
    through Graph, whose policy is put back as the session ends (Ctrl-C included)."""
    if _GRAPH in pytestconfig.stash:
        yield from _graph_tenant(pytestconfig.stash[_GRAPH])
        return
    if emulator is None:
        with TenantApi(pytestconfig.getoption("--target")) as api:
            yield api
        return
    with TenantApi(emulator.api_url) as api:  # the browser cases keep its TLS port
        yield api


def _graph_tenant(options: GraphOptions) -> Iterator[GraphTenant]:
    with GraphClient(options.settings) as client:
        target = options.tenant(client)
        try:
            target.start()
        except (GraphError, TenantError) as e:
            pytest.exit(f"pkconf: the tenant: {e}", returncode=USAGE_EXIT)
        previous = signal.signal(signal.SIGTERM, _interrupt)  # a CI job's cancel: restore too
        try:
            yield target
        finally:
            signal.signal(signal.SIGTERM, previous)
            for line in target.close():
                print(f"\npkconf: {line}")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@pytest.fixture(scope="session")
def browser_session(pytestconfig: pytest.Config,
                    emulator: EmulatorServer | None) -> Iterator[BrowserSession]:
    """One Chromium per worker, started on the first browser case."""
    if emulator is None:
        pytest.skip("browser cases need the embedded emulator (its TLS and host rules)")
    try:
        session = BrowserSession.for_server(
            emulator, ws_endpoint=pytestconfig.getoption("--browser-ws"),
            reuse=False if pytestconfig.getoption("--no-browser-reuse") else None)
        session.start()
    except ChromiumNotFound as e:
        raise pytest.UsageError(str(e)) from None
    try:
        yield session
    finally:
        session.close()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.config.stash[_ITEM] = item  # the case the session-wide `conformance` runs now


@pytest.fixture(scope="session")
def conformance(request: pytest.FixtureRequest, tenant: TenantApi):
    """Run a case, annotate Allure with it, remember it for results.jsonl, then check it.

    Session-scoped, reading the running test from the stash: a function-scoped fixture cost
    Allure a fixture record per case (about a tenth of a case's time)."""

    config = request.config
    graph = config.stash.get(_GRAPH, None)

    def run(case: Case) -> CeremonyResult:
        node = config.stash[_ITEM]
        run_book = config.stash[_RUN_BOOK]
        if graph is not None:
            assert isinstance(tenant, GraphTenant)
            run_book = RuleBook.today(graph.cloud)  # a tenant decides by today's rules
            try:
                why = skip_reason(case, tenant, graph, run_book.as_of)
            except (GraphError, TenantError) as e:  # the tenant's answer, in one line
                pytest.fail(f"{case.id}: the tenant: {e}", pytrace=False)
            if why:
                skipped = config.stash[_SKIPPED]
                skipped[why] = skipped.get(why, 0) + 1
                pytest.skip(why)
        book = case_book(case, run_book)
        record: dict[str, Any] = {"case": case, "result": None, "book": book}
        node.stash[_CASE_KEY] = record
        _label(case, book)
        browser = (request.getfixturevalue("browser_session")
                   if case.ceremony in BROWSER_AUTHENTICATORS else None)
        start = time.perf_counter()
        mode = config.getoption("--evidence")
        result: CeremonyResult | None = None
        try:
            try:
                result = run_case(tenant, case, browser, run_book)
            except (GraphError, TenantError) as e:
                if graph is None:
                    raise
                pytest.fail(f"{case.id}: the tenant: {e}", pytrace=False)
            record["result"], record["ms"] = result, (time.perf_counter() - start) * 1000
            if isinstance(tenant, GraphTenant):
                write_observation(_results_dir(config),
                                  observation(case, result, tenant, book))
                tenant.end_case()
            if case.expect.outcome is Verdict.RECORDED:
                assert isinstance(result.decision, Decision), result.decision
                _record(node, case, result.decision)
            else:  # a real tenant names no reasons: only its refusals' outcome compares
                check(case, result, names_reasons=graph is None)
        except DecisionMismatch as e:
            mismatch = str(e)
        except BaseException:
            report_case(case, result, browser, failed=True, mode=mode)
            raise
        else:
            report_case(case, result, browser, failed=False, mode=mode)
            return result
        # the case's one compact block (raised outside the handler: no chained traceback);
        # the full evidence goes to the report
        report_case(case, result, browser, failed=True, mode=mode)
        pytest.fail(mismatch, pytrace=False)

    return run


def _record(node: pytest.Item, case: Case, decision: Decision) -> None:
    """An own-policy decision where a reader looks for the outcome: pytest's status (through a
    user property, which xdist carries to the controller), Allure's title, label and status."""
    said = headline(decision)
    node.user_properties.append((DECISION, said))
    outcome, _, why = said.partition(" ")
    reason = "" if decision.accepted else f" {why}"  # an acceptance has no family or reason
    allure.dynamic.title(f"{outcome.upper()}{reason} — {case.profile}/{case.ceremony}, "
                         f"{case.user_name}")
    # the tree's top level says the outcome: a rejection is never among plain green passes
    allure.dynamic.epic(f"{OWN_POLICY_EPIC}: {outcome}")
    allure.dynamic.label(DECISION, outcome)
    allure.dynamic.description(decision.detail)
    node.config.stash[_ALLURE_HOOK].messages[represent(case.id)] = f"{said}: {decision.detail}"


def _label(case: Case, book: RuleBook) -> None:
    profile = case.authenticator
    own = case.area == OWN_POLICY  # own policy > user class > profile; else family > platform
    if not own:  # an own-policy case's epic names its decision (`_record`)
        allure.dynamic.epic(case.expect.family_name or case.expect.outcome.value)
    allure.dynamic.feature(case.user_name if own else profile.platform.value)
    allure.dynamic.story(case.profile)
    allure.dynamic.title(f"{case.id} {case.title}")
    allure.dynamic.parameter("case id", case.id)
    allure.dynamic.parameter("policy", case.policy_name)
    allure.dynamic.parameter("user state", case.user_name)
    allure.dynamic.parameter("path", case.ceremony)
    # shown, kept out of the history id: a nightly run's as-of changes every day
    allure.dynamic.parameter("as of", book.as_of.isoformat(), excluded=True)
    allure.dynamic.parameter("cloud", str(book.cloud), excluded=True)
    if case.variation:
        allure.dynamic.parameter("variation", case.variation)
    allure.dynamic.label("aaguid", profile.aaguid)
    allure.dynamic.label("attestation_format", profile.attestation.fmt)
    allure.dynamic.label("passkey_type", profile.passkey_type)
    allure.dynamic.label("area", case.area)
    if case.source.url:
        allure.dynamic.link(case.source.url, name=f"{case.source.fact} ({case.source.status})")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    record = item.stash.get(_CASE_KEY, None)
    results_dir = item.config.getoption("--results-dir")
    if record is None or report.when == "teardown" or (report.when == "setup" and report.passed):
        return
    # used once: kept, every case's whole ceremony would live as long as the run's items
    del item.stash[_CASE_KEY]
    if not results_dir:
        return
    case, result = record["case"], record["result"]
    broken = report.failed and not isinstance(getattr(call.excinfo, "value", None),
                                              AssertionError | pytest.fail.Exception)
    line = {
        "id": case.id, "case_id": case.case_id, "area": case.area, "title": case.title,
        "platform": case.authenticator.platform.value, "profile": case.profile,
        "ceremony": case.ceremony, "policy": case.policy_name, "user": case.user_name,
        "asOf": record["book"].as_of.isoformat(), "cloud": str(record["book"].cloud),
        "expected": case.expect.as_dict(),
        "actual": actual(result).as_dict() if result else None,
        "detail": result.decision.detail if result else None,
        "status": "broken" if broken else report.outcome,
        "duration_ms": round(record.get("ms", 0.0), 2),
        "source": {"fact": case.source.fact, "url": case.source.url,
                   "status": case.source.status},
        "message": str(call.excinfo.value) if call.excinfo else None,
    }
    results = item.config.stash.get(_RESULTS_FILE, None)
    if results is None:  # one handle per process; O_APPEND keeps workers' lines whole
        results = item.config.stash[_RESULTS_FILE] = (Path(results_dir) / RESULTS).open(
            "a", buffering=1)
    results.write(json.dumps(line) + "\n")


def pytest_unconfigure(config: pytest.Config) -> None:
    if (results := config.stash.get(_RESULTS_FILE, None)) is not None:
        results.close()


def pytest_report_teststatus(report: pytest.TestReport,
                             config: pytest.Config) -> tuple[str, str, str] | None:
    """An own-policy case counts as its decision (`40 accepted, 8 rejected`), not as passed."""
    said = dict(getattr(report, "user_properties", ())).get(DECISION)
    if report.when != "call" or not report.passed or not isinstance(said, str):
        return None
    outcome = said.split()[0]
    return outcome, outcome[0].upper(), outcome.upper()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _GRAPH in config.stash:
        skipped = config.stash[_SKIPPED]
        ran = sum(len(terminalreporter.stats.get(o, ())) for o in ("passed", "failed"))
        terminalreporter.write_line(
            f"tenant {config.stash[_GRAPH].settings.tenant}: {ran} cases ran, "
            f"{sum(skipped.values())} skipped; observations in "
            f"{_results_dir(config) / OBSERVATIONS}")
        for why, count in sorted(skipped.items(), key=lambda kv: -kv[1]):
            terminalreporter.write_line(f"  {count:5d} skipped: {why}")
    if policy := config.getoption("--policy"):
        counts = {o: len(terminalreporter.stats.get(o, ())) for o in ("accepted", "rejected")}
        terminalreporter.write_line(
            f"{sum(counts.values())} decisions recorded ({counts['accepted']} accepted, "
            f"{counts['rejected']} rejected) under {Path(policy).name}")
