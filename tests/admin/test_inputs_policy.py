"""A policy reads from what admins export: the fido2 configuration or the whole methods policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pkconf.inputs import UsageError, read_policy
from tests.tenant.builders import make_policy

SMS = {"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "id": "Sms",
       "state": "enabled"}


def _write(tmp_path: Path, obj: object) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(obj))
    return path


@pytest.mark.parametrize("marker", [{"id": "Fido2"}, {"id": "other"}], ids=["by-id", "by-type"])
def test_the_whole_methods_policy_yields_its_fido2_entry(tmp_path, marker):
    fido2 = {**make_policy(state="disabled"), **marker}
    whole = {"id": "authenticationMethodsPolicy",
             "authenticationMethodConfigurations": [SMS, fido2]}
    assert not read_policy(_write(tmp_path, whole)).enabled


@pytest.mark.parametrize(("obj", "message"), [
    ({"authenticationMethodConfigurations": [SMS]}, "has no fido2 entry"),
    ({"authenticationMethodConfigurations": {}}, "must be an array"),
    ({"authenticationMethodConfigurations": [SMS, {**make_policy(), "state": 3}]},
     "$.authenticationMethodConfigurations[1].state"),
    ([[[]]], "$: must be an object"),
])
def test_a_bad_methods_policy_names_the_file_and_json_path(tmp_path, obj, message):
    path = _write(tmp_path, obj)
    with pytest.raises(UsageError) as e:
        read_policy(path)
    assert message in str(e.value) and str(path) in str(e.value)
    assert "\n" not in str(e.value)


def test_a_deeply_nested_file_is_one_line_not_a_recursion_error(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(UsageError, match="nests too deeply"):
        read_policy(path)
