"""The generated conformance matrix: a second, independent statement of the registration rules.

`fixtures/matrix/rules.toml` restates Entra's decision as an ordered table of conditions over
declared facts, written from the documentation (entra-facts.md), not from the engine;
`fixtures/matrix/factors.toml` says which policies, users, authenticators and paths to combine;
its users are named states of `fixtures/users.toml`, read as the case files read them, and the
table reads their facts in the same (USER.json) vocabulary.
`generate()` builds a t-wise covering array over the factors and turns every row into a `Case`
whose expectation comes from the table, so running the matrix against the emulator makes the
engine and the table check each other. Nothing from `pkconf.tenant` is used but `rules.RULES`,
to check that the table's reason codes and families exist (and their enums, to type them), and
the `UserContext` data type.

Left out: the u2f-only-key profile (no user verification: the client refuses the ceremony, so
Entra sees nothing), as `[excluded.profile]` in factors.toml says.
"""

from __future__ import annotations

import argparse
import ast
import operator
import random
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from itertools import combinations, product
from math import prod
from pathlib import Path
from typing import Any

from pkconf.authenticators.profiles import PROFILES, Profile
from pkconf.paths import FIXTURES
from pkconf.tenant.decision import UserContext
from pkconf.tenant.rules import RULES, Cloud, Family, Reason

from .cases import Case, Expectation, Source, Verdict, load_users

MATRIX_DIR = FIXTURES / "matrix"
RULES_FILE = MATRIX_DIR / "rules.toml"
FACTORS_FILE = MATRIX_DIR / "factors.toml"
AREA = "matrix"
PROFILE_ID = "6d617472-6978-4000-8000-000000000001"  # "matrix": the policy's one passkey profile
PROFILE_PLACEHOLDER = "{profile}"
ALL_USERS = "all_users"
USER_KNOB = "user"  # its levels are names of fixtures/users.toml, not tables of keys
# Each knob's level keys and their TOML types: what `_policy` and `_facts` read.
KNOB_KEYS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "state": {"value": str},
    "self_service": {"value": bool},
    "types": {"value": list},
    "attestation": {"value": str},
    "keys": {"enforced": bool, "type": str, "aaguids": list},
    "targeting": {"include": list, "exclude": list, "join": list},
    USER_KNOB: {},
    "profile": {"attests": bool},
    "ceremony": {"path": str},
    "day": {"as_of": str, "cloud": str},
}
KNOBS = tuple(KNOB_KEYS)

# The facts a rule may read; `_facts` provides exactly these for every case.
FACTS = frozenset({
    "path",  # self-service | graph-me | provisioning
    "policy.state", "policy.self_service", "policy.types", "policy.attestation",
    "policy.keys",  # off | allow | block
    "policy.key_aaguids", "policy.includes_user", "policy.excludes_user",
    # the user's JSON (UserContext.to_json); the tap's fields are null when tap is null
    "user.userType", "user.mfaAgeSeconds", "user.tap", "user.tap.isUsableOnce",
    "user.tap.ageSeconds", "user.windowsHelloForBusiness", "user.inTapPolicy",
    "user.registrationInterrupt", "user.conditionalAccessUnmet",
    "profile.aaguid", "profile.fmt", "profile.passkey_type", "profile.attests",
    "profile.transports",
    "day.as_of", "day.cloud",  # the rule book's day (YYYYMMDD, a number to order) and cloud
})


class MatrixError(ValueError):
    """A rule table or factor file that cannot be used; the message says where and why."""


# --- the condition language -----------------------------------------------------------------------

Facts = Mapping[str, Any]
Test = Callable[[Facts], Any]
_ORDER = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
_EQUALITY = {ast.Eq: operator.eq, ast.NotEq: operator.ne}
NULL = "null"  # JSON's null, as the user facts have it (no MFA, no TAP)


