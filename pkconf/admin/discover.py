"""What a real tenant did, held against the rule book: the evidence `pkconf discover` reports.

A Graph-target run records one observation per case (`reports/observations.jsonl`, schema in
docs/graph-target.md §4): the case's expectation, the rule it followed, and Entra's answer. Each
observation is **confirmed** (Entra's outcome is the expected one and the rule and the case's
source rest on evidence: documentation or an earlier observation), **contradicted** (the outcome
differs), or **newly observed** (the outcome is the expected one, and the rule or the case's
source was only inferred or undocumented: now an observation backs it). Entra's error responses
are evidence of their own: Microsoft documents no registration error codes (entra-facts §8), so
each distinct (HTTP status, Graph error code, message) seen for a reason is newly observed.

Nothing here writes: the command prints the table and writes the Markdown this module renders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..inputs import UsageError, read_bytes
from ..report.columns import aligned
from ..tenant.rules import RULE_BOOK, VERSIONS, Cloud, Reason, Rule, RuleBook, Status, rule

SCHEMA = 1  # the observation schema this module reads (docs/graph-target.md §4)
OUTCOMES = ("accepted", "rejected")  # what a tenant answers through Graph: no client errors
# a source status that rests on evidence; anything else (inferred, undocumented) is backed anew
EVIDENCED = frozenset({Status.DOCUMENTED.value, Status.OBSERVED.value})
EXAMPLES = 3  # request-ids per response: enough for Microsoft support, few enough to read
EVIDENCE_DIR = "fixtures/observations"  # where an observation file cited as a source is kept


class Verdict(StrEnum):
    """What one observation says about the expectation it was run against."""

    CONFIRMED = "confirmed"
    CONTRADICTED = "contradicted"
    NEWLY_OBSERVED = "newly observed"


@dataclass(frozen=True)
class GraphError:
    """The Graph error envelope of a refusal: Entra's own words for it, and where to find it."""

    code: str
    message: str
    request_id: str | None
    date: str | None


@dataclass(frozen=True)
class Observation:
    """One line of an observation file, as far as discovery needs it."""

    file: str
    line: int
    at: datetime
    case: str  # the case row (AT-ENF-001)
    id: str  # the instance (AT-ENF-001[yubikey-5-nfc-iphone/graph])
    expected: str  # outcome
    reason: Reason  # the expected decision's reason: the rule it follows
    version: str | None  # the rule version the expectation followed, when the book knows it
    as_of: date  # the day and cloud of the rule book the run decided by
    cloud: Cloud
    source_status: str  # the case's own source status
    http_status: int | None  # None: refused before the registration POST
    outcome: str
    error: GraphError | None
    request_ids: tuple[str, ...]
    emulator: bool  # the emulator answered (its decision came along, or Graph is on loopback)
    tenant: str | None  # with a request-id and its date, what Microsoft support asks for

    @property
    def response(self) -> tuple[int | None, str | None, str | None]:
        """What tells Entra's answers apart: HTTP status, Graph error code and message."""
        return (self.http_status, self.error.code if self.error else None,
                self.error.message if self.error else None)

    @property
    def answer(self) -> str:
        """Entra's answer in a few words: the HTTP status and the Graph error code."""
        code = f" {self.error.code}" if self.error else ""
        return f"HTTP {self.http_status}{code}" if self.http_status else f"refused{code}"

    @property
    def request_id(self) -> str | None:
        """The id Microsoft support finds the answer by: the error's, else the last call's."""
        if self.error and self.error.request_id:
            return self.error.request_id
        return self.request_ids[-1] if self.request_ids else None

    @property
    def date(self) -> str:
        return (self.error.date if self.error and self.error.date
                else self.at.isoformat().replace("+00:00", "Z"))


@dataclass
class RuleFindings:
    """Every observation of one rule version, by verdict and by Entra's response."""

    rule: Rule
    verdicts: dict[Verdict, list[Observation]] = field(
        default_factory=lambda: {v: [] for v in Verdict})
    responses: dict[tuple[int | None, str | None, str | None], list[Observation]] = field(
        default_factory=dict)

    @property
    def new_errors(self) -> list[tuple[int | None, str | None, str | None]]:
        """Entra's error responses for this rule: none is documented, so each is new."""
        return [r for r in self.responses if r[1] is not None]

    @property
    def evidence(self) -> bool:
        """Whether a maintainer has something to write into the rule book for this rule."""
        return bool(self.verdicts[Verdict.CONTRADICTED] or self.verdicts[Verdict.NEWLY_OBSERVED]
                    or self.new_errors)


