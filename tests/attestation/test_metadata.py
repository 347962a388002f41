"""FIDO MDS3: a locally signed BLOB is read and verified, and trust follows its entries."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from pkconf.tenant.attestation import (
    AttestationFailure,
    Metadata,
    MetadataError,
    VerifiedStatement,
    verify_trust,
)

from . import pki
from .pki import AT

GOOD, REVOKED_BASE = "aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-0000000001"
COMPROMISED_LEAF = "aaaaaaaa-0000-4000-8000-000000000002"
COMPROMISED_OTHER = "aaaaaaaa-0000-4000-8000-000000000003"
COMPROMISED_ANY = "aaaaaaaa-0000-4000-8000-000000000004"
OTHER_ROOT = "aaaaaaaa-0000-4000-8000-000000000005"
REVOKING = ("REVOKED", "USER_VERIFICATION_BYPASS", "USER_KEY_REMOTE_COMPROMISE",
            "USER_KEY_PHYSICAL_COMPROMISE")
ELIGIBLE_INFO = {"versions": ["U2F_V2", "FIDO_2_0", "FIDO_2_1"],
                 "extensions": ["credProtect", "hmac-secret"],
                 "options": {"rk": True, "up": True, "clientPin": True}}
INELIGIBLE_INFO = {
    "u2f-only": {**ELIGIBLE_INFO, "versions": ["U2F_V2"]},
    "no-uv-no-pin": {**ELIGIBLE_INFO, "options": {"rk": True, "up": True}},
    "no-resident-keys": {**ELIGIBLE_INFO, "options": {"rk": False, "uv": True}},
    "no-hmac-secret-or-prf": {**ELIGIBLE_INFO, "extensions": ["credProtect"]},
    "no-get-info": None,
}
PRF_INFO = {**ELIGIBLE_INFO, "extensions": ["prf"], "options": {"rk": True, "uv": True}}


def _b64(der: bytes) -> str:
    return base64.b64encode(der).decode()


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _entry(aaguid: str | None, roots: list[bytes], *, statuses: tuple[dict, ...] = (),
           info: dict | None = ELIGIBLE_INFO, key_ids: list[str] | None = None) -> dict:
    statement: dict[str, Any] = {
        "description": f"pkconf TEST authenticator {aaguid or key_ids}",
        "authenticatorVersion": 1, "schema": 3,
        "upv": [{"major": 1, "minor": 1}], "attestationTypes": ["basic_full"],
        "userVerificationDetails": [[{"userVerificationMethod": "presence_internal"}]],
        "keyProtection": ["hardware"], "matcherProtection": ["on_chip"],
        "attachmentHint": ["external"], "tcDisplay": [],
        "attestationRootCertificates": [_b64(r) for r in roots],
    }
    entry: dict[str, Any] = {
        "statusReports": [{"status": "FIDO_CERTIFIED_L1", "effectiveDate": "2024-01-01"},
                          *statuses],
        "timeOfLastStatusChange": "2024-01-01", "metadataStatement": statement}
    if info is not None:
        statement["authenticatorGetInfo"] = info
    if aaguid:
        statement["aaguid"] = entry["aaguid"] = aaguid
    if key_ids:
        statement["attestationCertificateKeyIdentifiers"] = key_ids
        entry["attestationCertificateKeyIdentifiers"] = key_ids
    return entry


class MdsSigner:
    """A test MDS: an RSA root and leaf signing BLOBs with RS256, as the real FIDO MDS does."""

    def __init__(self) -> None:
        self.root_key = rsa.generate_private_key(65537, 2048)
        self.leaf_key = rsa.generate_private_key(65537, 2048)
        self.root = self._cert("pkconf TEST MDS Root", self.root_key, self.root_key, ca=True)
        self.leaf = self._cert("pkconf TEST MDS Signer", self.leaf_key, self.root_key, ca=False)

    def _cert(self, cn: str, key: rsa.RSAPrivateKey, signer: rsa.RSAPrivateKey,
              ca: bool) -> x509.Certificate:
        subject = pki.name(cn, ou=None)
        issuer = subject if ca else pki.name("pkconf TEST MDS Root", ou=None)
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(pki.NOT_BEFORE).not_valid_after(pki.NOT_AFTER)
                .add_extension(x509.BasicConstraints(ca, None), critical=True)
                .sign(signer, hashes.SHA256()))

    @property
    def root_der(self) -> bytes:
        return self.root.public_bytes(Encoding.DER)

    def blob(self, entries: list[dict], *, payload: dict | None = None) -> bytes:
        header = {"alg": "RS256", "typ": "JWT",
                  "x5c": [_b64(self.leaf.public_bytes(Encoding.DER))]}
        body = payload if payload is not None else {
            "legalHeader": "pkconf TEST metadata, not FIDO's", "no": 7,
            "nextUpdate": "2031-01-01", "entries": entries}
        message = b".".join(_b64url(json.dumps(p).encode()) for p in (header, body))
        signature = self.leaf_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return message + b"." + _b64url(signature)


@pytest.fixture(scope="module")
def mds() -> MdsSigner:
    return MdsSigner()


@pytest.fixture(scope="module")
def vendor() -> dict[str, pki.Issued]:
    root = pki.root("pkconf TEST Vendor Root")
    intermediate = pki.intermediate(root)
    leaf = pki.issue(pki.name("pkconf TEST Batch"), intermediate)
    return {"root": root, "intermediate": intermediate, "leaf": leaf}


@pytest.fixture(scope="module")
def statement(vendor) -> VerifiedStatement:
    return VerifiedStatement("packed", "basic", (vendor["leaf"].der, vendor["intermediate"].der))


def _ski(cert: x509.Certificate) -> str:
    return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest.hex()


@pytest.fixture(scope="module")
def entries(vendor) -> dict[str, dict]:
    roots = [vendor["root"].der]
    leaf_cert = _b64(vendor["leaf"].der)
    out = {
        GOOD: _entry(GOOD, roots),
        COMPROMISED_LEAF: _entry(COMPROMISED_LEAF, roots, statuses=(
            {"status": "ATTESTATION_KEY_COMPROMISE", "certificate": leaf_cert},)),
        COMPROMISED_OTHER: _entry(COMPROMISED_OTHER, roots, statuses=(
            {"status": "ATTESTATION_KEY_COMPROMISE",
             "certificate": _b64(pki.issue(pki.name("pkconf TEST Other")).der)},)),
        COMPROMISED_ANY: _entry(COMPROMISED_ANY, roots, statuses=(
            {"status": "ATTESTATION_KEY_COMPROMISE"},)),
        OTHER_ROOT: _entry(OTHER_ROOT, [pki.root("pkconf TEST Stranger").der]),
        "u2f": _entry(None, roots, key_ids=[_ski(vendor["leaf"].cert)]),
        "prf": _entry("aaaaaaaa-0000-4000-8000-000000000006", roots, info=PRF_INFO),
    }
    for i, status in enumerate(REVOKING):
        out[status] = _entry(f"{REVOKED_BASE}{i:02d}", roots, statuses=({"status": status},))
    for i, (name, info) in enumerate(INELIGIBLE_INFO.items()):
        out[name] = _entry(f"bbbbbbbb-0000-4000-8000-0000000000{i:02d}", roots, info=info)
    return out


@pytest.fixture(scope="module")
def metadata(mds, entries) -> Metadata:
    return Metadata.from_blob(mds.blob(list(entries.values())), mds.root_der)


def _reason(statement: VerifiedStatement, aaguid: str, metadata: Metadata) -> str:
    with pytest.raises(AttestationFailure) as failure:
        verify_trust(statement, aaguid, metadata, AT)
    return failure.value.reason


def test_blob_signed_by_the_mds_leaf_under_the_trust_root_loads_every_entry(
        metadata, entries) -> None:
    assert len(metadata.entries) == len(entries)


def test_entry_lookup_by_aaguid_is_case_insensitive(metadata) -> None:
    entry = metadata.entry(GOOD.upper())
    assert entry is not None
    assert (entry.aaguid, entry.statuses) == (GOOD, ("FIDO_CERTIFIED_L1",))
    assert entry.description == f"pkconf TEST authenticator {GOOD}"


def test_unknown_aaguid_has_no_entry(metadata) -> None:
    assert metadata.entry("cccccccc-0000-4000-8000-000000000000") is None


def test_entry_statuses_keep_their_order(metadata) -> None:
    assert metadata.entry(COMPROMISED_ANY).statuses == ("FIDO_CERTIFIED_L1",
                                                        "ATTESTATION_KEY_COMPROMISE")


def test_u2f_entry_is_found_by_the_attestation_key_identifier(metadata, vendor) -> None:
    entry = metadata.entry_for_chain([vendor["leaf"].der])
    assert entry is not None and entry.aaguid is None
    assert entry.root_certificates == (vendor["root"].der,)


def test_blob_under_another_trust_root_is_rejected_as_a_bad_chain(mds, entries) -> None:
    with pytest.raises(MetadataError, match="bad chain"):
        Metadata.from_blob(mds.blob(list(entries.values())), MdsSigner().root_der)


def test_blob_with_a_tampered_payload_is_rejected_as_a_bad_signature(mds, entries) -> None:
    header, _, signature = mds.blob(list(entries.values())).split(b".")
    forged = _b64url(json.dumps({"legalHeader": "x", "no": 8, "nextUpdate": "2031-01-01",
                                 "entries": []}).encode())
    with pytest.raises(MetadataError, match="bad signature"):
        Metadata.from_blob(b".".join([header, forged, signature]), mds.root_der)


@pytest.mark.parametrize("blob", [b"", b"not-a-jwt", b"a.b", b"a.b.c.d"],
                         ids=["empty", "one-part", "two-parts", "four-parts"])
def test_blob_that_is_not_a_jwt_is_rejected_as_a_bad_jwt(mds, blob: bytes) -> None:
    with pytest.raises(MetadataError, match="bad JWT"):
        Metadata.from_blob(blob, mds.root_der)


def test_blob_whose_parts_are_not_json_is_rejected_as_bad_json(mds) -> None:
    with pytest.raises(MetadataError, match="bad JSON"):
        Metadata.from_blob(b"bm90IGpzb24.bm90IGpzb24.c2ln", mds.root_der)


def test_signed_blob_that_is_not_an_mds3_payload_is_rejected_as_bad_json(mds) -> None:
    with pytest.raises(MetadataError, match="bad JSON"):
        Metadata.from_blob(mds.blob([], payload={"entries": "none"}), mds.root_der)


def test_listed_eligible_unrevoked_authenticator_with_a_valid_chain_is_trusted(
        statement, metadata) -> None:
    assert verify_trust(statement, GOOD, metadata, AT).aaguid == GOOD


def test_authenticator_declaring_prf_and_uv_is_eligible(statement, metadata) -> None:
    assert verify_trust(statement, "aaaaaaaa-0000-4000-8000-000000000006", metadata, AT)


def test_zero_aaguid_is_trusted_through_the_key_identifier_entry(statement, metadata) -> None:
    entry = verify_trust(statement, "00000000-0000-0000-0000-000000000000", metadata, AT)
    assert entry.aaguid is None


@pytest.mark.parametrize("kind", ["self", "none"])
def test_statement_without_certificates_is_rejected_as_attestation_required(metadata,
                                                                            kind: str) -> None:
    bare = VerifiedStatement("packed" if kind == "self" else "none", kind, ())
    assert _reason(bare, GOOD, metadata) == "ATTESTATION_REQUIRED"


def test_aaguid_missing_from_metadata_is_rejected_as_not_in_metadata(metadata) -> None:
    stranger = VerifiedStatement("packed", "basic", (pki.issue(pki.name("pkconf TEST X")).der,))
    assert _reason(stranger, "cccccccc-0000-4000-8000-000000000000", metadata) == \
        "AUTHENTICATOR_NOT_IN_METADATA"


@pytest.mark.parametrize("status", REVOKING)
def test_revoking_status_is_rejected_as_authenticator_revoked_naming_it(
        statement, metadata, entries, status: str) -> None:
    with pytest.raises(AttestationFailure) as failure:
        verify_trust(statement, entries[status]["aaguid"], metadata, AT)
    assert failure.value.reason == "AUTHENTICATOR_REVOKED"
    assert status in failure.value.detail


@pytest.mark.parametrize("aaguid", [COMPROMISED_LEAF, COMPROMISED_ANY],
                         ids=["our-leaf-listed", "no-certificate-listed"])
def test_compromised_attestation_key_is_rejected_as_key_compromised(statement, metadata,
                                                                    aaguid: str) -> None:
    assert _reason(statement, aaguid, metadata) == "ATTESTATION_KEY_COMPROMISED"


def test_compromise_of_another_attestation_key_does_not_reject_ours(statement, metadata) -> None:
    assert verify_trust(statement, COMPROMISED_OTHER, metadata, AT).aaguid == COMPROMISED_OTHER


@pytest.mark.parametrize("gap", INELIGIBLE_INFO)
def test_metadata_lacking_an_entra_requirement_is_rejected_as_not_eligible(
        statement, metadata, entries, gap: str) -> None:
    assert _reason(statement, entries[gap]["aaguid"], metadata) == "AUTHENTICATOR_NOT_ELIGIBLE"


def test_chain_not_leading_to_the_entrys_root_is_rejected_as_untrusted(statement,
                                                                       metadata) -> None:
    assert _reason(statement, OTHER_ROOT, metadata) == "ATTESTATION_UNTRUSTED"


def test_listed_authenticator_with_an_expired_chain_is_rejected_as_expired(statement,
                                                                           metadata) -> None:
    with pytest.raises(AttestationFailure) as failure:
        verify_trust(statement, GOOD, metadata, pki.NOT_AFTER.replace(year=2050))
    assert failure.value.reason == "ATTESTATION_CERTIFICATE_EXPIRED"
