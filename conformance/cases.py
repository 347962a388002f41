"""Conformance cases: expectations written as data in `fixtures/`, read into runnable instances.

A case file (`fixtures/cases/<area>.toml`) holds rows; each row names a policy, a user state,
one or more authenticator profiles and ceremonies, and the decision Entra is expected to make,
with the documentation it follows. A row expands into one instance per (profile, ceremony),
identified as `KR-BLOCK-004[yubikey-5-nfc-iphone/ctap]`.

A row's `user` names a state in `fixtures/users.toml`, read by `UserContext.from_json` (the
USER.json vocabulary); no `user` means `member-fresh-mfa`. Its `source` cites a document of
`fixtures/docs.toml` by id, a section and a status:
`{ doc = "S2", section = "§2 Precedence", status = "documented" }` reads as the fact
"entra-facts §2 Precedence" at S2's URL.

A row's `patch` is laid over its policy file, so the case shows the fact it turns on: objects
merge key by key, anything else (arrays too) replaces whole; and a table given where the policy
has an array of objects with ids (`passkeyProfiles`, `includeTargets`) patches those objects by
id, e.g. `[case.patch.passkeyProfiles.00000000-0000-0000-0000-000000000001]` then
`attestationEnforcement = "registrationOnly"`. An id the array does not hold is an error.

A row's `as_of` (a TOML date) and `cloud` pin the day and cloud whose rule book decides, for
rules that began or ended in 2026 (entra-facts §0); without them the run's `--as-of` (today)
and `--cloud` (worldwide) apply.

Only the suite reads these files; the emulator and the decision engine never do.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from pkconf.authenticators.profiles import PROFILES, Profile
from pkconf.ceremonies.ctap import VARIATIONS
from pkconf.ceremonies.result import ClientError
from pkconf.paths import FIXTURES
from pkconf.tenant.decision import Outcome, UserContext, UserJsonError
from pkconf.tenant.rules import Cloud, Family, Reason, rule

CASES_DIR = FIXTURES / "cases"
POLICIES_DIR = FIXTURES / "policies"
USERS_FILE = FIXTURES / "users.toml"
DOCS_FILE = FIXTURES / "docs.toml"
DEFAULT_USER = "member-fresh-mfa"  # a row without `user`
# ctap: self-service, python-fido2 client; graph: admin provisioning through Graph;
# graph-me: the user's own Graph client on /me (Graph's 10-minute rule);
# browser: Chromium on the Security-info page with the profile's authenticator bridged in;
# browser-cdp: Chromium with its own CDP virtual authenticator configured from the profile.
CEREMONIES = ("ctap", "graph", "graph-me", "browser", "browser-cdp")
CONVEYANCES = ("none", "indirect", "direct", "enterprise")
# observed: what a real tenant did, recorded in an observation file (`pkconf discover` reads
# them); the document such a source cites is that file, a path in docs.toml.
OBSERVED = "observed"
STATUSES = ("documented", "inferred", "undocumented", OBSERVED)
CLIENT_FAMILY = ClientError.FAMILY  # a client-error never reached the tenant: the browser refused
_DOM_EXCEPTION = re.compile(r"^[A-Z][A-Za-z]*Error$")
_CASE_ID = re.compile(r"^[A-Z]{2,5}(-[A-Z0-9]+)*-\d{3,}$")


# Every key a case row may have: a misspelt one (`asof`) must not silently mean "not given".
ROW_KEYS = frozenset({"id", "title", "policy", "patch", "user", "profiles", "ceremonies",
                      "variation", "conveyance", "expect", "source", "tags", "as_of", "cloud"})


class CaseError(ValueError):
    """A case file that cannot be used; the message names the file and the case."""


class Verdict(StrEnum):
    """The outcome a case expects: the tenant's two, and two only the suite knows."""

    ACCEPTED = Outcome.ACCEPTED.value
    REJECTED = Outcome.REJECTED.value
    CLIENT_ERROR = ClientError.OUTCOME  # the browser refused before the tenant saw anything
    UNUSABLE = "unusable"  # the tenant refused the request itself (400): no decision made
    RECORDED = "recorded"  # an own-policy run: the decision is recorded, not compared


