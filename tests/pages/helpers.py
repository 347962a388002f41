"""Laying out a page test's user through the emulator's scenario call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

FORM = {"content-type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class CaseUser:
    user_id: str
    upn: str
    token: str | None


def case_user(client: httpx.Client, **scenario: Any) -> CaseUser:
    """A fresh user, signed in as its `user` state says, from POST /_emulator/scenarios."""
    r = client.post("/_emulator/scenarios", json=scenario)
    assert r.status_code == 201, r.text
    answer = r.json()
    upn = client.get(f"/v1.0/users/{answer['userId']}").json()["userPrincipalName"]
    return CaseUser(answer["userId"], upn, answer["token"])
