"""The generated matrix: the rule table, the factor file, the covering array and its cases."""

from __future__ import annotations

import tomllib
from functools import cache
from itertools import combinations, product
from pathlib import Path

import pytest

from conformance.cases import Case
from conformance.matrix import (
    FACTORS_FILE,
    MatrixError,
    covering_array,
    generate,
    load_factors,
    load_table,
    main,
)
from pkconf.tenant.rules import RULES

WH_HARDWARE = "08987058-cadc-4b81-b6e1-30de50dcbe96"
YUBIKEY_5_NFC = "2fc0579f-8113-47ea-b116-bb5a8db9202a"
AUTHENTICATOR_IOS = "90a3ccdf-635c-4729-a248-9b709135078f"


@cache
def pairwise(seed: int = 0) -> tuple[Case, ...]:
    return tuple(generate(2, seed=seed))


# --- the rule table -------------------------------------------------------------------------------

def test_every_table_reason_and_family_is_in_the_rule_book() -> None:
    table = load_table()
    assert len(table.rules) == 27
    for rule in table.rules:
        assert rule.reason in RULES
        assert rule.family == RULES[rule.reason].family
        assert rule.source.url.startswith("https://learn.microsoft.com/")
    assert table.accepted.fact == "§2 Precedence"


# A baseline a scoped, freshly signed-in member registering an attested YubiKey passes.
BASE = {
    "path": "self-service",
    "policy.state": "enabled", "policy.self_service": True,
    "policy.types": ["deviceBound", "synced"], "policy.attestation": "disabled",
    "policy.keys": "off", "policy.key_aaguids": [],
    "policy.includes_user": True, "policy.excludes_user": False,
    "user.userType": "Member", "user.mfaAgeSeconds": 60, "user.tap": None,
    "user.tap.isUsableOnce": None, "user.tap.ageSeconds": None,
    "user.windowsHelloForBusiness": False, "user.inTapPolicy": True,
    "user.registrationInterrupt": False, "user.conditionalAccessUnmet": False,
    "profile.aaguid": YUBIKEY_5_NFC, "profile.fmt": "packed", "profile.passkey_type": "deviceBound",
    "profile.attests": True, "profile.transports": ["usb"],
    "day.as_of": 20261129, "day.cloud": "worldwide",
}
def _tap(once: bool, age: float) -> dict:
    """The user facts of a TAP sign-in, as UserContext.to_json() gives them."""
    return {"user.tap": {"isUsableOnce": once, "ageSeconds": age},
            "user.tap.isUsableOnce": once, "user.tap.ageSeconds": age}


WH_PREVIEW = {"day.as_of": 20260320, "day.cloud": "worldwide"}  # before Windows Hello GA
WH_ALLOWED = {"profile.aaguid": WH_HARDWARE, "profile.fmt": "tpm", "policy.keys": "allow",
              "policy.key_aaguids": [WH_HARDWARE]}


