"""Directories and registered passkeys read from admins' exports; bad files are one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pkconf.admin.directory import (
    load_directory,
    load_registered,
    user_classes_from_policy,
)
from pkconf.inputs import UsageError
from pkconf.tenant.decision import UserType
from pkconf.tenant.policy import parse_policy
from tests.tenant.builders import make_policy


def _user(uid: str, *groups: str, kind: str | None = "Member") -> dict[str, Any]:
    return {"id": uid, "userPrincipalName": f"{uid}@contoso.com", "userType": kind,
            "transitiveMemberOf": [{"@odata.type": "#microsoft.graph.group", "id": g}
                                   for g in groups]}


def _write(path: Path, obj: Any) -> Path:
    path.write_text(json.dumps(obj))
    return path


def test_users_with_the_same_groups_and_type_are_one_class(tmp_path):
    page = {"value": [_user("a", "g1", "g2"), _user("b", "g2", "g1"), _user("c", "g1"),
                      _user("d", "g1", "g2", kind="Guest"), _user("e", kind=None)]}
    classes = load_directory(_write(tmp_path / "users.json", page)).user_classes()
    assert {(c.groups, c.user_type): c.users for c in classes} == {
        (frozenset(), UserType.MEMBER): ("e@contoso.com",),
        (frozenset({"g1"}), UserType.MEMBER): ("c@contoso.com",),
        (frozenset({"g1", "g2"}), UserType.MEMBER): ("a@contoso.com", "b@contoso.com"),
        (frozenset({"g1", "g2"}), UserType.GUEST): ("d@contoso.com",),
    }


def test_only_the_groups_the_policy_targets_tell_users_apart(tmp_path):
    page = {"value": [_user("a", "g1", "noise1"), _user("b", "g1", "noise2"), _user("c")]}
    classes = load_directory(_write(tmp_path / "users.json", page)).user_classes({"g1", "c"})
    assert [(sorted(k.groups), len(k)) for k in classes] == [(["c"], 1), (["g1"], 2)]


def test_a_folder_of_pages_and_groups_with_members_merge(tmp_path):
    _write(tmp_path / "page1.json", {"value": [_user("a", "g1")],
                                     "@odata.nextLink": "https://graph.microsoft.com/next"})
    _write(tmp_path / "page2.json", {"value": [_user("b")]})
    _write(tmp_path / "page3-groups.json", {"value": [
        {"id": "g2", "displayName": "Pilots", "members": [
            {"id": "b", "userPrincipalName": "b@contoso.com", "userType": "Member"},
            {"@odata.type": "#microsoft.graph.device", "id": "dev1"}, "a"]}]})
    directory = load_directory(tmp_path)
    assert {u.id: sorted(u.groups) for u in directory.users.values()} == {
        "a": ["g1", "g2"], "b": ["g2"]}
    assert directory.group_names == {"g2": "Pilots"}


def test_an_effective_passkey_snapshot_folder_reads_users_and_groups(tmp_path):
    _write(tmp_path / "policy.json", make_policy())
    _write(tmp_path / "users.json", [{"id": "a", "userPrincipalName": "a@x", "userType": "Guest",
                                      "groups": ["g1"]}])
    _write(tmp_path / "groups.json", [{"id": "g2", "displayName": "Two", "members": ["a"]}])
    user = load_directory(tmp_path).find("A@X")
    assert user is not None and user.groups == {"g1", "g2"} and user.user_type is UserType.GUEST


def test_without_a_directory_the_policy_names_the_classes():
    policy = parse_policy(make_policy(excludeTargets=[{"id": "blocked", "targetType": "group"}]))
    assert [c.label for c in user_classes_from_policy([policy])] == [
        "member of blocked", "any other member", "guest"]


METHOD = {"aaGuid": "CB69481E-8FF7-4039-93EC-0A2729A154A8", "model": "YubiKey 5",
          "attestationLevel": "attested", "passkeyType": "deviceBound",
          "createdDateTime": "2026-01-01T00:00:00Z", "displayName": "ignored"}


@pytest.mark.parametrize("layout", ["file", "file-of-pages", "folder"])
def test_registered_passkeys_read_by_user(tmp_path, layout):
    if layout == "folder":
        _write(tmp_path / "a@x.json", {"value": [METHOD]})
        path = tmp_path
    else:
        methods: Any = {"value": [METHOD]} if layout == "file-of-pages" else [METHOD]
        path = _write(tmp_path / "registered.json", {"a@x": methods})
    (passkey,) = load_registered(path)["a@x"]
    assert passkey.aaguid == "cb69481e-8ff7-4039-93ec-0a2729a154a8"
    assert passkey.passkey_type == "deviceBound"


@pytest.mark.parametrize(("loader", "content", "where"), [
    (load_directory, "{not json", "is not JSON"),
    (load_directory, "[" * 100_000 + "]" * 100_000, "nests too deeply"),
    (load_directory, json.dumps({"value": {}}), "$.value: must be an array"),
    (load_directory, json.dumps([3]), "$[0]: must be an object"),
    (load_directory, json.dumps([{"userPrincipalName": "x"}]), "$[0].id: must be a non-empty"),
    (load_directory, json.dumps([{"id": "a", "userType": "Robot"}]), "$[0].userType"),
    (load_directory, json.dumps([{"id": "a", "transitiveMemberOf": [{"id": 7}]}]),
     "$[0].transitiveMemberOf[0].id"),
    (load_directory, json.dumps([{"id": "a", "memberOf": ["g1", {"id": "g2"}, ""]}]),
     "$[0].memberOf[2]: must be an object or an id"),
    (load_directory, json.dumps([{"id": "a", "groups": ["g1", 7]}]),
     "$[0].groups[1]: must be an object or an id"),
    (load_directory, json.dumps([{"id": "a", "groups": [{"id": "g1"}, {"id": ""}]}]),
     "$[0].groups[1].id: must be a non-empty string"),
    (load_directory, json.dumps([{"id": "a", "groups": "g1"}]), "$[0].groups: must be an array"),
    (load_directory, json.dumps([{"id": "g", "members": 5}]), "$[0].members: must be an array"),
    (load_registered, json.dumps([]), "$: must be an object"),
    (load_registered, json.dumps({"a": [{"model": "x"}]}), "$['a'][0].aaGuid"),
    (load_registered, json.dumps({"a": [{"aaGuid": "x", "model": 1}]}), "$['a'][0].model"),
])
def test_a_bad_input_is_one_line_naming_the_file_and_json_path(tmp_path, loader, content, where):
    path = tmp_path / "input.json"
    path.write_text(content)
    with pytest.raises(UsageError) as e:
        loader(path)
    message = str(e.value)
    assert where in message and str(path) in message and "\n" not in message


def test_a_missing_directory_is_one_line(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        load_directory(tmp_path / "nope")
