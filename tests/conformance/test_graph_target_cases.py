"""Which cases can run on a real tenant, and the guard on writing a tenant's policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conformance.cases import Case, load_cases
from conformance.graph_target import GraphOptions, graph_options, owned_tenants, skip_reason
from pkconf.ceremonies.graph_client import GraphClient, GraphSettings
from pkconf.ceremonies.graph_target import GraphTenant
from pkconf.inputs import UsageError
from pkconf.tenant.decision import TemporaryAccessPass, UserType
from pkconf.tenant.rules import Cloud

TODAY = date(2026, 11, 29)
SETTINGS = GraphSettings(tenant="t1", client_id="app")
OPTIONS = GraphOptions(SETTINGS, False, Path("restore.json"), 0.0, Cloud.WORLDWIDE)


class _NoPolicyCheck(GraphTenant):
    """A tenant whose policy fits every case: the reasons before the policy are under test."""

    def policy_unfit(self, policy: Any) -> str | None:
        return None


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases()


@pytest.fixture(scope="module")
def provisioning_case(cases: list[Case]) -> Case:
    return next(c for c in cases if c.ceremony == "graph" and c.variation is None
                and c.authenticator.attestation.fmt == "none" and c.as_of is None)


@pytest.fixture
def tenant() -> GraphTenant:
    return _NoPolicyCheck(GraphClient(SETTINGS))


def test_a_provisioning_case_for_a_plain_member_runs_on_a_tenant(
        provisioning_case: Case, tenant: GraphTenant) -> None:
    assert skip_reason(provisioning_case, tenant, OPTIONS, TODAY) is None


def test_a_stale_mfa_or_a_tap_does_not_keep_a_provisioning_case_off_a_tenant(
        provisioning_case: Case, tenant: GraphTenant) -> None:
    """Provisioning does not consult the user's sign-in: a user who never signed in stands in."""
    user = replace(provisioning_case.user, mfa_age_seconds=None,
                   tap=TemporaryAccessPass(True, 30.0))
    assert skip_reason(replace(provisioning_case, user=user), tenant, OPTIONS, TODAY) is None


@pytest.mark.parametrize(("change", "says"), [
    ({"ceremony": "ctap"}, "needs a signed-in user's session"),
    ({"ceremony": "browser"}, "only provisioning runs on a tenant"),
    ({"variation": "expired-challenge"}, "clock moved"),
    ({"as_of": date(2026, 3, 20)}, "pinned to 2026-03-20"),
    ({"cloud": Cloud.GCC_HIGH}, "pinned to the gcchigh cloud"),
])
def test_a_case_a_tenant_cannot_be_set_up_for_is_skipped_with_the_reason(
        provisioning_case: Case, tenant: GraphTenant, change: dict[str, Any],
        says: str) -> None:
    reason = skip_reason(replace(provisioning_case, **change), tenant, OPTIONS, TODAY)
    assert reason is not None and says in reason


def test_a_guest_or_a_user_with_passkeys_is_state_a_tenant_cannot_be_given(
        provisioning_case: Case, tenant: GraphTenant) -> None:
    guest = replace(provisioning_case.user, user_type=UserType.GUEST)
    reason = skip_reason(replace(provisioning_case, user=guest), tenant, OPTIONS, TODAY)
    assert reason is not None and "user_type" in reason


def test_enforced_attestation_on_a_test_ca_statement_is_skipped(cases: list[Case],
                                                                tenant: GraphTenant) -> None:
    case = next(c for c in cases if c.case_id == "AT-ENF-001" and c.ceremony == "graph")
    reason = skip_reason(case, tenant, OPTIONS, TODAY)
    assert reason is not None and "test CA" in reason


def _get(**given: Any) -> Any:
    values = {"--tenant": "t1", "--client-id": "app", "--policy-write-interval": 2.0, **given}
    return lambda flag: values.get(flag)


def test_policy_changes_need_the_owner_to_name_the_tenant(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PKCONF_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PKCONF_CLIENT_SECRET", "a secret")
    with pytest.raises(UsageError, match="--i-own-this-test-tenant t1"):
        graph_options(_get(**{"--allow-policy-changes": True}), tmp_path, Cloud.WORLDWIDE)
    with pytest.raises(UsageError, match="--i-own-this-test-tenant t1"):
        graph_options(_get(**{"--allow-policy-changes": True, "--i-own-this-test-tenant": "t2"}),
                      tmp_path, Cloud.WORLDWIDE)
    confirmed = graph_options(_get(**{"--allow-policy-changes": True,
                                      "--i-own-this-test-tenant": "T1"}), tmp_path,
                              Cloud.WORLDWIDE)
    assert confirmed.allow_policy_changes
    assert confirmed.restore_file == tmp_path / "tenant-restore-t1.json"


def test_without_a_credential_in_the_environment_a_graph_run_does_not_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PKCONF_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UsageError, match="no credential for client app"):
        graph_options(_get(), tmp_path, Cloud.WORLDWIDE)


def test_a_config_file_can_name_the_owners_test_tenants(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('owned_test_tenants = ["T1"]\n')
    monkeypatch.setenv("PKCONF_CONFIG", str(config))
    monkeypatch.setenv("PKCONF_CLIENT_SECRET", "a secret")
    assert owned_tenants() == {"t1"}
    assert graph_options(_get(**{"--allow-policy-changes": True}), tmp_path,
                         Cloud.WORLDWIDE).allow_policy_changes
    config.write_text("owned_test_tenants = 3\n")
    with pytest.raises(UsageError, match="must be a list"):
        owned_tenants()
