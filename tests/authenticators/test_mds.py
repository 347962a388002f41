"""The test MDS3 BLOB: signed by the test MDS root, reproducible, and telling the tenant why."""

from __future__ import annotations

from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from fido2.attestation import InvalidSignature, UntrustedAttestation
from fido2.cose import ES256
from fido2.mds3 import MdsAttestationVerifier, parse_blob
from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData

from pkconf.authenticators import mds
from pkconf.authenticators.statements import Attester, Defect, attestation_object
from pkconf.authenticators.statements.fido_u2f import FidoU2fAttester
from pkconf.authenticators.statements.packed import PackedAttester
from pkconf.authenticators.statements.tpm import TpmAttester
from pkconf.tenant.attestation import (
    AttestationFailure,
    Metadata,
    MetadataError,
    verify_statement,
    verify_trust,
)
from pkconf.testpki import VENDORS, derive_ec_key

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BLOB = (FIXTURES / "mds" / "test-mds-blob.jwt").read_bytes()
AT = datetime(2026, 6, 1, tzinfo=UTC)
CLIENT_DATA_HASH = sha256(b'{"type":"webauthn.create","challenge":"pkconf-mds"}').digest()
KEY = derive_ec_key("tests/mds-credential")
YUBIKEY_5_NFC = "fa2b99dc-9e39-4257-8f92-4a30d23c4118"
WINDOWS_HELLO_HARDWARE = "08987058-cadc-4b81-b6e1-30de50dcbe96"
ZERO = "00000000-0000-0000-0000-000000000000"


def _registration(attester: Attester, aaguid: str) -> AttestationObject:
    credential = AttestedCredentialData.create(
        bytes.fromhex(aaguid.replace("-", "")), b"pkconf-mds-credential",
        ES256.from_cryptography_key(KEY.public_key()))
    auth_data = AuthenticatorData.create(
        sha256(b"login.microsoft.com").digest(),
        AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.UV | AuthenticatorData.FLAG.AT,
        0, credential)
    return attestation_object(attester, bytes(auth_data), CLIENT_DATA_HASH, KEY)


def test_the_blob_parses_with_fido2_against_the_test_mds_root() -> None:
    payload = parse_blob(BLOB, mds.MDS_ROOT.der)
    assert payload.no == 1
    assert {str(e.aaguid) for e in payload.entries if e.aaguid} == {
        "cb69481e-8ff7-4039-93ec-0a2729a154a8", "ee882879-721c-4913-9775-3dfcce97072a",
        "fa2b99dc-9e39-4257-8f92-4a30d23c4118", "2fc0579f-8113-47ea-b116-bb5a8db9202a",
        "a25342c0-3cdc-4414-8e46-f4807fca511c", "d7781e5d-e353-46aa-afe2-3ca49f13332a",
        "c5ef55ff-ad9a-4b9f-b580-adebafe026d0", "c1f9a0bc-1dd2-404a-b27f-8e29047a43fd",
        "fcc0118f-cd45-435b-8da1-9782b2da0715", "ee041bce-25e5-4cdb-8f86-897fd6418464",
        "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3", "08987058-cadc-4b81-b6e1-30de50dcbe96",
        "9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "6028b017-b1d4-4c02-b4b3-afcdafc96bb2",
        "90a3ccdf-635c-4729-a248-9b709135078f", "de1e552d-db1d-4423-a619-566b625cdc84",
        "7e57aa00-0000-4000-8000-000000000001", "7e57aa00-0000-4000-8000-000000000002",
        "7e57aa00-0000-4000-8000-000000000003", "7e57aa00-0000-4000-8000-000000000005",
    }
    assert [e.metadata_statement.description for e in payload.entries if not e.aaguid] == [
        "pkconf TEST Yubico-like U2F security key"]


def test_the_blob_is_refused_against_another_root() -> None:
    with pytest.raises(InvalidSignature):
        parse_blob(BLOB, VENDORS["yubico"].root.der)


def test_a_blob_with_an_altered_payload_fails_its_signature() -> None:
    header, _, signature = BLOB.split(b".")
    other = mds.build_blob(mds.records()[:1]).split(b".")[1]
    with pytest.raises(CryptoInvalidSignature):
        parse_blob(b".".join([header, other, signature]), mds.MDS_ROOT.der)


def test_regenerating_the_fixtures_gives_the_committed_bytes(tmp_path: Path) -> None:
    mds.main(["--out", str(tmp_path / "mds"), "--pki-out", str(tmp_path / "pki")])
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert len(written) == 15  # the BLOB, the MDS root and thirteen vendor roots
    for relative in written:
        assert (tmp_path / relative).read_bytes() == (FIXTURES / relative).read_bytes(), relative