@dataclass(frozen=True)
class Discovery:
    """Everything the files showed, by rule: what the table, the JSON and the Markdown render."""

    files: tuple[str, ...]
    observations: tuple[Observation, ...]
    rules: tuple[RuleFindings, ...]  # in rule-book order

    def total(self, verdict: Verdict) -> int:
        return sum(len(f.verdicts[verdict]) for f in self.rules)

    @property
    def new_errors(self) -> int:
        return sum(len(f.new_errors) for f in self.rules)

    @property
    def tenants(self) -> list[str]:
        return sorted({o.tenant for o in self.observations if o.tenant})

    @property
    def emulator_files(self) -> list[str]:
        return sorted({o.file for o in self.observations if o.emulator})


# --- Reading ------------------------------------------------------------------------------------

class _LineError(Exception):
    """A field of one observation line that is missing or of the wrong kind."""


def _get(obj: Mapping[str, Any], path: str, kind: type | tuple[type, ...],
         *, optional: bool = False) -> Any:
    """The value at a dotted `path`, of `kind` (None allowed when `optional`)."""
    value: Any = obj
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        names = (kind,) if isinstance(kind, type) else kind
        raise _LineError(f"{path} must be {' or '.join(k.__name__ for k in names)}, "
                         f"not {json.dumps(value)[:40]}")
    return value


def _choice(obj: Mapping[str, Any], path: str, allowed: Iterable[str]) -> str:
    value: str = _get(obj, path, str)
    if value not in (allowed := tuple(allowed)):
        raise _LineError(f"{path} {value!r} is not one of {', '.join(allowed)}")
    return value


def _error(obj: Mapping[str, Any]) -> GraphError | None:
    if _get(obj, "observed.error", dict, optional=True) is None:
        return None
    return GraphError(_get(obj, "observed.error.code", str),
                      _get(obj, "observed.error.message", str),
                      _get(obj, "observed.error.requestId", str, optional=True),
                      _get(obj, "observed.error.date", str, optional=True))


def _loopback(url: str | None) -> bool:
    host = urlsplit(url or "").hostname or ""
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        return False


def _observation(obj: Any, file: str, line: int) -> Observation:
    if not isinstance(obj, dict):
        raise _LineError("an observation is a JSON object")
    if (schema := obj.get("schema")) != SCHEMA:
        raise _LineError(f"schema {json.dumps(schema)} is not one pkconf reads ({SCHEMA})")
    try:
        at = datetime.fromisoformat(_get(obj, "at", str))
        as_of = date.fromisoformat(_get(obj, "asOf", str, optional=True) or at.date().isoformat())
    except ValueError as e:
        raise _LineError(f"at/asOf: {e}") from None
    cloud = _get(obj, "cloud", str, optional=True) or Cloud.WORLDWIDE
    if cloud not in tuple(Cloud):
        raise _LineError(f"cloud {cloud!r} is not one of {', '.join(Cloud)}")
    if (reason := _get(obj, "expected.reason", str)) not in tuple(Reason):
        raise _LineError(f"expected.reason {reason!r} is no reason of the rule book")
    reason = Reason(reason)
    version = _get(obj, "rule.version", (str, int), optional=True)
    request_ids = _get(obj, "requestIds", list, optional=True) or []
    if not all(isinstance(r, str) for r in request_ids):
        raise _LineError("requestIds must be strings")
    return Observation(
        file=file, line=line, at=at, case=_get(obj, "case", str), id=_get(obj, "id", str),
        expected=_choice(obj, "expected.outcome", OUTCOMES), reason=reason,
        version=version if version in {r.version for r in VERSIONS[reason]} else None,
        as_of=as_of, cloud=Cloud(cloud),
        source_status=_get(obj, "source.status", str),
        http_status=_get(obj, "observed.status", int, optional=True),
        outcome=_choice(obj, "observed.outcome", OUTCOMES), error=_error(obj),
        request_ids=tuple(request_ids),
        emulator=(_get(obj, "observed.decision", dict, optional=True) is not None
                  or _loopback(_get(obj, "graphUrl", str, optional=True))),
        tenant=_get(obj, "tenant", str, optional=True),
    )


def read_observations(paths: Sequence[str]) -> list[Observation]:
    """Every observation of the files, in order; a bad file or line is a `UsageError` naming
    file:line, since a comparison missing a line would report less than the tenant did."""
    found: list[Observation] = []
    for path in paths:
        lines = read_bytes(path, "observations").split(b"\n")
        before = len(found)
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except ValueError as e:  # UnicodeDecodeError too
                raise UsageError(f"{path}:{number}: not a JSON line: {e}") from None
            except RecursionError:
                raise UsageError(f"{path}:{number}: nests too deeply to read") from None
            try:
                found.append(_observation(obj, path, number))
            except _LineError as e:
                raise UsageError(f"{path}:{number}: {e}") from None
        if len(found) == before:
            raise UsageError(f"{path}: holds no observations")
    return found


