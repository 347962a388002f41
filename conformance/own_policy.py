"""`--policy`: every profile decided under an admin's own policy, for each kind of user it meets.

There is nothing to compare with, so the decisions are recorded and shown (accepted or rejected,
family, reason) per user class and profile, never as a bare "passed". A real export targets
group ids; the emulator's scenario creates one fresh group per target id and names it by that id,
so a user whose `groups` hold the same ids is a member of exactly the groups the policy targets.
Every input is read up front: a bad file is one `UsageError` line, never a traceback per case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from pkconf.admin.directory import (
    UserClass,
    load_directory,
    policy_targets,
    user_classes_from_policy,
)
from pkconf.authenticators.files import (
    AuthenticatorFile,
    ProfileError,
    is_authenticator_file,
    read_authenticator_file,
)
from pkconf.authenticators.profiles import PROFILES, Profile
from pkconf.inputs import UsageError, fido2_configuration, parse_user, read_json, read_policy
from pkconf.tenant.decision import Decision, UserContext
from pkconf.tenant.policy import Fido2Policy

from .cases import CEREMONIES as ALL_CEREMONIES
from .cases import DEFAULT_USER, Case, Expectation, Source, Verdict, load_users

AREA = "own-policy"
EPIC = "own policy"  # the Allure epic: own-policy decisions apart from the suite's families
CEREMONIES = ("ctap", "graph")  # self-service and admin provisioning
SOURCE = Source("the admin's own policy", "", "undocumented")


class RunProfiles(NamedTuple):
    """--profile as a run reads it: the authenticator files and their profiles by case name."""

    files: list[AuthenticatorFile]  # their MDS entries join the emulator's metadata
    profiles: dict[str, Profile]  # `<name>@<path>`, or the file's name when it declares one


def read_run_profiles(values: Sequence[str] | None, policy: str | None) -> RunProfiles:
    """Every --profile value checked up front (an unknown name or a bad file is one
    `UsageError` line, not an empty run), and each file's profiles named per platform path,
    so one file yields a case per declared path. A file runs under --policy only: the
    explicit cases are written for the built-in profiles and would expect nothing of it."""
    files: list[AuthenticatorFile] = []
    profiles: dict[str, Profile] = {}
    for value in values or ():
        if not is_authenticator_file(value):
            if value not in PROFILES:
                raise UsageError(f"--profile: unknown profile {value!r}; `pkconf "
                                 "authenticators` lists them, or give an authenticator file")
            continue
        try:
            loaded = read_authenticator_file(value)
        except ProfileError as e:
            raise UsageError(f"--profile: {e}") from None
        if not policy:
            raise UsageError(f"--profile {value}: an authenticator file runs under your own "
                             "policy: add --policy P.json")
        files.append(loaded)
        name = loaded.profile.name
        single = len(loaded.profiles) == 1
        profiles.update({name if single else f"{name}@{path}": profile
                         for path, profile in loaded.profiles.items()})
    return RunProfiles(files, profiles)


class PolicyUser(NamedTuple):
    """One class of user the policy is decided for, as the reports label it."""

    label: str
    user: UserContext


def read_own_policy(path: str) -> tuple[Fido2Policy, dict[str, Any]]:
    """The policy as read, and the fido2 configuration the scenario lays out; an invalid one is
    refused here with its JSON paths, not by the emulator once per case."""
    policy = read_policy(path)
    config = fido2_configuration(read_json(path, "policy"))[0]
    assert isinstance(config, dict)  # read_policy has parsed it as an object
    return policy, config


def describe(user: UserContext, users: int | None = None,
             names: Mapping[str, str] | None = None) -> str:
    """`Member in <group>, <group> (12 users)`: the type and groups (display names where
    known) that decide the policy's scope, and how many users the class stands for."""
    groups = ", ".join(sorted((names or {}).get(g, g) for g in user.groups)) or "no group"
    count = "" if users is None else f" ({users} user{'' if users == 1 else 's'})"
    return f"{user.user_type} in {groups}{count}"


def read_user(path: str) -> PolicyUser:
    """--user: USER.json as given (its sign-in state too); the scenario makes a fresh user, so
    an `id` (which `verify` uses) is dropped."""
    try:
        user = replace(parse_user(read_json(path, "user")), user_id="")
    except UsageError as e:
        raise UsageError(f"--user {path}: {e}") from None
    return PolicyUser(f"{Path(path).name}: {describe(user)}", user)


def _signed_in(cls: UserClass) -> UserContext:
    """A class member as the suite's default user signs in (fresh MFA): a directory says who
    is in which group, not how they sign in."""
    return replace(load_users()[DEFAULT_USER], user_type=cls.user_type, groups=cls.groups)


def policy_users(policy: Fido2Policy, user_file: str | None,
                 directory: str | None) -> list[PolicyUser]:
    """Whom a run decides the policy for: the --user, each class of the --directory that the
    policy's targets tell apart, else the classes the targets name (each target group alone,
    any other member, a guest), so a group-targeted policy is not only USER_NOT_TARGETED."""
    if user_file and directory:
        raise UsageError("--user and --directory: give one or the other")
    if user_file:
        return [read_user(user_file)]
    if directory:
        tenant = load_directory(directory)
        return [PolicyUser(describe(user := _signed_in(cls), len(cls), tenant.group_names), user)
                for cls in tenant.user_classes(policy_targets([policy]))]
    return [PolicyUser(cls.label, _signed_in(cls)) for cls in user_classes_from_policy([policy])]


def own_policy_cases(path: str, user_file: str | None = None, directory: str | None = None,
                     files: Mapping[str, Profile] | None = None) -> list[Case]:
    """Every profile × ceremony × user class against the policy at `path`, to be recorded.
    Authenticator files' profiles (`read_run_profiles`) join under every ceremony, the
    browser's included: a vendor asks about its own key on each path it is used from."""
    policy, config = read_own_policy(path)
    name = Path(path).name
    runs: list[tuple[str, Profile | None, Sequence[str]]] = [
        (profile, None, CEREMONIES) for profile, kind in PROFILES.items() if not kind.test_only]
    runs += [(profile, record, ALL_CEREMONIES) for profile, record in (files or {}).items()]
    return [Case(case_id=f"OWN-{i:03d}", area=AREA,
                 title=f"{profile} under {name} for {who.label}", policy_name=name,
                 policy=config, user=who.user, user_name=who.label, profile=profile,
                 ceremony=ceremony, expect=Expectation(Verdict.RECORDED, None, ""),
                 source=SOURCE, from_file=record)
            for i, who in enumerate(policy_users(policy, user_file, directory), start=1)
            for profile, record, ceremonies in runs
            for ceremony in ceremonies]


def headline(decision: Decision) -> str:
    """`rejected policy_scope USER_NOT_TARGETED` or `accepted ACCEPTED`: how a decision is
    named wherever it stands in for a test's pass (titles, pytest's status, properties)."""
    family = decision.family.value if decision.family else ""
    return " ".join(x for x in (decision.outcome.value, family, decision.reason.value) if x)
