"""The built-in profiles are authenticator files: each loads, through the one loader every file
goes through, to exactly the record it was as Python (the snapshot taken when they moved)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from pkconf.authenticators.files import BUILTIN, builtin_profiles, read_authenticator_file
from pkconf.authenticators.profiles import PROFILES, Profile

# Every built-in Profile as it was a Python record in profiles.py, before the move to files.
SNAPSHOT = Path(__file__).with_name("builtin_profiles_before.json")


def canonical(profile: Profile) -> dict[str, Any]:
    """The record as JSON would hold it: sets sorted, enums as their values."""
    fields = asdict(profile)
    spec = profile.attestation
    fields["attestation"] = {"fmt": spec.fmt, "vendor": spec.vendor,
                             "defect": spec.defect and spec.defect.value}
    fields["client"] = [profile.client.name, profile.client.user_agent]
    fields["quirks"] = sorted(q.value for q in profile.quirks)
    fields["assumed"] = sorted(profile.assumed)
    return json.loads(json.dumps(fields))


def test_the_builtin_profiles_are_the_records_they_were_in_order() -> None:
    before = json.loads(SNAPSHOT.read_text())
    assert list(PROFILES) == [p["name"] for p in before]
    assert [canonical(p) for p in PROFILES.values()] == before


@pytest.mark.parametrize("source", sorted(BUILTIN.glob("*.toml")), ids=lambda p: p.stem)
def test_each_builtin_file_loads_through_the_file_loader_to_its_profile(source: Path) -> None:
    loaded = read_authenticator_file(source)
    (profile,) = loaded.profiles.values()
    assert profile == PROFILES[profile.name]
    assert source.name.partition("-")[2] == f"{profile.name}.toml"


def test_the_builtin_directory_is_all_of_the_profiles() -> None:
    assert builtin_profiles() == PROFILES
    assert len(list(BUILTIN.glob("*.toml"))) == len(PROFILES)