# --- Comparing ----------------------------------------------------------------------------------

def rule_of(observation: Observation) -> Rule:
    """The rule the expectation followed: the version the observation names, else the one in
    force in the run's rule book (the latest version if none held then)."""
    if observation.version is not None:
        return rule(observation.reason, observation.version)
    try:
        return RuleBook(observation.as_of, observation.cloud).rule(observation.reason)
    except LookupError:
        return rule(observation.reason)


def verdict(observation: Observation, of: Rule) -> Verdict:
    """The outcome decides a contradiction (a real tenant names no reason, entra-facts §8);
    an agreeing outcome is news unless both the rule and the case's source had evidence."""
    if observation.outcome != observation.expected:
        return Verdict.CONTRADICTED
    if of.status.value in EVIDENCED and observation.source_status in EVIDENCED:
        return Verdict.CONFIRMED
    return Verdict.NEWLY_OBSERVED


def discover(observations: Sequence[Observation]) -> Discovery:
    """Each observation classified under the rule it tested, the rules in rule-book order."""
    findings: dict[Rule, RuleFindings] = {}
    for observation in observations:
        of = rule_of(observation)
        entry = findings.setdefault(of, RuleFindings(of))
        entry.verdicts[verdict(observation, of)].append(observation)
        entry.responses.setdefault(observation.response, []).append(observation)
    return Discovery(tuple(dict.fromkeys(o.file for o in observations)), tuple(observations),
                     tuple(findings[r] for r in RULE_BOOK if r in findings))


# --- Rendering ----------------------------------------------------------------------------------

def _counts(numbers: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in numbers.items())


def _verdict_counts(f: RuleFindings) -> dict[str, int]:
    return {str(v): len(f.verdicts[v]) for v in Verdict}


def summary(d: Discovery) -> str:
    totals = _counts({str(v): d.total(v) for v in Verdict})
    return (f"{len(d.observations)} observations in {', '.join(d.files)}: {totals}; "
            f"{d.new_errors} Graph error responses newly observed")


EMULATOR_NOTE = ("the emulator answered these observations (it sent its own decision, or Graph "
                 "was on loopback): they exercise the adapter, they are no evidence about Entra")


def _examples(observations: Sequence[Observation]) -> list[Observation]:
    return [o for o in observations if o.request_id][:EXAMPLES]


RESPONSE_COLUMNS = ("HTTP", "code", "message", "cases", "request-id", "date")


def _response_rows(f: RuleFindings) -> list[list[str]]:
    """One row per example of each response; the first carries the response and its count."""
    rows = []
    for (status, code, message), seen in f.responses.items():
        examples = _examples(seen) or seen[:1]
        head = [str(status or "-"), code or "-", message or "-", str(len(seen))]
        for o in examples:
            rows.append([*head, o.request_id or "-", o.date])
            head = [""] * len(head)
    return rows


def rule_heading(f: RuleFindings) -> str:
    errors = f"; {len(f.new_errors)} Graph error responses newly observed" * bool(f.new_errors)
    return (f"{f.rule.reason}  {f.rule.status}  version {f.rule.version}: "
            f"{_counts(_verdict_counts(f))}{errors}")


def table(d: Discovery) -> list[str]:
    """The terminal report: a summary, then each rule with a table of Entra's responses."""
    lines = [summary(d)]
    lines += [f"note: {EMULATOR_NOTE}: {', '.join(d.emulator_files)}"] if d.emulator_files else []
    for f in d.rules:
        lines += ["", rule_heading(f)]
        lines += [f"  {row}" for row in aligned(RESPONSE_COLUMNS, _response_rows(f))]
    return lines


def _observation_json(o: Observation) -> dict[str, Any]:
    return {"id": o.id, "case": o.case, "file": o.file, "line": o.line, "expected": o.expected,
            "observed": o.outcome, "status": o.http_status, "requestId": o.request_id,
            "date": o.date}


def to_json(d: Discovery) -> dict[str, Any]:
    return {
        "files": list(d.files), "tenants": d.tenants, "observations": len(d.observations),
        "totals": {**{str(v): d.total(v) for v in Verdict}, "newErrors": d.new_errors},
        "emulatorFiles": d.emulator_files,
        "rules": [{
            "reason": str(f.rule.reason), "status": str(f.rule.status),
            "version": f.rule.version, "fact": f.rule.fact, "url": f.rule.url,
            **{str(v): [_observation_json(o) for o in f.verdicts[v]] for v in Verdict},
            "responses": [{"status": status, "code": code, "message": message,
                           "new": code is not None, "count": len(seen),
                           "examples": [{"requestId": o.request_id, "date": o.date, "id": o.id}
                                        for o in _examples(seen)]}
                          for (status, code, message), seen in f.responses.items()],
        } for f in d.rules],
    }


