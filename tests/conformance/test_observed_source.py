"""A source with status `observed`: a case (or a rule) citing an observation file of a real
tenant, which must be where docs.toml says; `pkconf rules` shows such a rule as observed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from conformance.cases import CaseError, load_case_file, load_docs, load_users
from pkconf.cli import main
from pkconf.tenant import rules
from pkconf.tenant.rules import Family, Reason, Rule, Status

OBSERVED_URL = "fixtures/observations/2026-11-29.jsonl"


def _docs(tmp_path: Path, url: str, *, create: str | None = None) -> Path:
    """A docs.toml in tmp_path/fixtures citing S2 and an observation file at `url`; `create`
    puts a file at that path under tmp_path (the repository)."""
    if create is not None:
        (tmp_path / create).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / create).write_text("{}\n")
    docs = tmp_path / "fixtures" / "docs.toml"
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(f'[docs]\nS2 = {{ url = "{rules.S2}", cite = "entra-facts" }}\n'
                    f'OBS = {{ url = "{url}", cite = "observation" }}\n')
    return docs


def _case(tmp_path: Path, doc: str, status: str) -> Path:
    path = tmp_path / "scratch.toml"
    path.write_text('area = "key-restrictions"\n[[case]]\nid = "KR-SCRATCH-001"\n'
                    'title = "scratch"\npolicy = "permissive.json"\n'
                    'profiles = ["yubikey-5-usb"]\nexpect = { outcome = "accepted" }\n'
                    f'source = {{ doc = "{doc}", section = "KR-SCRATCH-001 2026-11-29: '
                    f'HTTP 201", status = "{status}" }}\n')
    return path


@pytest.mark.parametrize(("url", "create"), [
    (OBSERVED_URL, OBSERVED_URL),  # relative to the repository
    ("observations/2026-11-29.jsonl", "fixtures/observations/2026-11-29.jsonl"),  # to fixtures
])
def test_an_observed_source_cites_an_observation_file_that_is_there(tmp_path, url, create):
    docs = load_docs(_docs(tmp_path, url, create=create))
    (case,) = load_case_file(_case(tmp_path, "OBS", "observed"), load_users(), docs)
    assert (case.source.fact, case.source.url, case.source.status) == (
        "observation KR-SCRATCH-001 2026-11-29: HTTP 201", url, "observed")


@pytest.mark.parametrize("url", [OBSERVED_URL, "/etc/hostname", "http://example.com/o.jsonl"],
                         ids=["missing", "absolute", "not-https"])
def test_a_docs_entry_that_is_neither_a_web_page_nor_an_observation_file_is_refused(tmp_path,
                                                                                    url):
    with pytest.raises(CaseError, match=rf"docs.toml \[docs\] OBS: url '{url}' is neither "
                                        r"https:// nor an observation file"):
        load_docs(_docs(tmp_path, url))


@pytest.mark.parametrize(("doc", "status", "message"), [
    ("S2", "observed", "status observed cites an observation file, and 'S2' is a web page"),
    ("OBS", "documented", "source.doc 'OBS' is an observation file: its status is observed"),
    ("OBS", "inferred", "source.doc 'OBS' is an observation file: its status is observed"),
])
def test_observed_and_an_observation_file_go_together(tmp_path, doc, status, message):
    docs = load_docs(_docs(tmp_path, OBSERVED_URL, create=OBSERVED_URL))
    with pytest.raises(CaseError, match=rf"KR-SCRATCH-001: {message}$"):
        load_case_file(_case(tmp_path, doc, status), load_users(), docs)


@pytest.fixture
def observed_rule(monkeypatch) -> Rule:
    """A rule resting on an observation, added to the book for the test's length."""
    observed = Rule(Reason.CHALLENGE_REUSED, Family.CEREMONY, Status.OBSERVED,
                    "observation CE-REUSE-001 2026-11-29: HTTP 400 invalidRequest", OBSERVED_URL)
    monkeypatch.setattr(rules, "RULE_BOOK", (*rules.RULE_BOOK, observed))
    return observed


def test_pkconf_rules_shows_an_observed_rule_and_counts_it(capsys, observed_rule):
    assert main(["rules", "--as-of", "2026-11-29"]) == 0
    lines = capsys.readouterr().out.splitlines()
    book = rules.RuleBook(date(2026, 11, 29)).in_force()
    counts = {s: sum(r.status is s for r in book) for s in Status}
    assert lines[0] == (f"The rule book as of 2026-11-29 in the worldwide cloud: {len(book)} "
                        f"rules ({counts[Status.DOCUMENTED]} documented, "
                        f"{counts[Status.INFERRED]} inferred, 1 observed)")
    (row,) = [line.split() for line in lines if " observed " in line]
    assert (row[:4], row[-1]) == (["CHALLENGE_REUSED", "ceremony", "observed", "original"],
                                  OBSERVED_URL)


def test_pkconf_rules_json_gives_the_observed_status_and_the_files_path(capsys, observed_rule):
    assert main(["rules", "--as-of", "2026-11-29", "--json"]) == 0
    (row,) = [r for r in json.loads(capsys.readouterr().out)["rules"]
              if r["status"] == "observed"]
    assert (row["reason"], row["url"], row["fact"]) == (
        "CHALLENGE_REUSED", OBSERVED_URL, observed_rule.fact)
