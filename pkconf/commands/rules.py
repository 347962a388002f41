"""`pkconf rules`: the rule book as it holds on a day in a cloud, and what changed between two
days — what an admin reads to learn what changed in Entra since the last run."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from ..inputs import UsageError, read_cloud, read_day, read_rule_book
from ..report.columns import aligned
from ..tenant.rules import CHANGES, RULE_BOOK, Change, Cloud, Rule, Status
from .common import add_rule_book_arguments

HELP = "show the rule book in force on a day, or the rules that changed between two days"
COLUMNS = ("reason", "family", "status", "version", "since", "until", "fact", "url")
CHANGE_COLUMNS = ("", "reason", "family", "status", "version", "fact")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_rule_book_arguments(p, as_of_help="the rules in force on this day, YYYY-MM-DD "
                                          "(default: today)")
    p.add_argument("--changes", nargs=2, metavar=("FROM", "TO"),
                   help="instead, the rule versions that begin or end after FROM, up to and "
                        "including TO, grouped by the change that dates them")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def short_url(url: str) -> str:
    """A documentation address a table can hold: host, the last path segment, query and
    fragment (what tells two pages of one site apart). An observation file's path, an observed
    rule's source, is shown whole: it is short, and where in the repository it is matters."""
    parts = urlsplit(url)
    if not parts.scheme:
        return url
    segments = [s for s in parts.path.split("/") if s]
    path = "/".join(segments) if len(segments) <= 1 else f"…/{segments[-1]}"
    tail = (f"?{parts.query}" if parts.query else "") + (
        f"#{parts.fragment}" if parts.fragment else "")
    return f"{parts.netloc}/{path}{tail}"


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def rule_json(rule: Rule, cloud: Cloud) -> dict[str, Any]:
    since, until = rule.period(cloud)
    return {"reason": str(rule.reason), "family": str(rule.family) if rule.family else None,
            "status": str(rule.status), "version": rule.version, "since": _day(since),
            "until": _day(until), "fact": rule.fact, "url": rule.url, "note": rule.note or None}


def change_json(change: Change, cloud: Cloud) -> dict[str, Any]:
    """A change in one cloud: its rollout, and the rule versions it begins and ends there."""
    rollout = change.rollout(cloud)
    return {"name": change.name, "title": change.title, "notice": change.notice,
            "url": change.url, "effective": _day(change.effective(cloud)),
            "rollout": {"start": _day(rollout.start), "end": _day(rollout.end)},
            "effect": change.effect or None,
            "began": [rule_json(r, cloud) for r in RULE_BOOK
                      if r.since is change and cloud in r.clouds],
            "ended": [rule_json(r, cloud) for r in RULE_BOOK
                      if r.until is change and cloud in r.clouds]}


def changes_between(start: date, end: date, cloud: Cloud) -> list[Change]:
    """The changes that take effect in `cloud` after `start`, up to and including `end`: every
    rule version beginning or ending in that window is dated by one of them."""
    return sorted((c for c in CHANGES if start < c.effective(cloud) <= end),
                  key=lambda c: c.effective(cloud))


def _cells(row: dict[str, Any], columns: tuple[str, ...]) -> list[str]:
    return [short_url(row[c]) if c == "url" else str(row[c] or "-") for c in columns]


def _in_force(args: argparse.Namespace) -> int:
    book = read_rule_book(args.as_of, args.cloud)
    rows = [rule_json(r, book.cloud) for r in book.in_force()]
    if args.json:
        print(json.dumps({"asOf": _day(book.as_of), "cloud": str(book.cloud), "rules": rows},
                         indent=2))
        return 0
    counts = ", ".join(f"{n} {status}" for status in Status
                       if (n := sum(r["status"] == status for r in rows)))
    print(f"The rule book as of {book.as_of} in the {book.cloud} cloud: {len(rows)} rules "
          f"({counts})")
    print("\n".join(aligned(COLUMNS, [_cells(r, COLUMNS) for r in rows])))
    return 0


def _changes(args: argparse.Namespace) -> int:
    if args.as_of is not None:
        raise UsageError("--as-of and --changes do not go together (--changes FROM TO names "
                         "its own days)")
    start, end = (read_day(text, "--changes") for text in args.changes)
    if start > end:
        raise UsageError(f"--changes {start} {end}: FROM is after TO")
    cloud = read_cloud(args.cloud)
    changes = [change_json(c, cloud) for c in changes_between(start, end, cloud)]
    if args.json:
        print(json.dumps({"from": _day(start), "to": _day(end), "cloud": str(cloud),
                          "changes": changes}, indent=2))
        return 0
    print(f"Changes in the {cloud} cloud after {start}, up to {end}: "
          f"{len(changes) or 'none'}")
    for change in changes:
        rollout = change["rollout"]
        print(f"\n{change['effective']}  {change['title']}")
        print(f"  {change['notice']} {change['url']}")
        print(f"  rollout {rollout['start']} to {rollout['end']}; decided as in effect from "
              f"{change['effective']}")
        if change["effect"]:
            print(f"  effect: {change['effect']}")
        rows = [[event, *_cells(r, CHANGE_COLUMNS[1:])]
                for event in ("began", "ended") for r in change[event]]
        lines = aligned(CHANGE_COLUMNS, rows) if rows else ["(dates no rule version)"]
        print("\n".join(f"  {line}" for line in lines))
    return 0


def run(args: argparse.Namespace) -> int:
    return _changes(args) if args.changes else _in_force(args)