OUTCOMES = (Verdict.ACCEPTED.value, Verdict.REJECTED.value, Verdict.CLIENT_ERROR.value,
            Verdict.UNUSABLE.value)


@dataclass(frozen=True)
class Expectation:
    """A decision as a case states it; the runner states the tenant's the same way to compare."""

    outcome: Verdict
    family: Family | None  # None: accepted, a client error (family "client") or recorded
    reason: Reason | str  # a DOMException name for a client error; "" when recorded

    @classmethod
    def decided(cls, reason: Reason) -> Expectation:
        """The tenant deciding `reason`: accepted, or rejected in the rule's family."""
        outcome = Verdict.ACCEPTED if reason is Reason.ACCEPTED else Verdict.REJECTED
        return cls(outcome, rule(reason).family, reason)

    @property
    def family_name(self) -> str | None:
        """The family as results and reports name it, the cases' own "client" included."""
        if self.outcome is Verdict.CLIENT_ERROR:
            return CLIENT_FAMILY
        return self.family.value if self.family else None

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome.value, "family": self.family_name,
                "reason": str(self.reason)}


@dataclass(frozen=True)
class Source:
    fact: str  # the entra-facts.md section (or other document) the expectation follows
    url: str
    status: str  # documented | inferred | undocumented | observed


@dataclass(frozen=True)
class Doc:
    """A document sources cite: its URL, and whose section numbers a `section` is in."""

    url: str  # a web page, or an observation file's path (relative to the repository)
    cite: str  # "entra-facts" (its restatement of the page) or the document's own name

    @property
    def observation(self) -> bool:
        """An observation file, the only document an `observed` source may cite."""
        return not self.url.startswith("https://")


@dataclass(frozen=True)
class Case:
    """One runnable instance: a row of a case file for one profile and one ceremony."""

    case_id: str
    area: str
    title: str
    policy_name: str
    policy: Mapping[str, Any]  # Graph JSON; target ids other than all_users are group names
    user: UserContext  # its groups are names, created fresh for every case by the scenario
    user_name: str  # the users.toml (or matrix) name the reports show
    profile: str
    ceremony: str
    expect: Expectation
    source: Source
    variation: str | None = None
    conveyance: str | None = None  # browser ceremonies: override the page's attestation
    file: str = ""
    tags: tuple[str, ...] = field(default=())
    as_of: date | None = None  # the day whose rule book decides; None: the run's (--as-of)
    cloud: Cloud | None = None  # None: the run's (--cloud)
    from_file: Profile | None = None  # an authenticator file's profile (`profile` names it)

    @property
    def authenticator(self) -> Profile:
        """The profile the case registers: a file's travels with the case, since no built-in
        table knows it; otherwise the built-in profile it names."""
        return self.from_file or PROFILES[self.profile]

    @property
    def id(self) -> str:
        return f"{self.case_id}[{self.profile}/{self.ceremony}]"


def _require(cond: bool, where: str, msg: str) -> None:
    if not cond:
        raise CaseError(f"{where}: {msg}")


_T = TypeVar("_T")


def _typed(value: Any, kind: type[_T], where: str, msg: str) -> _T:
    """`value` as a `kind`, or the file's error: what `_require` says, narrowed for the types."""
    _require(isinstance(value, kind), where, msg)
    return value  # type: ignore[no-any-return]


def load_users(path: Path = USERS_FILE) -> dict[str, UserContext]:
    """Named user states (fixtures/users.toml), in USER.json's vocabulary."""
    users = {}
    for name, row in _toml(path).items():
        try:
            users[name] = UserContext.from_json(row, name)
        except UserJsonError as e:
            raise CaseError(f"{path.name}: {e}") from None
    return users


def load_docs(path: Path = DOCS_FILE) -> dict[str, Doc]:
    """The documents sources cite (fixtures/docs.toml [docs]), by id. A url that is not a web
    page is an observation file's path, relative to the repository or to fixtures/: it must
    be there, or the evidence a rule cites would be lost."""
    table = _typed(_toml(path).get("docs"), dict, path.name, "a [docs] table is required")
    docs = {}
    for doc_id, row in table.items():
        where = f"{path.name} [docs] {doc_id}"
        _require(isinstance(row, dict) and isinstance(row.get("url"), str)
                 and isinstance(row.get("cite"), str), where,
                 '{ url = "https://..." or "path/to/observations.jsonl", cite = "..." } required')
        doc = Doc(row["url"], row["cite"])
        _require(not doc.observation or _observation_file(doc.url, path.parent), where,
                 f"url {doc.url!r} is neither https:// nor an observation file under the "
                 f"repository or fixtures/")
        docs[doc_id] = doc
    return docs


