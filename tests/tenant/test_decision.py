"""A decision's JSON: the exact shape the emulator sends, and read back once where it arrives."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from pkconf.tenant.decision import Decision, DecisionFormatError, Outcome, UserContext
from pkconf.tenant.rules import Cloud, Reason, Status, rule

from .builders import make_response, run

YUBIKEY_5 = "cb69481e-8ff7-4039-93ec-0a2729a154a8"


def _decision(reason: Reason, **kw: Any) -> Decision:
    outcome = Outcome.ACCEPTED if reason is Reason.ACCEPTED else Outcome.REJECTED
    return Decision(outcome, reason, f"why {reason}", aaguid=YUBIKEY_5, passkey_type="synced",
                    attestation_format="packed", attestation_level="notAttested", **kw)


def _over_the_wire(decision: Decision) -> Any:
    return json.loads(json.dumps(decision.to_json()))


@pytest.mark.parametrize("reason", list(Reason))
def test_a_decision_survives_its_json_round_trip(reason: Reason) -> None:
    decision = _decision(reason, matched_profiles=("p1", "p2") if reason is Reason.ACCEPTED
                         else (), profile_failures={} if reason is Reason.ACCEPTED
                         else {"p1": reason, "p2": Reason.AAGUID_BLOCKED})
    wire = _over_the_wire(decision)
    assert Decision.from_json(wire) == decision
    assert Decision.from_json(wire).to_json() == wire


def test_a_documented_rule_applied_on_an_inference_stays_inferred_over_the_wire() -> None:
    decision = _decision(Reason.TAP_EXPIRED, inferred=True)
    wire = _over_the_wire(decision)
    assert wire["source"]["status"] == "inferred"
    assert Decision.from_json(wire) == decision
    assert Decision.from_json(wire).status is Status.INFERRED


def test_the_engines_decisions_survive_their_json_round_trip() -> None:
    stale = UserContext(user_id="u1", mfa_age_seconds=3600)
    for decision in (run(), run(response=make_response(origin="https://evil.test")),
                     run(user=stale)):
        assert Decision.from_json(_over_the_wire(decision)) == decision


def test_the_json_shape_is_the_one_reports_read() -> None:
    """Field names, order and values: results, `--json` outputs and the page depend on them."""
    decision = _decision(Reason.TAP_EXPIRED, profile_failures={}, inferred=True)
    tap = rule(Reason.TAP_EXPIRED)
    assert json.dumps(decision.to_json()) == json.dumps({
        "outcome": "rejected", "family": "bootstrap", "reason": "TAP_EXPIRED",
        "detail": "why TAP_EXPIRED", "aaguid": YUBIKEY_5, "passkeyType": "synced",
        "attestationFormat": "packed", "attestationLevel": "notAttested",
        "matchedProfiles": [], "profileFailures": {},
        "source": {"rule": "TAP_EXPIRED", "fact": tap.fact, "url": tap.url,
                   "status": "inferred", "note": tap.note, "version": "original"},
        "asOf": None, "cloud": "worldwide",
    })


def test_a_dated_decision_names_its_day_cloud_and_rule_version() -> None:
    decision = replace(_decision(Reason.WINDOWS_HELLO_NOT_ALLOWED), as_of=date(2026, 6, 20),
                       cloud=Cloud.GCC, version="original")
    wire = decision.to_json()
    assert (wire["asOf"], wire["cloud"]) == ("2026-06-20", "gcc")
    assert wire["source"]["version"] == "original"
    assert wire["source"]["until"] == "2026-07-31"  # GA in the government clouds
    assert Decision.from_json(wire) == decision


def _changed(path: str, value: Any) -> Any:
    """The JSON of an AAGUID_BLOCKED rejection with one field replaced (or removed: ...)."""
    wire = _over_the_wire(_decision(Reason.AAGUID_BLOCKED,
                                    profile_failures={"p1": Reason.AAGUID_BLOCKED}))
    *parents, key = path.split(".")
    target = wire
    for parent in parents:
        target = target[parent]
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return wire


@pytest.mark.parametrize(("wire", "field"), [
    (_changed("reason", "AAGUID_BANNED"), "reason"),
    (_changed("reason", None), "reason"),
    (_changed("reason", "ACCEPTED"), "reason"),
    (_changed("outcome", "client-error"), "outcome"),
    (_changed("detail", ...), "detail"),
    (_changed("detail", 7), "detail"),
    (_changed("aaguid", ...), "aaguid"),
    (_changed("aaguid", 1), "aaguid"),
    (_changed("family", "ceremony"), "family"),
    (_changed("family", ...), "family"),
    (_changed("matchedProfiles", "p1"), "matchedProfiles"),
    (_changed("matchedProfiles", [1]), "matchedProfiles[0]"),
    (_changed("profileFailures", {"p1": "NOPE"}), "profileFailures.p1"),
    (_changed("source", None), "source"),
    (_changed("source.status", "guessed"), "source.status"),
    (_changed("source.url", "https://example.test"), "source"),
    (_changed("verdict", "accepted"), "verdict"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_json_that_is_no_decision_is_refused_naming_the_field(wire: Any, field: str) -> None:
    with pytest.raises(DecisionFormatError) as refused:
        Decision.from_json(wire)
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")


@pytest.mark.parametrize("wire", [None, [], "ACCEPTED"])
def test_a_decision_is_a_json_object(wire: Any) -> None:
    with pytest.raises(DecisionFormatError, match=r"^decision: must be an object"):
        Decision.from_json(wire)
