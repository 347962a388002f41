"""Signing in with a Temporary Access Pass: shared by the emulator's control and the pages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .http import GraphError, json_field
from .store import Store, Tap

SIGN_IN_METHODS = ("password", "mfa", "tap")  # no passwords are checked: any sign-in succeeds


def tap_sign_in(store: Store, user_id: str, body: Mapping[str, Any], at: datetime) -> Tap:
    """The pass a TAP sign-in uses, after its checks; a one-time pass is spent here.

    Shared by the emulator's sign-in control and the Security-info sign-in page.
    """
    tap = store.tap_by_pass(user_id, json_field(body, "temporaryAccessPass", str, required=True))
    if tap is None:
        raise GraphError(401, "unauthenticated", "the Temporary Access Pass is not valid "
                                                 "for this user")
    reason = tap.usability(at)
    if reason == "EnabledByPolicy" and tap.is_usable_once and not store.use_tap(tap.id):
        reason = "OneTimeUsed"  # consumed by a concurrent sign-in
    if reason != "EnabledByPolicy":
        raise GraphError(401, "unauthenticated",
                         f"the Temporary Access Pass is not usable: {reason}")
    return tap
