"""An impact in the four forms it is read in: a terminal table, Markdown for the pull request
that changes the policy, JSON for tools, and one self-contained HTML page."""

from __future__ import annotations

import html
import json
from collections.abc import Callable

from ..report.columns import aligned
from .impact import Impact, Row

HEAD = ("change", "profile", "path", "now", "proposed", "users", "groups", "who")
CAP = 10  # named users per row unless --all


def _cells(row: Row, cap: int | None) -> list[str]:
    shown = row.users[:cap]
    more = len(row.users) - len(shown)
    who = ", ".join(shown) + (f" (+{more} more)" if more else "")
    groups = ", ".join(f"{g}: {n}" for g, n in row.groups.items()) or "-"
    return [str(row.change), row.profile, row.path, str(row.before), str(row.after),
            str(len(row.users)), groups, who]


def _headline(impact: Impact) -> str:
    book = impact.book
    day = f" as of {book.as_of} in {book.cloud}" if book else ""
    return (f"{impact.users} users in {impact.classes} classes x {len(impact.profiles)} "
            f"profiles x 2 paths{day}: {len(impact.registration)} registration changes, "
            f"{len(impact.sign_in)} sign-in changes for passkeys already registered")


def _notes(impact: Impact) -> list[str]:
    notes = [f"profile {p} was not decided: {why}" for p, why in impact.skipped.items()]
    if impact.unmatched:
        notes.append(f"{len(impact.unmatched)} users with registered passkeys are not in the "
                     f"directory: {', '.join(impact.unmatched[:CAP])}")
    return notes


def table(impact: Impact, cap: int | None) -> str:
    lines = [_headline(impact), ""]
    for title, rows in (("Registration", impact.registration),
                        ("Sign-in with passkeys already registered", impact.sign_in)):
        lines.append(f"{title}:")
        lines += (["  " + line for line in aligned(HEAD, [_cells(r, cap) for r in rows])]
                  if rows else ["  no change"])
        lines.append("")
    return "\n".join([*lines, *_notes(impact)]).rstrip() + "\n"


def markdown(impact: Impact, cap: int | None) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["## Passkey policy impact", "", _headline(impact), ""]
    for title, rows in (("Registration", impact.registration),
                        ("Sign-in with passkeys already registered", impact.sign_in)):
        lines += [f"### {title}", ""]
        if rows:
            lines += ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
            lines += ["| " + " | ".join(cell(c) for c in _cells(r, cap)) + " |" for r in rows]
        else:
            lines.append("No change.")
        lines.append("")
    return "\n".join([*lines, *(f"- {n}" for n in _notes(impact))]).rstrip() + "\n"


def as_json(impact: Impact, cap: int | None) -> str:
    return json.dumps(impact.to_json(cap), indent=2) + "\n"


_STYLE = ("body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
          "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
          "th{background:#f3f3f3}.blocked{background:#fde2e1}.allowed{background:#e3f6e5}"
          ".reason-changed{background:#fff5d6}")


def page(impact: Impact, cap: int | None) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Passkey policy impact"
             f"</title><style>{_STYLE}</style></head><body><h1>Passkey policy impact</h1>",
             f"<p>{html.escape(_headline(impact))}</p>"]
    for title, rows in (("Registration", impact.registration),
                        ("Sign-in with passkeys already registered", impact.sign_in)):
        parts.append(f"<h2>{title}</h2>")
        if not rows:
            parts.append("<p>No change.</p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in HEAD) + "</tr>")
        parts += [f"<tr class='{r.change}'>" + "".join(
            f"<td>{html.escape(c)}</td>" for c in _cells(r, cap)) + "</tr>" for r in rows]
        parts.append("</table>")
    parts += [f"<p>{html.escape(n)}</p>" for n in _notes(impact)]
    return "".join(parts) + "</body></html>\n"


FORMATS: dict[str, Callable[[Impact, int | None], str]] = {
    "table": table, "markdown": markdown, "json": as_json, "html": page}