def _observation_file(url: str, fixtures: Path) -> bool:
    """Whether `url` is a relative path to a file under `fixtures` or the repository above it."""
    relative = Path(url)
    return not relative.is_absolute() and any(
        (base / relative).is_file() for base in (fixtures, fixtures.parent))


def patched(base: Any, patch: Any, where: str) -> Any:
    """`patch` laid over `base` (the module docstring has the rules)."""
    if isinstance(patch, dict) and isinstance(base, dict):
        return {**base, **{k: patched(base[k], v, f"{where}.{k}") if k in base
                           else copy.deepcopy(v) for k, v in patch.items()}}
    if isinstance(patch, dict) and isinstance(base, list) and all(
            isinstance(item, dict) and isinstance(item.get("id"), str) for item in base):
        ids = [item["id"] for item in base]
        if unknown := sorted(patch.keys() - set(ids)):
            raise CaseError(f"{where}: no element with id {unknown[0]!r} (ids: {ids})")
        return [patched(item, patch[item["id"]], f"{where}.{item['id']}")
                if item["id"] in patch else item for item in base]
    return copy.deepcopy(patch)


def load_policy_file(name: str, patch: Mapping[str, Any] | None = None) -> dict[str, Any]:
    path = POLICIES_DIR / name
    try:
        policy = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise CaseError(f"policy {name}: {e}") from None
    _require(isinstance(policy, dict), f"policy {name}", "must be a JSON object")
    if patch:
        _require(isinstance(patch, dict), f"policy {name}", "patch must be a table")
        policy = patched(policy, patch, "patch")
    return policy


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise CaseError(f"{path.name}: {e}") from None


def _expectation(row: Mapping[str, Any], where: str) -> Expectation:
    expect = _typed(row.get("expect"), dict, where,
                    "expect = {outcome, family, reason} is required")
    outcome, family, reason = expect.get("outcome"), expect.get("family"), expect.get("reason")
    _require(outcome in OUTCOMES, where, f"expect.outcome must be one of {OUTCOMES}")
    if outcome == Verdict.ACCEPTED:
        _require(reason in (None, Reason.ACCEPTED) and family in (None, ""), where,
                 "an accepted expectation has no family and reason ACCEPTED")
        return Expectation.decided(Reason.ACCEPTED)
    if outcome == Verdict.UNUSABLE:
        _require(family is None and reason is None, where,
                 "an unusable expectation has no family and no reason: no decision is made")
        return Expectation(Verdict.UNUSABLE, None, "")
    if outcome == Verdict.CLIENT_ERROR:
        shape = f"a client-error has family '{CLIENT_FAMILY}' and a DOMException name as reason"
        name = _typed(reason, str, where, shape)
        _require(family == CLIENT_FAMILY and bool(_DOM_EXCEPTION.match(name)), where, shape)
        return Expectation(Verdict.CLIENT_ERROR, None, name)
    _require(family in tuple(Family), where, f"unknown family {family!r}")
    _require(reason in tuple(Reason) and reason != Reason.ACCEPTED, where,
             f"unknown reason {reason!r}")
    expectation = Expectation.decided(Reason(str(reason)))
    _require(expectation.family == family, where, f"{reason} is in family "
                                                  f"{expectation.family}, not {family!r}")
    return expectation


def _source(row: Mapping[str, Any], where: str, docs: Mapping[str, Doc]) -> Source:
    src = _typed(row.get("source"), dict, where, "source = {doc, section, status} is required")
    _require(src.keys() == {"doc", "section", "status"}
             and all(isinstance(v, str) for v in src.values()), where,
             "source = {doc, section, status} (strings) is required")
    _require(src["doc"] in docs, where,
             f"source.doc {src['doc']!r} is not in fixtures/docs.toml ({', '.join(docs)})")
    _require(src["status"] in STATUSES, where, f"source.status must be one of {STATUSES}")
    doc = docs[src["doc"]]
    _require((src["status"] == OBSERVED) == doc.observation, where,
             f"source.doc {src['doc']!r} is an observation file: its status is {OBSERVED}"
             if doc.observation else
             f"status {OBSERVED} cites an observation file, and {src['doc']!r} is a web page")
    return Source(f"{doc.cite} {src['section']}", doc.url, src["status"])