def test_the_tenant_reads_the_blob_and_refuses_it_against_another_root() -> None:
    assert len(Metadata.from_blob(BLOB, mds.MDS_ROOT.der).entries) == 21
    with pytest.raises(MetadataError, match="bad chain"):
        Metadata.from_blob(BLOB, VENDORS["feitian"].root.der)


TENANT_CASES = [
    ("yubikey-5-nfc", PackedAttester(VENDORS["yubico"]), YUBIKEY_5_NFC,
     "YubiKey 5 Series with NFC"),
    ("windows-hello-tpm", TpmAttester(VENDORS["microsoft-tpm"]), WINDOWS_HELLO_HARDWARE,
     "Windows Hello Hardware Authenticator"),
    ("revoked", PackedAttester(VENDORS["test-revoked"]), mds.TEST_REVOKED_AAGUID,
     "AUTHENTICATOR_REVOKED"),
    ("compromised", PackedAttester(VENDORS["test-compromised"]), mds.TEST_COMPROMISED_AAGUID,
     "ATTESTATION_KEY_COMPROMISED"),
    ("ineligible", PackedAttester(VENDORS["test-ineligible"]), mds.TEST_INELIGIBLE_AAGUID,
     "AUTHENTICATOR_NOT_ELIGIBLE"),
    ("uncertified", PackedAttester(VENDORS["test-uncertified"]), mds.TEST_UNCERTIFIED_AAGUID,
     "AUTHENTICATOR_NOT_CERTIFIED"),
    ("u2f-has-no-fido2-get-info", FidoU2fAttester(VENDORS["yubico"]), ZERO,
     "AUTHENTICATOR_NOT_ELIGIBLE"),
    ("spoofer-claims-a-yubikey", PackedAttester(VENDORS["self-signed-spoofer"]),
     YUBIKEY_5_NFC, "ATTESTATION_UNTRUSTED"),
    ("yubikey-batch-under-a-feitian-aaguid", PackedAttester(VENDORS["yubico"]),
     "ee041bce-25e5-4cdb-8f86-897fd6418464", "ATTESTATION_UNTRUSTED"),
    ("unlisted-aaguid", PackedAttester(VENDORS["feitian"]),
     "12345678-0000-4000-8000-000000000000", "AUTHENTICATOR_NOT_IN_METADATA"),
    ("expired-batch", PackedAttester(VENDORS["yubico"], Defect.EXPIRED_LEAF), YUBIKEY_5_NFC,
     "ATTESTATION_CERTIFICATE_EXPIRED"),
    ("self-attestation", PackedAttester(), YUBIKEY_5_NFC, "ATTESTATION_REQUIRED"),
]


@pytest.mark.parametrize(("attester", "aaguid", "outcome"),
                         [pytest.param(*c[1:], id=c[0]) for c in TENANT_CASES])
def test_the_tenant_judges_each_model_by_its_metadata(attester: Attester, aaguid: str,
                                                      outcome: str) -> None:
    """`outcome` is the matched entry's description, or the rejection's reason code."""
    metadata = Metadata.from_blob(BLOB, mds.MDS_ROOT.der)
    statement = verify_statement(_registration(attester, aaguid), CLIENT_DATA_HASH, at=AT)
    try:
        result = verify_trust(statement, aaguid, metadata, AT).description
    except AttestationFailure as failure:
        result = failure.reason
    assert result == outcome


@pytest.mark.parametrize(("attester", "aaguid"), [
    pytest.param(PackedAttester(VENDORS["yubico"]), YUBIKEY_5_NFC, id="yubikey-by-aaguid"),
    pytest.param(FidoU2fAttester(VENDORS["yubico"]), ZERO, id="u2f-by-key-identifier"),
])
def test_fido2_mds_verifier_trusts_a_listed_model(attester: Attester, aaguid: str) -> None:
    verifier = MdsAttestationVerifier(parse_blob(BLOB, mds.MDS_ROOT.der))
    verifier.verify_attestation(_registration(attester, aaguid), CLIENT_DATA_HASH)


@pytest.mark.parametrize(("vendor", "aaguid"), [
    pytest.param("test-revoked", mds.TEST_REVOKED_AAGUID, id="revoked"),
    pytest.param("test-compromised", mds.TEST_COMPROMISED_AAGUID, id="compromised"),
])
def test_fido2_mds_verifier_refuses_revoked_and_compromised_models(vendor: str,
                                                                   aaguid: str) -> None:
    verifier = MdsAttestationVerifier(parse_blob(BLOB, mds.MDS_ROOT.der))
    with pytest.raises(UntrustedAttestation):
        verifier.verify_attestation(_registration(PackedAttester(VENDORS[vendor]), aaguid),
                                    CLIENT_DATA_HASH)