@pytest.mark.parametrize(("facts", "reason"), [
    ({}, "ACCEPTED"),
    ({"policy.state": "disabled", "policy.excludes_user": True}, "METHOD_DISABLED"),
    ({"policy.excludes_user": True}, "USER_EXCLUDED"),
    ({"policy.includes_user": False}, "USER_NOT_TARGETED"),
    ({"policy.self_service": False, "path": "provisioning"}, "SELF_SERVICE_DISABLED"),
    ({"user.userType": "Guest", "user.mfaAgeSeconds": None}, "GUEST_NOT_SUPPORTED"),
    ({"user.mfaAgeSeconds": 301}, "MFA_STALE"),
    ({"user.mfaAgeSeconds": 300}, "ACCEPTED"),
    ({"user.mfaAgeSeconds": 301, "path": "provisioning"}, "ACCEPTED"),
    ({"user.mfaAgeSeconds": None}, "MFA_REQUIRED"),
    ({"user.mfaAgeSeconds": None, **_tap(True, 600)}, "ACCEPTED"),
    ({"user.mfaAgeSeconds": None, **_tap(True, 601)}, "TAP_EXPIRED"),
    ({"user.mfaAgeSeconds": None, **_tap(False, 301)}, "MFA_STALE"),
    ({"user.mfaAgeSeconds": 60, **_tap(False, 900)}, "ACCEPTED"),
    ({"user.mfaAgeSeconds": 30, **_tap(True, 900)}, "ACCEPTED"),
    ({"user.mfaAgeSeconds": 900, **_tap(True, 120)}, "ACCEPTED"),
    ({"user.mfaAgeSeconds": None, **_tap(True, 60), "user.inTapPolicy": False},
     "TAP_NOT_IN_POLICY"),
    ({"user.mfaAgeSeconds": 30, **_tap(True, 60), "user.inTapPolicy": False}, "ACCEPTED"),
    ({"user.mfaAgeSeconds": None, **_tap(False, 60), "user.registrationInterrupt": True},
     "TAP_INTERRUPT_MODE"),
    ({"user.conditionalAccessUnmet": True}, "CONDITIONAL_ACCESS_UNMET"),
    ({"user.conditionalAccessUnmet": True, "path": "provisioning"}, "ACCEPTED"),
    ({"user.mfaAgeSeconds": 540, "path": "graph-me"}, "ACCEPTED"),
    ({"user.mfaAgeSeconds": 601, "path": "graph-me"}, "GRAPH_SESSION_STALE"),
    ({"user.mfaAgeSeconds": None, **_tap(False, 601), "path": "graph-me"},
     "GRAPH_SESSION_STALE"),
    ({"user.mfaAgeSeconds": None, "path": "graph-me"}, "MFA_REQUIRED"),
    ({"profile.passkey_type": "synced", "policy.types": ["deviceBound"]},
     "PASSKEY_TYPE_NOT_ALLOWED"),
    ({**WH_PREVIEW, "profile.aaguid": WH_HARDWARE, "profile.fmt": "tpm"},
     "WINDOWS_HELLO_NOT_ALLOWED"),
    ({**WH_PREVIEW, "profile.aaguid": WH_HARDWARE, "profile.fmt": "tpm", "policy.keys": "block"},
     "WINDOWS_HELLO_NOT_ALLOWED"),
    ({**WH_PREVIEW, "profile.aaguid": WH_HARDWARE, "profile.fmt": "tpm", "policy.attestation":
      "registrationOnly"}, "WINDOWS_HELLO_NOT_ALLOWED"),
    ({"day.as_of": 20260620, "day.cloud": "gcc", "profile.aaguid": WH_HARDWARE,
      "profile.fmt": "tpm"}, "WINDOWS_HELLO_NOT_ALLOWED"),
    ({"profile.aaguid": WH_HARDWARE, "profile.fmt": "tpm"}, "ACCEPTED"),  # GA: no allow list
    ({"profile.aaguid": WH_HARDWARE, "profile.fmt": "tpm", "policy.keys": "block",
      "policy.key_aaguids": [WH_HARDWARE]}, "AAGUID_BLOCKED"),
    ({"profile.passkey_type": "synced", "profile.fmt": "none",
      "policy.attestation": "registrationOnly"}, "PASSKEY_TYPE_NOT_ALLOWED"),
    ({**WH_ALLOWED, "policy.attestation": "registrationOnly"},
     "WINDOWS_HELLO_ATTESTATION_ENFORCED"),
    (WH_ALLOWED, "ACCEPTED"),
    ({**WH_ALLOWED, "user.windowsHelloForBusiness": True}, "WINDOWS_HELLO_FOR_BUSINESS_CONFLICT"),
    ({**WH_ALLOWED, "path": "provisioning"}, "PROVISIONING_FORMAT_NOT_SUPPORTED"),
    ({"profile.passkey_type": "synced", "profile.fmt": "none", "path": "provisioning"},
     "PROVISIONING_AUTHENTICATOR_NOT_SUPPORTED"),
    ({"profile.aaguid": AUTHENTICATOR_IOS, "path": "provisioning"},
     "PROVISIONING_AUTHENTICATOR_NOT_SUPPORTED"),
    ({"profile.passkey_type": "synced", "profile.fmt": "none"}, "ACCEPTED"),
    ({"policy.attestation": "registrationOnly", "profile.fmt": "none",
      "profile.attests": False}, "ATTESTATION_REQUIRED"),
    ({"policy.attestation": "registrationOnly", "profile.fmt": "android-key",
      "profile.attests": False}, "ATTESTATION_FORMAT_NOT_ACCEPTED"),
    ({"policy.attestation": "registrationOnly", "profile.attests": False},
     "ATTESTATION_UNTRUSTED"),
    ({"profile.attests": False}, "ACCEPTED"),
    ({"policy.keys": "allow", "policy.key_aaguids": [AUTHENTICATOR_IOS]}, "AAGUID_NOT_ALLOWED"),
    ({"policy.keys": "block", "policy.key_aaguids": [YUBIKEY_5_NFC]}, "AAGUID_BLOCKED"),
    ({"policy.keys": "block", "policy.key_aaguids": [AUTHENTICATOR_IOS]}, "ACCEPTED"),
    ({"profile.aaguid": AUTHENTICATOR_IOS, "profile.transports": ["hybrid"],
      "policy.attestation": "registrationOnly"}, "CROSS_DEVICE_ATTESTED_AUTHENTICATOR"),
    ({"profile.aaguid": AUTHENTICATOR_IOS, "profile.transports": ["hybrid"]}, "ACCEPTED"),
])
def test_table_verdict_follows_the_documented_rules(facts: dict, reason: str) -> None:
    expect, source = load_table().verdict({**BASE, **facts})
    assert expect.reason == reason
    assert expect.outcome == ("accepted" if reason == "ACCEPTED" else "rejected")
    assert source.status in ("documented", "inferred")