def load_case_file(path: Path, users: Mapping[str, UserContext],
                   docs: Mapping[str, Doc] | None = None) -> list[Case]:
    data = _toml(path)
    docs = load_docs() if docs is None else docs
    area = _typed(data.get("area"), str, path.name, "area = \"...\" is required")
    rows = _typed(data.get("case", []), list, path.name, "no [[case]] rows")
    _require(bool(rows), path.name, "no [[case]] rows")
    cases = []
    for row in rows:
        case_id = row.get("id", "?")
        where = f"{path.name} {case_id}"
        _require(isinstance(case_id, str) and bool(_CASE_ID.match(case_id)), where,
                 "id must look like KR-BLOCK-004")
        unknown = sorted(row.keys() - ROW_KEYS)
        _require(not unknown, where, f"unknown key {', '.join(unknown)} (a case row takes "
                                     f"{', '.join(sorted(ROW_KEYS))})")
        _require(isinstance(row.get("title"), str), where, "title is required")
        policy_name = _typed(row.get("policy"), str, where,
                             "policy (a file in fixtures/policies)")
        try:
            policy = load_policy_file(policy_name, row.get("patch"))
        except CaseError as e:
            raise CaseError(f"{where}: {e}") from None
        user_name = row.get("user", DEFAULT_USER)
        _require(user_name != DEFAULT_USER or "user" not in row, where,
                 f"leave out user = {DEFAULT_USER!r}: it is the default")
        if (user := users.get(user_name)) is None:
            raise CaseError(f"{where}: unknown user state {user_name!r}")
        profiles = _typed(row.get("profiles"), list, where, "profiles = [...] is required")
        _require(bool(profiles), where, "profiles = [...] is required")
        for name in profiles:
            _require(name in PROFILES, where, f"unknown profile {name!r}")
        ceremonies = row.get("ceremonies", ["ctap"])
        _require(all(c in CEREMONIES for c in ceremonies), where,
                 f"ceremonies must be among {CEREMONIES}")
        variation = row.get("variation")
        _require(variation is None or variation in VARIATIONS, where,
                 f"unknown variation {variation!r}")
        conveyance = row.get("conveyance")
        _require(conveyance is None or conveyance in CONVEYANCES, where,
                 f"conveyance must be one of {CONVEYANCES}")
        expect, source = _expectation(row, where), _source(row, where, docs)
        as_of = row.get("as_of")
        _require(as_of is None or type(as_of) is date, where,
                 "as_of must be a TOML date (as_of = 2026-03-20)")
        cloud = row.get("cloud")
        _require(cloud is None or cloud in tuple(Cloud), where,
                 f"cloud must be one of {', '.join(Cloud)}")
        for profile in profiles:
            for ceremony in ceremonies:
                cases.append(Case(
                    case_id=case_id, area=area, title=row["title"], policy_name=policy_name,
                    policy=policy, user=user, user_name=user_name, profile=profile,
                    ceremony=ceremony,
                    expect=expect, source=source, variation=variation, conveyance=conveyance,
                    file=f"fixtures/cases/{path.name}",
                    tags=tuple(row.get("tags", ())),
                    as_of=as_of, cloud=Cloud(cloud) if cloud else None,
                ))
    return cases


def load_cases(paths: Iterable[Path] | None = None) -> list[Case]:
    """Every case instance; ids are unique across files."""
    users, docs = load_users(), load_docs()
    cases: list[Case] = []
    for path in sorted(paths if paths is not None else CASES_DIR.glob("*.toml")):
        cases.extend(load_case_file(path, users, docs))
    seen: dict[str, str] = {}
    for case in cases:
        _require(case.id not in seen, case.file,
                 f"instance {case.id} is also in {seen.get(case.id)}")
        seen[case.id] = case.file
    return cases
