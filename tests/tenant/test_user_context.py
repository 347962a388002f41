"""The one user vocabulary: `UserContext.from_json` reads USER.json, users.toml and scenarios."""

from __future__ import annotations

from typing import Any

import pytest

from pkconf.tenant.decision import (
    WHFB_AAGUID,
    ExistingCredential,
    TemporaryAccessPass,
    UserContext,
    UserJsonError,
    UserType,
)
from pkconf.tenant.rules import WINDOWS_HELLO_AAGUIDS


def test_absent_keys_are_a_member_without_groups_mfa_or_tap() -> None:
    """TOML has no null: leaving mfaAgeSeconds and tap out is how a users.toml table says it."""
    assert UserContext.from_json({}) == UserContext.from_json(
        {"userType": "Member", "groups": [], "mfaAgeSeconds": None, "tap": None}) == UserContext()


def test_absent_bootstrap_blockers_keep_older_user_files_as_they_were() -> None:
    """In the TAP policy, out of the registration interrupt, no unmet Conditional Access."""
    assert UserContext.from_json({}) == UserContext.from_json(
        {"inTapPolicy": True, "registrationInterrupt": False, "conditionalAccessUnmet": False})


def test_a_full_user_reads_and_writes_back_the_same_json() -> None:
    obj = {"id": "u1", "userType": "Guest", "groups": ["a", "b"], "mfaAgeSeconds": 60.0,
           "tap": {"isUsableOnce": True, "ageSeconds": 120.0}, "windowsHelloForBusiness": True,
           "inTapPolicy": False, "registrationInterrupt": True, "conditionalAccessUnmet": True}
    user = UserContext.from_json(obj)
    assert (user.user_id, user.user_type, user.groups, user.mfa_age_seconds, user.tap) == (
        "u1", UserType.GUEST, {"a", "b"}, 60.0, TemporaryAccessPass(True, 120.0))
    assert (user.in_tap_policy, user.registration_interrupt, user.conditional_access_unmet) == (
        False, True, True)
    assert user.to_json() == obj


def test_windows_hello_for_business_is_the_existing_credential_the_engine_reads() -> None:
    user = UserContext.from_json({"windowsHelloForBusiness": True})
    assert user.existing_credentials == (ExistingCredential(b"", WHFB_AAGUID, True),)
    assert WHFB_AAGUID in WINDOWS_HELLO_AAGUIDS


AGE_PROBLEM = "user.mfaAgeSeconds must be a number from 0 to 3153600000, or null"


@pytest.mark.parametrize(("obj", "message"), [
    ([], "user must be a JSON object"),
    ({"userType": "Admin"}, "user.userType must be Member or Guest, not 'Admin'"),
    ({"groups": "pilots"}, "user.groups must be a list"),
    ({"id": 7}, "user.id must be a string"),
    ({"mfaAgeSeconds": "recent"}, AGE_PROBLEM),
    ({"mfaAgeSeconds": -1}, AGE_PROBLEM),
    ({"mfaAgeSeconds": True}, AGE_PROBLEM),
    ({"mfaAgeSeconds": 1e300}, AGE_PROBLEM),
    ({"platformCredentials": 10**20},
     "user.platformCredentials must be an integer from 0 to 2147483647"),
    ({"tap": {"isUsableOnce": True}}, "user.tap.ageSeconds is required"),
    ({"tap": {"ageSeconds": 3}}, "user.tap must be null or {isUsableOnce: bool, ageSeconds}"),
    ({"tap": {"isUsableOnce": True, "ageSeconds": 3, "once": 1}}, "user.tap.once is unknown"),
    ({"windowsHelloForBusiness": "yes"}, "user.windowsHelloForBusiness must be true or false"),
    ({"inTapPolicy": 1}, "user.inTapPolicy must be true or false"),
    ({"registrationInterrupt": None}, "user.registrationInterrupt must be true or false"),
    ({"conditionalAccessUnmet": "no"}, "user.conditionalAccessUnmet must be true or false"),
    ({"mfa_age": 60}, "user.mfa_age is unknown"),
])
def test_bad_user_json_names_its_json_path_in_one_line(obj: Any, message: str) -> None:
    with pytest.raises(UserJsonError) as error:
        UserContext.from_json(obj)
    assert message in str(error.value) and "\n" not in str(error.value)
