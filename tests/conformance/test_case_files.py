"""The explicit case files (fixtures/cases/*.toml): they load and together cover the rule book.

These check the expectations as data, without running a ceremony, so a broken row or a rule
with no case fails in well under a second rather than at the end of a conformance run.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from conformance.cases import (
    CASES_DIR,
    DEFAULT_USER,
    USERS_FILE,
    Case,
    CaseError,
    load_case_file,
    load_cases,
    load_docs,
    load_policy_file,
    load_users,
    patched,
)
from pkconf.authenticators.profiles import PROFILES
from pkconf.tenant import rules
from pkconf.tenant.decision import TemporaryAccessPass, UserContext, UserType
from pkconf.tenant.policy import PolicyError, parse_policy
from pkconf.tenant.rules import Cloud

AREAS = {
    "policy-scope": "PS",
    "bootstrap": "BS",
    "passkey-types": "PT",
    "key-restrictions": "KR",
    "attestation": "AT",
    "windows-hello": "WH",
    "platform-paths": "PP",
    "ceremony-integrity": "CI",
    "provisioning-api": "GP",
    "browser": "BR",
}

# Reason codes no case can produce with today's profiles and ceremony variations; the engine's
# own unit tests reach them with hand-built registrations (tests/tenant, tests/attestation).
UNREACHABLE = {
    # packed, the one format verified under enforcement, carries no nonce (a changed
    # clientDataHash is a bad signature); the formats that do (tpm, apple, android-key) stop at
    # ATTESTATION_FORMAT_NOT_ACCEPTED when enforced and are not verified when not
    "ATTESTATION_NONCE_MISMATCH": "only non-packed statements carry a nonce, never verified",
}
PROFILE_1 = "00000000-0000-0000-0000-000000000001"


@cache
def cases() -> tuple[Case, ...]:
    return tuple(load_cases())


def test_every_area_has_its_case_file() -> None:
    assert {p.stem for p in CASES_DIR.glob("*.toml")} == set(AREAS)


def test_case_files_load_into_at_least_300_instances_from_100_rows() -> None:
    assert len(cases()) >= 300
    assert len({c.case_id for c in cases()}) >= 100


def test_instance_ids_are_unique() -> None:
    counts = Counter(c.id for c in cases())
    assert [i for i, n in counts.items() if n > 1] == []


def test_case_ids_carry_their_area_prefix() -> None:
    wrong = [c.case_id for c in cases() if not c.case_id.startswith(AREAS[c.area] + "-")]
    assert wrong == []


def test_each_case_id_names_one_row() -> None:
    """An id is cited by people: one id is one title, policy and expectation."""
    rows: dict[str, set[tuple[str, str, str]]] = {}
    for c in cases():
        rows.setdefault(c.case_id, set()).add((c.title, c.policy_name, c.expect.reason))
    assert {i: r for i, r in rows.items() if len(r) > 1} == {}


def test_every_reachable_reason_code_is_expected_by_some_case() -> None:
    expected = {c.expect.reason for c in cases()}
    assert set(rules.RULES) - expected == set(UNREACHABLE)


def test_unreachable_reason_codes_are_real_rules() -> None:
    assert set(UNREACHABLE) <= set(rules.RULES)


def test_every_rejection_names_the_family_of_its_rule() -> None:
    wrong = {c.case_id for c in cases() if c.expect.outcome == "rejected"
             and c.expect.family != rules.rule(c.expect.reason).family}
    assert wrong == set()


def test_every_profile_appears() -> None:
    assert {c.profile for c in cases()} == set(PROFILES)


def test_every_profile_is_expected_rejected_somewhere() -> None:
    assert {c.profile for c in cases() if c.expect.outcome == "rejected"} == set(PROFILES)


def test_every_profile_but_the_u2f_key_is_expected_accepted_somewhere() -> None:
    """A U2F-only key cannot verify the user, which Entra always requires (entra-facts §3)."""
    accepted = {c.profile for c in cases() if c.expect.outcome == "accepted"}
    assert set(PROFILES) - accepted == {"u2f-only-key"}


def test_both_ceremonies_are_exercised_for_acceptance_and_rejection() -> None:
    seen = {(c.ceremony, c.expect.outcome) for c in cases()}
    assert {("ctap", "accepted"), ("ctap", "rejected"), ("graph", "accepted"),
            ("graph", "rejected")} <= seen


def test_the_docs_table_is_the_rule_books_documents() -> None:
    """fixtures/docs.toml names the documents as pkconf/tenant/rules.py does, at its URLs."""
    assert {i: d.url for i, d in load_docs().items()} == {
        i: getattr(rules, i) for i in load_docs()}


def test_sources_cite_a_rule_book_url_and_a_fact_section() -> None:
    urls = {d.url for d in load_docs().values()}
    bad = {c.case_id for c in cases() if c.source.url not in urls
           or not c.source.fact.startswith(("entra-facts §", "WebAuthn §"))}
    assert bad == set()


def _scratch_case(tmp_path: Path, lines: str) -> Path:
    path = tmp_path / "scratch.toml"
    path.write_text('area = "key-restrictions"\n[[case]]\nid = "KR-SCRATCH-001"\n'
                    'title = "scratch"\nprofiles = ["yubikey-5-usb"]\n'
                    'expect = { outcome = "accepted" }\n' + lines)
    return path


def test_a_source_cites_a_known_doc_id(tmp_path: Path) -> None:
    (case,) = load_case_file(_scratch_case(tmp_path, (
        'policy = "permissive.json"\n'
        'source = { doc = "S2", section = "§2 Precedence", status = "documented" }\n')),
        load_users())
    assert (case.source.fact, case.source.url) == ("entra-facts §2 Precedence", rules.S2)
    unknown = _scratch_case(tmp_path, (
        'policy = "permissive.json"\n'
        'source = { doc = "S9", section = "§2 Precedence", status = "documented" }\n'))
    with pytest.raises(CaseError, match=r"KR-SCRATCH-001: source\.doc 'S9' is not in"):
        load_case_file(unknown, load_users())


def test_a_misspelt_row_key_is_an_error_not_a_default(tmp_path: Path) -> None:
    misspelt = _scratch_case(tmp_path, (
        'policy = "permissive.json"\nasof = 2026-03-20\n'
        'source = { doc = "S2", section = "§2 Precedence", status = "documented" }\n'))
    with pytest.raises(CaseError, match=r"KR-SCRATCH-001: unknown key asof"):
        load_case_file(misspelt, load_users())


def test_a_case_pins_its_day_and_cloud(tmp_path: Path) -> None:
    (case,) = load_case_file(_scratch_case(tmp_path, (
        'policy = "permissive.json"\nas_of = 2026-06-20\ncloud = "gcc"\n'
        'source = { doc = "S2", section = "§2 Precedence", status = "documented" }\n')),
        load_users())
    assert (case.as_of, case.cloud) == (date(2026, 6, 20), Cloud.GCC)


def test_a_deep_patch_changes_one_profile_field() -> None:
    base = load_policy_file("permissive.json")
    policy = load_policy_file("permissive.json", {
        "state": "disabled",
        "passkeyProfiles": {PROFILE_1: {"keyRestrictions": {"isEnforced": True}}}})
    assert policy["state"] == "disabled"
    first, second = policy["passkeyProfiles"]
    assert first["keyRestrictions"] == {**base["passkeyProfiles"][0]["keyRestrictions"],
                                        "isEnforced": True}
    assert {**first, "keyRestrictions": None} == {**base["passkeyProfiles"][0],
                                                  "keyRestrictions": None}
    assert second == base["passkeyProfiles"][1]


def test_a_deep_patch_replaces_arrays_whole_and_refuses_unknown_ids() -> None:
    assert patched({"a": [1, 2], "b": {"c": 1}}, {"a": [3], "b": {"d": 2}}, "patch") == {
        "a": [3], "b": {"c": 1, "d": 2}}
    with pytest.raises(CaseError, match=r"patch\.passkeyProfiles: no element with id 'nope'"):
        load_policy_file("permissive.json", {"passkeyProfiles": {"nope": {"name": "x"}}})


def test_a_case_file_leaves_the_default_user_out(tmp_path: Path) -> None:
    path = _scratch_case(tmp_path, (
        f'policy = "permissive.json"\nuser = "{DEFAULT_USER}"\n'
        'source = { doc = "S2", section = "§2 Precedence", status = "documented" }\n'))
    with pytest.raises(CaseError, match="leave out user = 'member-fresh-mfa'"):
        load_case_file(path, load_users())
    assert sum(c.user_name == DEFAULT_USER for c in cases()) > 300


def test_users_toml_reads_into_user_contexts() -> None:
    users = load_users()
    assert set(users) == set(tomllib.loads(USERS_FILE.read_text()))
    assert users["member-no-mfa"] == UserContext()  # TOML has no null: absent is null
    assert users["guest-fresh-mfa"] == UserContext(user_type=UserType.GUEST, mfa_age_seconds=60)
    assert users["tap-one-time-late"].tap == TemporaryAccessPass(True, 601)
    assert users["excluded-pilot"].groups == {"pilots", "blocked"}
    assert users["member-with-whfb"].to_json()["windowsHelloForBusiness"] is True
    assert all(UserContext.from_json(u.to_json()) == u for u in users.values())


def test_a_misspelt_user_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    path.write_text("[late]\nmfaAgeSecond = 400\n")
    with pytest.raises(CaseError, match=r"users.toml: late.mfaAgeSecond is unknown"):
        load_users(path)


@pytest.mark.parametrize(("user", "ages"), [
    ("member-mfa-just-in-window", (299.0, None)),
    ("member-mfa-at-window", (300.0, None)),
    ("member-stale-mfa", (301.0, None)),
    ("tap-one-time-just-in-window", (None, 599.0)),
    ("tap-one-time-at-window", (None, 600.0)),
    ("tap-one-time-late", (None, 601.0)),
    ("tap-multi-use-just-in-window", (None, 299.0)),
    ("tap-multi-use-at-window", (None, 300.0)),
    ("tap-multi-use-stale", (None, 301.0)),
])
def test_time_window_boundaries_are_each_used_by_a_case(
        user: str, ages: tuple[float | None, float | None]) -> None:
    state = next(c.user for c in cases() if c.user_name == user)
    assert (state.mfa_age_seconds, state.tap.age_seconds if state.tap else None) == ages


def test_every_referenced_policy_parses_with_and_without_its_patch() -> None:
    """Group-name targets ("pilots", "blocked") are plain string ids to the parser."""
    rows = {c.case_id: c for c in cases()}.values()
    bodies = [(name, load_policy_file(name)) for name in {c.policy_name for c in rows}]
    bodies += [(c.case_id, dict(c.policy)) for c in rows]
    problems = {}
    for where, body in bodies:
        try:
            parse_policy(body)
        except PolicyError as e:
            problems[where] = str(e)
    assert problems == {}
