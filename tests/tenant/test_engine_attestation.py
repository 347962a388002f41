"""Attestation enforcement end to end: statements signed by the test PKI, judged against the
suite's test MDS BLOB, one case per way a statement or its metadata can fail."""

from __future__ import annotations

from functools import cache

import pytest

from pkconf import testpki as pki
from pkconf.authenticators.mds import (
    TEST_COMPROMISED_AAGUID,
    TEST_INELIGIBLE_AAGUID,
    TEST_REVOKED_AAGUID,
    TEST_UNCERTIFIED_AAGUID,
)
from pkconf.authenticators.statements import Defect
from pkconf.authenticators.statements.packed import PackedAttester
from pkconf.authenticators.statements.tpm import TpmAttester
from pkconf.inputs import read_metadata
from pkconf.paths import TEST_MDS_BLOB, TEST_MDS_ROOT
from pkconf.tenant.attestation import Metadata
from pkconf.tenant.decision import RegistrationPath

from .builders import make_response, profile, run, with_profiles

YUBIKEY_5_NFC = "2fc0579f-8113-47ea-b116-bb5a8db9202a"
AUTHENTICATOR_IOS = "90a3ccdf-635c-4729-a248-9b709135078f"
UNLISTED = "11112222-3333-4444-5555-666677778888"
ENFORCED = with_profiles(profile(attestation="registrationOnly", types="deviceBound"))


@cache
def metadata() -> Metadata:
    loaded = read_metadata(str(TEST_MDS_BLOB), str(TEST_MDS_ROOT))
    assert loaded is not None
    return loaded


def packed(vendor: str, defect: Defect | None = None) -> PackedAttester:
    return PackedAttester(vendor=pki.vendor(vendor), defect=defect)


def enforced(aaguid: str, attester, **response) -> object:
    return run(ENFORCED, response=make_response(aaguid=aaguid, attester=attester, **response),
               metadata=metadata())


def test_packed_full_attestation_to_an_mds_root_is_accepted_as_attested():
    decision = enforced(YUBIKEY_5_NFC, packed("yubico"))
    assert decision.reason == "ACCEPTED", decision.to_json()
    assert decision.attestation_level == "attested"


@pytest.mark.parametrize(
    ("aaguid", "attester", "reason"),
    [
        (YUBIKEY_5_NFC, PackedAttester(), "ATTESTATION_REQUIRED"),  # self attestation
        (YUBIKEY_5_NFC, packed("yubico", Defect.BAD_SIGNATURE), "ATTESTATION_SIGNATURE_INVALID"),
        (YUBIKEY_5_NFC, packed("yubico", Defect.AAGUID_MISMATCH), "ATTESTATION_AAGUID_MISMATCH"),
        (YUBIKEY_5_NFC, packed("yubico", Defect.EXPIRED_LEAF), "ATTESTATION_CERTIFICATE_EXPIRED"),
        (YUBIKEY_5_NFC, packed("yubico", Defect.ROOT_INCLUDED), "ATTESTATION_CHAIN_INVALID"),
        (YUBIKEY_5_NFC, packed("yubico", Defect.X5C_ON_SELF), "ATTESTATION_SIGNATURE_INVALID"),
        (YUBIKEY_5_NFC, packed("self-signed-spoofer"), "ATTESTATION_UNTRUSTED"),
        (UNLISTED, packed("yubico"), "AUTHENTICATOR_NOT_IN_METADATA"),
        (TEST_REVOKED_AAGUID, packed("test-revoked"), "AUTHENTICATOR_REVOKED"),
        (TEST_COMPROMISED_AAGUID, packed("test-compromised"), "ATTESTATION_KEY_COMPROMISED"),
        (TEST_INELIGIBLE_AAGUID, packed("test-ineligible"), "AUTHENTICATOR_NOT_ELIGIBLE"),
        (TEST_UNCERTIFIED_AAGUID, packed("test-uncertified"), "AUTHENTICATOR_NOT_CERTIFIED"),
        (YUBIKEY_5_NFC, TpmAttester(vendor=pki.vendor("microsoft-tpm")),
         "ATTESTATION_FORMAT_NOT_ACCEPTED"),
    ],
    ids=lambda v: v if isinstance(v, str) and v.isupper() else None,
)
def test_enforced_attestation_rejects_each_failure_with_its_own_reason(aaguid, attester, reason):
    decision = enforced(aaguid, attester)
    assert (decision.family, decision.reason) == ("authenticator_governance", reason), (
        decision.to_json())
    assert decision.attestation_level == "notAttested"


def test_attested_level_is_reported_even_where_attestation_is_not_enforced():
    decision = run(response=make_response(aaguid=YUBIKEY_5_NFC, attester=packed("yubico")),
                   metadata=metadata())
    assert (decision.reason, decision.attestation_level) == ("ACCEPTED", "attested")


def test_without_metadata_nothing_can_be_attested():
    decision = run(ENFORCED, response=make_response(aaguid=YUBIKEY_5_NFC,
                                                    attester=packed("yubico")))
    assert decision.reason == "ATTESTATION_UNTRUSTED"


class TestMicrosoftAuthenticatorCrossDevice:
    """[DOC S5] attested Authenticator passkeys cannot be registered cross-device."""

    def test_attested_authenticator_passkey_over_hybrid_is_rejected_as_platform_path(self):
        decision = enforced(AUTHENTICATOR_IOS, packed("microsoft-authenticator"),
                            transports=("hybrid", "internal"))
        assert (decision.family, decision.reason) == ("platform_path",
                                                      "CROSS_DEVICE_ATTESTED_AUTHENTICATOR")

    def test_attested_authenticator_passkey_in_the_app_is_accepted(self):
        decision = enforced(AUTHENTICATOR_IOS, packed("microsoft-authenticator"),
                            transports=("internal",), attachment="platform")
        assert decision.reason == "ACCEPTED", decision.to_json()


def test_graph_provisioning_of_an_attested_security_key_is_accepted():
    decision = run(ENFORCED, response=make_response(aaguid=YUBIKEY_5_NFC,
                                                    attester=packed("yubico")),
                   path=RegistrationPath.PROVISIONING, metadata=metadata())
    assert (decision.reason, decision.attestation_level) == ("ACCEPTED", "attested")