def test_verdict_without_every_fact_is_an_error() -> None:
    facts = {k: v for k, v in BASE.items() if k != "user.windowsHelloForBusiness"}
    with pytest.raises(MatrixError, match=r"facts missing: user\.windowsHelloForBusiness"):
        load_table().verdict(facts)


RULE = """
[accepted]
fact = "§2"
url = "https://example.org/doc"
status = "documented"
[[rule]]
reason = "{reason}"
family = "{family}"
when = [{when}]
fact = "§1"
url = "https://example.org/doc"
status = "documented"
"""


def _table(tmp_path: Path, *, reason: str = "METHOD_DISABLED", family: str = "policy_scope",
           when: str = "\"policy.state == 'disabled'\"") -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(RULE.format(reason=reason, family=family, when=when))
    return path


@pytest.mark.parametrize(("fields", "message"), [
    ({"when": "\"policy.stat == 'disabled'\""}, "unknown fact 'policy.stat'"),
    ({"reason": "METHOD_OFF"}, "unknown reason 'METHOD_OFF'"),
    ({"reason": "ACCEPTED"}, "unknown reason 'ACCEPTED'"),
    ({"family": "bootstrap"}, "family is policy_scope, not 'bootstrap'"),
    ({"when": ""}, "when must be a non-empty list"),
    ({"when": "\"policy.state ==\""}, "cannot parse"),
    ({"when": "\"len(policy.types) > 1\""}, "unsupported expression"),
    ({"when": "\"0 < user.mfaAgeSeconds < 300\""}, "unsupported expression"),
])
def test_malformed_table_is_a_clear_error(tmp_path: Path, fields: dict, message: str) -> None:
    with pytest.raises(MatrixError, match=message):
        load_table(_table(tmp_path, **fields))


@pytest.mark.parametrize(("when", "facts", "message"), [
    ("\"user.mfaAgeSeconds > 300\"", {"user.mfaAgeSeconds": None}, "cannot order null and 300"),
    ("\"user.tap.isUsableOnce\"", {}, "null is not true or false|is null, not true or false"),
    ("\"policy.types\"", {}, "is .*, not true or false"),
    ("\"not policy.keys\"", {}, "'off' is not true or false"),
    ("\"profile.aaguid in policy.keys\"", {}, "'off' is not a list"),
])
def test_ill_typed_condition_is_an_error_not_false(tmp_path: Path, when: str, facts: dict,
                                                   message: str) -> None:
    table = load_table(_table(tmp_path, when=when))
    with pytest.raises(MatrixError, match=message):
        table.verdict({**BASE, **facts})


# --- the factor file ------------------------------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "message"), [
    ("[knobs.profile.yubikey-5-usb]\nattests = true\n", "",
     r"profiles neither declared nor excluded: \['yubikey-5-usb'\]"),
    ("[knobs.profile.yubikey-5-usb]", "[knobs.profile.yubikey-6]", "unknown profiles"),
    ('  "pilot-member",\n', '  "pilot-manager",\n', "'pilot-manager' is not in"),
    ('user = [\n  "member-fresh-mfa",', 'user = [\n  3,', "knobs.user must be a list of user"),
    ('profile = ["profile"]\n', "", "must use every knob exactly once"),
    ('path = "provisioning"', 'route = "provisioning"', r"\[knobs.ceremony.graph\] needs path"),
    ('[knobs.types.synced]\nvalue = ["synced"]', '[knobs.types.synced]\nvalue = "synced"',
     r"\[knobs.types.synced\] needs value \(list\)"),
    ("[excluded.profile]\n", "[excluded]\nprofile = 1\n", "profile must be a table"),
])
def test_malformed_factor_file_is_a_clear_error(tmp_path: Path, old: str, new: str,
                                                message: str) -> None:
    text = FACTORS_FILE.read_text()
    assert old in text
    path = tmp_path / "factors.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(MatrixError, match=message):
        load_factors(path)


