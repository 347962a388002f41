"""The store's cheaper reads and writes (issue 13) answer as the plain ones did.

Parsed values are remembered by the stored text, so a change is seen at once; the clock is read
once per transaction but a set inside it is seen; a scenario's writes are all or none; a
challenge is consumed once; request ids are still version 4 UUIDs.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from pkconf.emulator.server import EmulatorServer
from pkconf.emulator.store import (
    BootstrapScope,
    Options,
    RuleBookSetting,
    Store,
    default_policy,
)
from pkconf.tenant.decision import UserType
from pkconf.tenant.rules import Cloud

from .helpers import Tenant

MOMENT = datetime(2027, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture
def store() -> Store:
    return Store()


def test_the_parsed_policy_is_reused_for_the_same_text_and_reparsed_after_a_save(
        store: Store) -> None:
    first = store.settings_and_policy()[1]
    assert store.settings_and_policy()[1] is first
    store.save_policy({**default_policy(), "state": "disabled"})
    assert store.settings_and_policy()[1].state == "disabled"
    store.reset()
    assert store.settings_and_policy()[1] == first


def test_settings_read_together_follow_every_change(store: Store) -> None:
    store.set_clock(MOMENT)
    store.set_rule_book(RuleBookSetting(date(2026, 1, 1), Cloud.WORLDWIDE))
    store.set_options(Options(page_size=7))
    settings = store.settings()
    assert (settings.now, settings.rule_book, settings.options) == (
        store.now(), store.rule_book(), store.options())
    assert (settings.now, settings.rule_book.as_of, settings.options.page_size) == (
        MOMENT, date(2026, 1, 1), 7)


def test_the_clock_is_read_once_per_transaction_but_a_set_inside_it_is_seen(
        store: Store) -> None:
    store.set_clock(MOMENT)
    with store.transaction():
        assert store.now() == MOMENT
        store.set_clock(MOMENT + timedelta(hours=1))
        assert store.now() == MOMENT + timedelta(hours=1)
    assert store.now() == MOMENT + timedelta(hours=1)


def test_a_failed_transaction_keeps_none_of_its_writes(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add_group("rolled back")
        store.add_user("gone@contoso.test", "Gone", UserType.MEMBER)
        raise RuntimeError("a write failed")
    assert (store.groups(), store.users()) == ([], [])


def test_a_scenario_whose_last_write_fails_leaves_nothing(
        emulator: EmulatorServer, tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    assert emulator.store is not None

    def broken(user_id: str, count: int) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(emulator.store, "set_platform_credentials", broken)
    # uvicorn closes the connection after an unhandled error's 500: not one to pool and reuse
    r = tenant.client.post("/_emulator/scenarios", headers={"Connection": "close"}, json={
        "groups": ["pilots"], "user": {"groups": ["pilots"], "platformCredentials": 2}})
    assert r.status_code == 500
    assert (emulator.store.users(), emulator.store.groups()) == ([], [])


def test_a_challenge_is_fresh_once_then_spent_and_never_another_users(store: Store) -> None:
    value, expires = store.issue_challenge("alice", 5, MOMENT)
    assert expires == MOMENT + timedelta(minutes=5)
    assert store.consume_challenge(value, "bob") is None
    first, again = (store.consume_challenge(value, "alice") for _ in range(2))
    assert first is not None and again is not None
    assert (first.used, again.used, first.expires_at, again.expires_at) == (
        False, True, expires, expires)


def test_the_session_comes_with_its_user_and_pass(store: Store) -> None:
    user = store.add_user("tap@contoso.test", "Tap", UserType.GUEST)
    tap = store.add_tap(user.id, is_usable_once=True, lifetime_minutes=60, start=MOMENT)
    token = store.add_session(user.id, "tap", MOMENT, tap.id, mfa_at=MOMENT)
    found = store.session_user(token)
    assert found is not None
    session, session_user = found
    assert (session_user, session.tap, session.mfa_at) == (user, tap, MOMENT)
    assert store.session(token) == session
    store.delete_user(user.id)
    assert store.session_user(token) is None


def test_the_standing_defaults_to_no_groups_scope_or_platform_credentials(
        store: Store) -> None:
    user = store.add_user("plain@contoso.test", "Plain", UserType.MEMBER)
    standing = store.standing(user.id)
    assert (standing.groups, standing.scope, standing.platform_credentials) == (
        frozenset(), BootstrapScope(), 0)
    group = store.add_group("pilots")
    store.add_member(group.id, user.id)
    scope = replace(BootstrapScope(), registration_interrupt=True)
    store.set_bootstrap_scope(user.id, scope)
    store.set_platform_credentials(user.id, 2)
    assert store.standing(user.id) == replace(standing, groups=frozenset({group.id}),
                                              scope=scope, platform_credentials=2)


def test_request_ids_are_version_4_uuids(tenant: Tenant) -> None:
    r = tenant.client.get("/_emulator/health")
    ids = [uuid.UUID(r.headers[name]) for name in ("request-id", "client-request-id")]
    assert [(i.version, i.variant) for i in ids] == [(4, uuid.RFC_4122)] * 2
    assert ids[0] != ids[1]
