"""A tenant's users and passkeys, read from the files admins already export.

Users and their groups (`load_directory`), in any mix of these shapes:

- Graph users pages, `GET /users?$select=id,userPrincipalName,userType&$expand=
  transitiveMemberOf($select=id)`: `{"value": [{"id", "userPrincipalName", "userType",
  "transitiveMemberOf": [{"id"}]}], "@odata.nextLink"?}` (`memberOf` is read the same);
- Graph groups with members, `GET /groups?$expand=members`: `{"value": [{"id", "displayName",
  "members": [{"id", "userPrincipalName", "userType"}]}]}`;
- an EffectivePasskey snapshot folder: `users.json` and `groups.json`, each an array (or a
  `value` page) of the same users and groups, where a user may list its group ids as `groups`
  and a group its members as ids. Its `policy.json` is a policy: pass it as `--current`.

DIRECTORY is one file or a folder of `*.json` pages (`@odata.nextLink` is not followed: every
page in the folder is read; a folder with `users.json` or `groups.json` is a snapshot and only
those are read). Membership is the union of what users and groups say.

Registered passkeys (`load_registered`): one JSON object, `{"<user id or UPN>": [fido2Method,
...]}` (a `{"value": [...]}` page in place of the array is read too), or a folder of
`<user id or UPN>.json` files, each the page `GET /users/{id}/authentication/fido2Methods`
answers. A fido2Method is read for `aaGuid`, `model`, `attestationLevel`, `passkeyType` and
`createdDateTime`; everything else Graph adds is ignored.

Every problem is a `UsageError` naming the file and the JSON path: one line, exit 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

from ..inputs import UsageError, read_json
from ..tenant.decision import UserType
from ..tenant.policy import ALL_USERS, Fido2Policy


@dataclass(frozen=True)
class DirectoryUser:
    id: str
    upn: str
    user_type: UserType
    groups: frozenset[str]

    @property
    def name(self) -> str:
        return self.upn or self.id


@dataclass(frozen=True)
class UserClass:
    """Users the policy cannot tell apart: the same relevant groups and the same user type,
    so one decision holds for all of them."""

    groups: frozenset[str]
    user_type: UserType
    users: tuple[str, ...]  # names (UPN, else id)
    label: str = ""  # for classes derived from a policy: what the class stands for

    def __len__(self) -> int:
        return len(self.users)


@dataclass
class Directory:
    users: dict[str, DirectoryUser]  # by id
    group_names: dict[str, str] = field(default_factory=dict)  # id -> displayName

    def user_classes(self, relevant: Iterable[str] | None = None) -> list[UserClass]:
        """Users grouped by their groups and type; with `relevant` (the ids the policies
        target), only those groups tell users apart, and a user targeted by id is a class of
        their own."""
        keep = None if relevant is None else frozenset(relevant)
        classes: dict[tuple[frozenset[str], UserType], list[str]] = {}
        for user in self.users.values():
            groups = user.groups if keep is None else (user.groups | {user.id}) & keep
            classes.setdefault((groups, user.user_type), []).append(user.name)
        return [UserClass(g, t, tuple(sorted(names)))
                for (g, t), names in sorted(classes.items(), key=lambda kv: (
                    sorted(kv[0][0]), kv[0][1]))]

    def find(self, key: str) -> DirectoryUser | None:
        """A user by id or UPN (UPNs compare case-insensitively, as Entra's do)."""
        return self.users.get(key) or self._by_upn.get(key.lower())

    @cached_property
    def _by_upn(self) -> dict[str, DirectoryUser]:
        return {u.upn.lower(): u for u in self.users.values() if u.upn}


def policy_targets(policies: Iterable[Fido2Policy]) -> set[str]:
    """Every id the policies include or exclude, all_users aside."""
    return {t.id for p in policies for t in (*p.include_targets, *p.exclude_targets)
            if t.id != ALL_USERS}


def user_classes_from_policy(policies: Iterable[Fido2Policy]) -> list[UserClass]:
    """Without a directory, the classes the policies themselves name: a member of each target
    group alone, a member of no group (all users), and a guest."""
    classes = [UserClass(frozenset({gid}), UserType.MEMBER, (f"[member of {gid}]",),
                         f"member of {gid}") for gid in sorted(policy_targets(policies))]
    return [*classes,
            UserClass(frozenset(), UserType.MEMBER, ("[any other member]",), "any other member"),
            UserClass(frozenset(), UserType.GUEST, ("[guest]",), "guest")]


# --- reading -------------------------------------------------------------------------------------

_USER_TYPES = {kind.value: kind for kind in UserType}


class _File:
    """One JSON file being read: every problem names it and the JSON path."""

    def __init__(self, path: Path, what: str):
        self.path = path
        self.what = what
        self.root = read_json(path, what)

    def fail(self, where: str, problem: str) -> NoReturn:
        raise UsageError(f"{self.what} {self.path}: {where}: {problem}")

    def items(self, obj: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The objects of an array, or of a Graph page's `value` array."""
        if isinstance(obj, dict) and "value" in obj:
            obj, where = obj["value"], f"{where}.value"
        if not isinstance(obj, list):
            self.fail(where, "must be an array or a page {\"value\": [...]}")
        for i, item in enumerate(obj):
            if not isinstance(item, dict):
                self.fail(f"{where}[{i}]", "must be an object")
            yield f"{where}[{i}]", item

    def text(self, obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
        value = obj.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value):
            self.fail(f"{where}.{key}", "must be a non-empty string" if required
                      else "must be a string or null")
        return value

    def user_type(self, obj: dict[str, Any], where: str) -> UserType:
        value = obj.get("userType") or UserType.MEMBER  # Graph leaves it null for some users
        kind = _USER_TYPES.get(value) if isinstance(value, str) else None
        if kind is None:
            self.fail(f"{where}.userType", f"must be Member or Guest, not {str(value)[:40]!r}")
        return kind

    def ids(self, obj: dict[str, Any], keys: tuple[str, ...], where: str) -> list[str]:
        """Ids listed under any of `keys`, as strings or as objects with an `id`. A tenant's
        export lists hundreds of thousands: they are checked as a whole, and the first problem
        is looked for, with its JSON path, only when there is one."""
        found: list[str] = []
        for key in keys:
            if obj.get(key) is None:
                continue
            items = _array(self, obj[key], f"{where}.{key}")
            ids: list[Any] = [item.get("id") if type(item) is dict else item for item in items]
            if set(map(type, ids)) <= {str} and "" not in ids:
                found += ids
                continue
            for i, item in enumerate(items):  # says what is wrong, and where
                at = f"{where}.{key}[{i}]"
                if not (isinstance(item, str) and item):
                    self.text(_object(self, item, at), "id", at, required=True)
        return found


def _array(f: _File, value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        f.fail(where, "must be an array")
    return value


def _object(f: _File, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        f.fail(where, "must be an object or an id")
    return value


def _json_files(path: Path, what: str) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise UsageError(f"{what} folder {path} holds no *.json file")
        return files
    if not path.exists():
        raise UsageError(f"cannot read {what} {path}: no such file or folder")
    return [path]


_MEMBERSHIP_KEYS = ("transitiveMemberOf", "memberOf", "groups")
SNAPSHOT_FILES = ("users.json", "groups.json")  # an EffectivePasskey snapshot: only these


class _Builder:
    """Users and memberships gathered across files, merged by user id."""

    def __init__(self) -> None:
        self.users: dict[str, tuple[str, UserType]] = {}
        self.groups: dict[str, set[str]] = {}
        self.names: dict[str, str] = {}

    def user(self, f: _File, item: dict[str, Any], where: str) -> str:
        uid = f.text(item, "id", where, required=True)
        upn = f.text(item, "userPrincipalName", where)
        known = self.users.get(uid)
        if known is None or (upn and not known[0]) or "userType" in item:
            self.users[uid] = (upn or (known[0] if known else ""), f.user_type(item, where))
        self.groups.setdefault(uid, set()).update(f.ids(item, _MEMBERSHIP_KEYS, where))
        return uid

    def group(self, f: _File, item: dict[str, Any], where: str) -> None:
        gid = f.text(item, "id", where, required=True)
        if name := f.text(item, "displayName", where):
            self.names[gid] = name
        for i, member in enumerate(_array(f, item["members"], f"{where}.members")):
            at = f"{where}.members[{i}]"
            if isinstance(member, str) and member:
                self.users.setdefault(member, ("", UserType.MEMBER))
                uid = member
            else:
                member = _object(f, member, at)
                if member.get("@odata.type", "#microsoft.graph.user") != "#microsoft.graph.user":
                    continue  # nested groups, devices, service principals: not users
                uid = self.user(f, member, at)
            self.groups.setdefault(uid, set()).add(gid)

    def directory(self) -> Directory:
        return Directory({uid: DirectoryUser(uid, upn, kind, frozenset(self.groups.get(uid, ())))
                          for uid, (upn, kind) in self.users.items()}, self.names)


def load_directory(path: str | Path) -> Directory:
    """Users with their type and groups, from one file or a folder of pages (module doc)."""
    path = Path(path)
    snapshot = [path / name for name in SNAPSHOT_FILES if (path / name).is_file()]
    built = _Builder()
    for file in snapshot if path.is_dir() and snapshot else _json_files(path, "directory"):
        f = _File(file, "directory")
        for where, item in f.items(f.root, "$"):
            if "members" in item:
                built.group(f, item, where)
            else:
                built.user(f, item, where)
    return built.directory()


@dataclass(frozen=True)
class RegisteredPasskey:
    """A passkey a user already has, as Graph lists it (fido2AuthenticationMethod)."""

    aaguid: str
    model: str
    attestation_level: str
    passkey_type: str  # deviceBound | synced | "" when Graph did not say
    created: str


def _passkeys(f: _File, obj: Any, where: str) -> tuple[RegisteredPasskey, ...]:
    return tuple(RegisteredPasskey(
        aaguid=f.text(item, "aaGuid", at, required=True).lower(),
        model=f.text(item, "model", at),
        attestation_level=f.text(item, "attestationLevel", at),
        passkey_type=f.text(item, "passkeyType", at),
        created=f.text(item, "createdDateTime", at),
    ) for at, item in f.items(obj, where))


def load_registered(path: str | Path) -> dict[str, tuple[RegisteredPasskey, ...]]:
    """Registered passkeys by user id or UPN, from one file or a folder (module doc)."""
    path = Path(path)
    found: dict[str, tuple[RegisteredPasskey, ...]] = {}
    if path.is_dir():
        for file in _json_files(path, "registered passkeys"):
            f = _File(file, "registered passkeys")
            found[file.stem] = _passkeys(f, f.root, "$")
        return found
    f = _File(path, "registered passkeys")
    if not isinstance(f.root, dict):
        f.fail("$", 'must be an object {"<user id or UPN>": [fido2Method, ...]}')
    for user, methods in f.root.items():
        found[user] = _passkeys(f, methods, f"$[{user!r}]")
    return found