# --- the covering array ---------------------------------------------------------------------------

def _levels_by_factor() -> dict[str, list[tuple[str, ...]]]:
    """The array's factors and their levels, read straight from factors.toml."""
    data = tomllib.loads(FACTORS_FILE.read_text())
    return {name: list(product(*(list(data["knobs"][k]) for k in knobs)))
            for name, knobs in data["array"].items()}


def _row(case: Case, knobs: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    tags = dict(tag.split("=", 1) for tag in case.tags)
    return {name: tuple(tags[k] for k in ks) for name, ks in knobs.items()}


@pytest.mark.parametrize("seed", [0, 1])
def test_pairwise_set_covers_every_pair_of_levels(seed: int) -> None:
    levels = _levels_by_factor()
    knobs = tomllib.loads(FACTORS_FILE.read_text())["array"]
    rows = [_row(case, knobs) for case in pairwise(seed)]
    for a, b in combinations(levels, 2):
        seen = {(row[a], row[b]) for row in rows}
        assert seen == set(product(levels[a], levels[b])), (a, b)


def test_covering_array_of_strength_three_covers_every_triple() -> None:
    sizes = [3, 2, 4, 2, 3, 2]
    rows = covering_array(sizes, 3, seed=7)
    for cols in combinations(range(len(sizes)), 3):
        seen = {tuple(row[c] for c in cols) for row in rows}
        assert seen == set(product(*(range(sizes[c]) for c in cols))), cols
    assert len(rows) < 3 * 2 * 4 * 2 * 3 * 2


def test_sizes_are_as_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "factors: policy 144, profile 22, user 19, state 2, self_service 2, ceremony 3, day 3",
        "full product: 2166912 cases",
        "strength 2: 3170 cases",
    ]
    # 144 x 22 = 3168 is the least any pairwise array over these factors can have
    assert len(pairwise()) == 3170


def test_generation_is_deterministic_for_a_seed() -> None:
    first = [(c.id, c.title, c.expect) for c in generate(2, seed=0)]
    assert first == [(c.id, c.title, c.expect) for c in pairwise(0)]
    assert first != [(c.id, c.title, c.expect) for c in pairwise(1)]


# --- the cases ------------------------------------------------------------------------------------

def test_cases_are_numbered_matrix_instances_without_the_u2f_key() -> None:
    cases = pairwise()
    assert cases[0].case_id == "MX-00001" and cases[-1].case_id == "MX-03170"
    assert cases[41].id == f"MX-00042[{cases[41].profile}/{cases[41].ceremony}]"
    assert {c.area for c in cases} == {"matrix"}
    assert "u2f-only-key" not in {c.profile for c in cases}
    assert len({c.profile for c in cases}) == 22


def _case(**tags: str) -> Case:
    wanted = {f"{k}={v}" for k, v in tags.items()}
    return next(c for c in pairwise() if wanted <= set(c.tags))


def test_allow_list_naming_the_profile_holds_its_aaguid() -> None:
    case = _case(keys="allow-listed", profile="feitian-epass-nfc")
    restrictions = case.policy["passkeyProfiles"][0]["keyRestrictions"]
    assert restrictions == {"isEnforced": True, "enforcementType": "allow",
                            "aaGuids": ["ee041bce-25e5-4cdb-8f86-897fd6418464"]}


def test_excluded_group_targeting_puts_the_user_in_the_excluded_group() -> None:
    case = _case(targeting="excluded-group", state="enabled", user="pilot-member")
    assert case.user.groups == {"pilots", "blocked"}
    assert case.policy["excludeTargets"] == [{"id": "blocked", "targetType": "group"}]
    assert case.expect.reason == "USER_EXCLUDED"
    assert case.source.fact == "§2 Exclusion wins"


def test_disabled_method_is_expected_first_whatever_else_the_row_holds() -> None:
    disabled = [c for c in pairwise() if "state=disabled" in c.tags]
    assert disabled
    assert {(c.expect.outcome, c.expect.family, c.expect.reason) for c in disabled} == {
        ("rejected", "policy_scope", "METHOD_DISABLED")}


def test_guest_on_an_enabled_scoped_policy_is_expected_to_be_refused() -> None:
    case = _case(user="guest-fresh-mfa", state="enabled", self_service="on",
                 targeting="all-users")
    assert case.expect.reason == "GUEST_NOT_SUPPORTED"
    assert case.expect.family == "policy_scope"