def _shown(value: Any) -> str:
    return NULL if value is None else repr(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Compiler:
    """Turns one condition into a function of the facts; anything unexpected is an error.

    Names are checked when the table loads, so a typo fails even in a rule no case reaches;
    types are checked when a condition runs (null > 300 is an error, not False).
    """

    def __init__(self, text: str, constants: Mapping[str, Any], where: str):
        self.text, self.constants, self.where = text, constants, where

    def fail(self, msg: str) -> MatrixError:
        return MatrixError(f"{self.where}: {self.text!r}: {msg}")

    def compile(self) -> Test:
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as e:
            raise self.fail(f"cannot parse ({e.msg})") from None
        test = self.node(tree.body)

        def checked(facts: Facts) -> bool:
            value = test(facts)
            if not isinstance(value, bool):
                raise self.fail(f"is {_shown(value)}, not true or false")
            return value

        return checked

    def node(self, node: ast.expr) -> Test:
        if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
            value = node.value
            return lambda _f: value
        if isinstance(node, ast.List | ast.Tuple):
            items = [self.node(e) for e in node.elts]
            return lambda f: tuple(i(f) for i in items)
        if isinstance(node, ast.Name | ast.Attribute):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            operand = self.node(node.operand)
            return lambda f: not self.boolean(operand(f))
        if isinstance(node, ast.BoolOp):
            parts = [self.node(v) for v in node.values]
            if isinstance(node.op, ast.And):
                return lambda f: all(self.boolean(p(f)) for p in parts)
            return lambda f: any(self.boolean(p(f)) for p in parts)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self.compare(node.ops[0], self.node(node.left), self.node(node.comparators[0]))
        raise self.fail(f"unsupported expression {ast.unparse(node)!r}")

    def name(self, node: ast.expr) -> Test:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            raise self.fail(f"unsupported name {ast.unparse(node)!r}")
        name = ".".join([node.id, *reversed(parts)])
        if name == NULL:
            return lambda _f: None
        if name in self.constants:
            value = self.constants[name]
            return lambda _f: value
        if name not in FACTS:
            raise self.fail(f"unknown fact {name!r}")
        return lambda f: f[name]

    def boolean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(f"{_shown(value)} is not true or false")
        return value

    def compare(self, op: ast.cmpop, left: Test, right: Test) -> Test:
        if type(op) in _EQUALITY:
            fn = _EQUALITY[type(op)]
            return lambda f: fn(left(f), right(f))
        if type(op) in _ORDER:
            order = _ORDER[type(op)]

            def ordered(f: Facts) -> bool:
                a, b = left(f), right(f)
                if not (_is_number(a) and _is_number(b)):
                    raise self.fail(f"cannot order {_shown(a)} and {_shown(b)}")
                return order(a, b)

            return ordered
        if isinstance(op, ast.In | ast.NotIn):
            negate = isinstance(op, ast.NotIn)

            def member(f: Facts) -> bool:
                item, group = left(f), right(f)
                if not isinstance(group, tuple | list):
                    raise self.fail(f"{_shown(group)} is not a list")
                return (item in group) != negate

            return member
        raise self.fail(f"unsupported operator {type(op).__name__}")


# --- the rule table -------------------------------------------------------------------------------

@dataclass(frozen=True)
class TableRule:
    """One row of the table: a rejection and the conditions under which it is expected."""

    reason: str
    family: str
    when: tuple[str, ...]
    source: Source
    tests: tuple[Test, ...]

    def matches(self, facts: Facts) -> bool:
        return all(test(facts) for test in self.tests)


@dataclass(frozen=True)
class RuleTable:
    rules: tuple[TableRule, ...]
    accepted: Source

    def verdict(self, facts: Facts) -> tuple[Expectation, Source]:
        """The first matching rule's rejection, or acceptance when none matches."""
        missing = FACTS - facts.keys()
        if missing:
            raise MatrixError(f"facts missing: {', '.join(sorted(missing))}")
        for rule in self.rules:
            if rule.matches(facts):
                expect = Expectation(Verdict.REJECTED, Family(rule.family), Reason(rule.reason))
                return expect, rule.source
        return Expectation(Verdict.ACCEPTED, None, Reason.ACCEPTED), self.accepted


_RULE_KEYS = {"reason", "family", "when", "fact", "url", "status", "note"}


def _source(row: Mapping[str, Any], where: str) -> Source:
    fact, url, status = row.get("fact"), row.get("url"), row.get("status")
    if not (isinstance(fact, str) and isinstance(url, str) and url.startswith("https://")):
        raise MatrixError(f"{where}: fact and an https url are required")
    if status not in ("documented", "inferred"):
        raise MatrixError(f"{where}: status must be documented or inferred, not {status!r}")
    return Source(fact, url, status)


def _table_rule(row: Any, index: int, constants: Mapping[str, Any]) -> TableRule:
    if not isinstance(row, dict):
        raise MatrixError(f"rule {index}: must be a table")
    reason = row.get("reason")
    where = f"rule {index} ({reason})"
    if unknown := row.keys() - _RULE_KEYS:
        raise MatrixError(f"{where}: unknown keys {sorted(unknown)}")
    if reason not in RULES or reason == "ACCEPTED":
        raise MatrixError(f"{where}: unknown reason {reason!r}")
    family = RULES[reason].family
    if row.get("family") != family:
        raise MatrixError(f"{where}: family is {family}, not {row.get('family')!r}")
    when = row.get("when")
    if not (isinstance(when, list) and when and all(isinstance(c, str) for c in when)):
        raise MatrixError(f"{where}: when must be a non-empty list of conditions")
    tests = tuple(_Compiler(c, constants, where).compile() for c in when)
    return TableRule(reason, str(family), tuple(when), _source(row, where), tests)


def load_table(path: Path = RULES_FILE) -> RuleTable:
    """The rule table, every condition compiled and every reason checked against rules.RULES."""
    data = _toml(path)
    constants = data.get("constants", {})
    if not isinstance(constants, dict) or (FACTS | {NULL}) & constants.keys():
        raise MatrixError(f"{path.name}: [constants] must be a table whose names are not facts "
                          f"or {NULL}")
    rows = data.get("rule")
    if not isinstance(rows, list) or not rows:
        raise MatrixError(f"{path.name}: no [[rule]] rows")
    rules = tuple(_table_rule(row, i, constants) for i, row in enumerate(rows, 1))
    return RuleTable(rules, _source(data.get("accepted", {}), f"{path.name} [accepted]"))


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise MatrixError(f"{path.name}: {e}") from None


# --- factors --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Level:
    knob: str
    name: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Factor:
    """One column of the covering array: one knob, or the product of several (composite)."""

    name: str
    knobs: tuple[str, ...]
    levels: tuple[tuple[Level, ...], ...]  # one Level per knob


@dataclass(frozen=True)
class Factors:
    factors: tuple[Factor, ...]
    users: Mapping[str, UserContext]

    @property
    def full_size(self) -> int:
        return prod(len(f.levels) for f in self.factors)


def _table(data: Mapping[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise MatrixError(f"{path.name}: {key} must be a table")
    return value


def _levels(knobs: Mapping[str, Any], knob: str, users: Mapping[str, UserContext],
            path: Path) -> tuple[Level, ...]:
    """A knob's levels, each checked for the keys the generator reads; the user knob's are
    names of fixtures/users.toml, whose states `_facts` reads."""
    if knob == USER_KNOB:
        names = knobs.get(knob)
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise MatrixError(f"{path.name}: knobs.{knob} must be a list of user names")
        if unknown := [n for n in names if n not in users]:
            raise MatrixError(f"{path.name}: user {unknown[0]!r} is not in fixtures/users.toml")
        return tuple(Level(knob, n, {}) for n in names)
    table = _table(knobs, knob, path)
    if not table:
        raise MatrixError(f"{path.name}: knob {knob!r} has no levels")
    for name, values in table.items():
        for key, kind in KNOB_KEYS[knob].items():
            if not isinstance(values, dict) or not isinstance(values.get(key), kind):
                raise MatrixError(f"{path.name}: [knobs.{knob}.{name}] needs {key} "
                                  f"({kind.__name__ if isinstance(kind, type) else 'value'})")
    return tuple(Level(knob, n, v) for n, v in table.items())


def load_factors(path: Path = FACTORS_FILE) -> Factors:
    """The factors, each level checked for the keys the generator reads."""
    data = _toml(path)
    knobs, array = _table(data, "knobs", path), _table(data, "array", path)
    excluded = _table(_table(data, "excluded", path), "profile", path)
    users = load_users()
    levels = {knob: _levels(knobs, knob, users, path) for knob in KNOBS}
    declared = {lv.name for lv in levels["profile"]}
    if unknown := declared - PROFILES.keys():
        raise MatrixError(f"{path.name}: unknown profiles {sorted(unknown)}")
    if missing := PROFILES.keys() - declared - excluded.keys():
        raise MatrixError(f"{path.name}: profiles neither declared nor excluded: "
                          f"{sorted(missing)}")
    factors = []
    for name, members in array.items():
        if not isinstance(members, list) or not members or not set(members) <= set(KNOBS):
            raise MatrixError(f"{path.name}: [array] {name} must list knobs of {KNOBS}")
        factors.append(Factor(name, tuple(members),
                              tuple(product(*(levels[k] for k in members)))))
    used = [k for f in factors for k in f.knobs]
    if sorted(used) != sorted(KNOBS):
        raise MatrixError(f"{path.name}: [array] must use every knob exactly once")
    return Factors(tuple(factors), users)


# --- the covering array (IPOG) --------------------------------------------------------------------

def covering_array(sizes: Sequence[int], strength: int, *, seed: int = 0
                   ) -> list[tuple[int, ...]]:
    """Rows of level indices in which every combination of levels of any `strength` factors
    appears at least once; strength 0 (or at least the factor count) is the full product.

    IPOG (Lei et al., "IPOG: a general strategy for t-way software testing"): start from the
    full product of the t largest factors, then add one factor at a time, first choosing its
    value in the existing rows (ties broken by the seeded RNG), then adding rows for the
    tuples still uncovered. Cells no tuple needs get level 0, a knob's default.
    """
    k = len(sizes)
    if strength == 0 or strength >= k:
        return list(product(*(range(n) for n in sizes)))
    rng = random.Random(seed)
    order = sorted(range(k), key=lambda i: (-sizes[i], i))
    s = [sizes[i] for i in order]
    rows: list[list[int | None]] = [list(p) for p in product(*(range(n) for n in s[:strength]))]
    for j in range(strength, k):
        combos = list(combinations(range(j), strength - 1))
        uncovered = {(ci, vals, v) for ci, cols in enumerate(combos)
                     for vals in product(*(range(s[c]) for c in cols)) for v in range(s[j])}
        for row in rows:  # horizontal growth
            keys = [(ci, vals) for ci, cols in enumerate(combos)
                    if None not in (vals := tuple(row[c] for c in cols))]
            gains = [sum((ci, vals, v) in uncovered for ci, vals in keys) for v in range(s[j])]
            best = max(gains)
            value = rng.choice([v for v, g in enumerate(gains) if g == best]) if best else None
            row.append(value)
            if value is not None:
                uncovered.difference_update((ci, vals, value) for ci, vals in keys)
        flexible = [r for r in rows if None in r]
        for ci, vals, v in sorted(uncovered):  # vertical growth
            if (ci, vals, v) not in uncovered:
                continue
            cols, want = (*combos[ci], j), (*vals, v)
            fit = next((r for r in flexible
                        if all(r[c] is None or r[c] == w for c, w in zip(cols, want, strict=True))),
                       None)
            if fit is None:
                fit = [None] * (j + 1)
                rows.append(fit)
                flexible.append(fit)
            for c, w in zip(cols, want, strict=True):
                fit[c] = w
            uncovered.difference_update(
                (cj, got, fit[j]) for cj, cs in enumerate(combos)
                if None not in (got := tuple(fit[c] for c in cs)) and fit[j] is not None)
    out = []
    for row in rows:
        back = [0] * k
        for pos, i in enumerate(order):
            back[i] = row[pos] or 0
        out.append(tuple(back))
    return out


# --- cases ----------------------------------------------------------------------------------------

Row = Mapping[str, Level]  # knob -> level


def _policy(row: Row, profile: Profile) -> dict[str, Any]:
    """The row's policy as Graph JSON: one passkey profile, targets named by group."""
    keys, targeting = row["keys"].values, row["targeting"].values
    aaguids = [profile.aaguid if a == PROFILE_PLACEHOLDER else a for a in keys["aaguids"]]
    return {
        "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
        "id": "Fido2",
        "state": row["state"].values["value"],
        "isSelfServiceRegistrationAllowed": row["self_service"].values["value"],
        "defaultPasskeyProfile": PROFILE_ID,
        "includeTargets": [
            {"id": g, "targetType": "group", "isRegistrationRequired": False,
             "allowedPasskeyProfiles": [PROFILE_ID]} for g in targeting["include"]
        ],
        "excludeTargets": [{"id": g, "targetType": "group"} for g in targeting["exclude"]],
        "passkeyProfiles": [{
            "id": PROFILE_ID,
            "name": "Matrix passkey profile",
            "passkeyTypes": ",".join(row["types"].values["value"]),
            "attestationEnforcement": row["attestation"].values["value"],
            "keyRestrictions": {"isEnforced": keys["enforced"], "enforcementType": keys["type"],
                                "aaGuids": aaguids},
        }],
    }


def _facts(row: Row, policy: Mapping[str, Any], user: UserContext, profile: Profile) -> Facts:
    """What the table reads, taken from the Graph JSON and the user JSON sent, and the levels."""
    (passkey_profile,) = policy["passkeyProfiles"]
    restrictions = passkey_profile["keyRestrictions"]
    principals = {*user.groups, ALL_USERS}
    user_json = user.to_json()
    tap = user_json["tap"] or {}
    return {
        "path": row["ceremony"].values["path"],
        "policy.state": policy["state"],
        "policy.self_service": policy["isSelfServiceRegistrationAllowed"],
        "policy.types": passkey_profile["passkeyTypes"].split(","),
        "policy.attestation": passkey_profile["attestationEnforcement"],
        "policy.keys": restrictions["enforcementType"] if restrictions["isEnforced"] else "off",
        "policy.key_aaguids": restrictions["aaGuids"],
        "policy.includes_user": any(t["id"] in principals for t in policy["includeTargets"]),
        "policy.excludes_user": any(t["id"] in principals for t in policy["excludeTargets"]),
        "user.userType": user_json["userType"],
        "user.mfaAgeSeconds": user_json["mfaAgeSeconds"],
        "user.tap": user_json["tap"],
        "user.tap.isUsableOnce": tap.get("isUsableOnce"),
        "user.tap.ageSeconds": tap.get("ageSeconds"),
        "user.windowsHelloForBusiness": user_json["windowsHelloForBusiness"],
        **{f"user.{key}": user_json[key]
           for key in ("inTapPolicy", "registrationInterrupt", "conditionalAccessUnmet")},
        "profile.aaguid": profile.aaguid,
        "profile.fmt": profile.attestation.fmt,
        # the BE flag decides the type (entra-facts §4, [INFERRED]): backup eligible is synced
        "profile.passkey_type": "synced" if profile.backup_eligible else "deviceBound",
        "profile.attests": row["profile"].values["attests"],
        "profile.transports": list(profile.transports),
        "day.as_of": int(row["day"].values["as_of"].replace("-", "")),
        "day.cloud": row["day"].values["cloud"],
    }


def _case(number: int, row: Row, factors: Factors, table: RuleTable) -> Case:
    profile = PROFILES[row["profile"].name]
    user_name = row[USER_KNOB].name
    state = factors.users[user_name]
    user = replace(state, groups=state.groups | set(row["targeting"].values["join"]))
    policy = _policy(row, profile)
    expect, source = table.verdict(_facts(row, policy, user, profile))
    knobs = ("state", "self_service", "types", "attestation", "keys", "targeting")
    return Case(
        case_id=f"MX-{number:05d}", area=AREA,
        title=(f"{profile.name} via {row['ceremony'].name} for {user_name} "
               f"on {row['day'].name}: "
               + ", ".join(f"{k.replace('_', '-')} {row[k].name}" for k in knobs)),
        policy_name="matrix:" + "/".join(row[k].name for k in knobs),
        policy=policy, user=user, user_name=user_name, profile=profile.name,
        ceremony=row["ceremony"].name,
        expect=expect, source=source, file=FACTORS_FILE.name,
        tags=tuple(f"{k}={row[k].name}" for k in KNOBS),
        as_of=date.fromisoformat(row["day"].values["as_of"]),
        cloud=Cloud(row["day"].values["cloud"]),
    )


def generate(strength: int = 2, *, seed: int = 0) -> list[Case]:
    """The matrix: a t-wise covering array over the factors (0: the full product) as cases."""
    if strength < 0:
        raise ValueError(f"strength must be 0 (full product) or positive, not {strength}")
    factors, table = load_factors(), load_table()
    sizes = [len(f.levels) for f in factors.factors]
    cases = []
    for number, indices in enumerate(covering_array(sizes, strength, seed=seed), 1):
        row = {lv.knob: lv for f, i in zip(factors.factors, indices, strict=True)
               for lv in f.levels[i]}
        cases.append(_case(number, row, factors, table))
    return cases


def sizes(strength: int = 2, *, seed: int = 0) -> dict[str, Any]:
    """Levels per factor, the full product's size and the t-wise array's size."""
    factors = load_factors()
    levels = {f.name: len(f.levels) for f in factors.factors}
    rows = covering_array(list(levels.values()), strength, seed=seed) if strength else None
    return {"levels": levels, "full": factors.full_size, "strength": strength,
            "cases": len(rows) if rows is not None else factors.full_size}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.matrix",
                                     description="Sizes (and cases) of the conformance matrix.")
    parser.add_argument("--strength", type=int, default=2,
                        help="t of the t-wise covering array; 0 is the full product")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--list", action="store_true", help="print every case")
    args = parser.parse_args(argv)
    try:
        info = sizes(args.strength, seed=args.seed)
        print("factors: " + ", ".join(f"{k} {v}" for k, v in info["levels"].items()))
        print(f"full product: {info['full']} cases")
        print(f"strength {info['strength']}: {info['cases']} cases")
        if args.list:
            for case in generate(args.strength, seed=args.seed):
                print(f"{case.id}\t{case.expect.reason}\t{case.title}")
    except MatrixError as e:
        print(f"error: {e}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