# --- The maintainer's Markdown ------------------------------------------------------------------

def evidence_path(file: str, root: Path | None) -> tuple[str, bool]:
    """Where the observation file is cited from, relative to the repository (what the case
    loader accepts), and whether it must first be copied there."""
    resolved = Path(file).resolve()
    if root is not None and resolved.is_relative_to(root.resolve()):
        return resolved.relative_to(root.resolve()).as_posix(), False
    return f"{EVIDENCE_DIR}/{resolved.name}", True


def doc_id(path: str) -> str:
    """A docs.toml id for an observation file: OBS_ and its name in the ids' own style."""
    return "OBS_" + re.sub(r"[^A-Za-z0-9]+", "_", Path(path).stem).strip("_").upper()


def _cell(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's string escapes are TOML's."""
    return json.dumps(text, ensure_ascii=False)


def _section(o: Observation) -> str:
    return f"{o.id} {o.at.date()}: {o.answer}"


def _source_lines(f: RuleFindings, ids: Mapping[str, str]) -> list[str]:
    """One suggested case source per case row, citing its first observation."""
    first: dict[str, Observation] = {}
    for v in (Verdict.NEWLY_OBSERVED, Verdict.CONTRADICTED, Verdict.CONFIRMED):
        for o in f.verdicts[v]:
            if o.error or v is not Verdict.CONFIRMED:
                first.setdefault(o.case, o)
    return [f"# {case}\nsource = {{ doc = {_toml_string(ids[o.file])}, section = "
            f"{_toml_string(_section(o))}, status = \"observed\" }}" for case, o in first.items()]


def _contradiction(o: Observation) -> str:
    answer = o.answer + (f": {o.error.message}" if o.error else "")
    fix = ('expect = { outcome = "accepted" }' if o.outcome == "accepted" else
           'expect = { outcome = "rejected", family = …, reason = … } (Entra names no reason, '
           'entra-facts §8: choose one and mark it inferred)')
    return (f"- `{o.id}` expected {o.expected}, Entra answered {o.outcome} ({answer}; "
            f"request-id {o.request_id or '-'}, {o.date}); if the tenant is right: `{fix}`")


def markdown(d: Discovery, root: Path | None) -> str:
    """The report a maintainer turns into rule-book evidence: per rule with something new,
    Entra's responses, the contradictions, and the docs.toml entry and case source lines that
    would cite the observation file with status `observed`."""
    paths = {file: evidence_path(file, root) for file in d.files}
    ids = {file: doc_id(path) for file, (path, _) in paths.items()}
    out = ["# What the tenant did, against the rule book", "", f"{summary(d)}.",
           f"Tenant: {', '.join(d.tenants) or 'not recorded'}.", ""]
    if d.emulator_files:
        out += [f"> **Note:** {EMULATOR_NOTE}: {', '.join(d.emulator_files)}.", ""]
    out += ["| reason | status | version | confirmed | contradicted | newly observed | "
            "Graph errors |", "|---|---|---|---|---|---|---|"]
    out += [f"| {f.rule.reason} | {f.rule.status} | {f.rule.version} | "
            + " | ".join(str(len(f.verdicts[v])) for v in Verdict)
            + f" | {len(f.new_errors)} |" for f in d.rules]
    for f in (f for f in d.rules if f.evidence):
        out += ["", f"## {f.rule.reason} ({f.rule.status}, version {f.rule.version})", "",
                f"{_counts(_verdict_counts(f))}. The rule follows {f.rule.fact}: {f.rule.url}", "",
                "| " + " | ".join(RESPONSE_COLUMNS) + " |", "|---" * len(RESPONSE_COLUMNS) + "|"]
        out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in _response_rows(f)]
        if contradicted := f.verdicts[Verdict.CONTRADICTED]:
            out += ["", "Contradicted:", "", *map(_contradiction, contradicted)]
        cited = {o.file for v in Verdict for o in f.verdicts[v]}
        out += ["", "Suggested evidence, `fixtures/docs.toml` [docs]:", "", "```toml"]
        out += [f"{ids[file]} = {{ url = {_toml_string(paths[file][0])}, cite = \"observation\" }}"
                for file in d.files if file in cited]
        out += ["```", "", "and each case's source (its row in `fixtures/cases/`):", "", "```toml",
                *_source_lines(f, ids), "```"]
        copies = [f"`{file}` to `{paths[file][0]}`" for file in d.files
                  if file in cited and paths[file][1]]
        if copies:
            out += ["", f"Copy {', '.join(copies)} first: a cited observation file must be in "
                        "the repository."]
    return "\n".join(out) + "\n"
