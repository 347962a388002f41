"""Authenticator files load into the one `Profile` model, register like built-in profiles, and
refuse a bad file with one line naming the file and the key."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from pkconf import cli
from pkconf import testpki as pki
from pkconf.authenticators.files import (
    AuthenticatorFileError,
    ProfileError,
    load_authenticator,
    read_authenticator_file,
    resolve_profile,
)
from pkconf.authenticators.profiles import (
    PROFILES,
    Attachment,
    AttesterSpec,
    Platform,
    Profile,
    Uv,
)
from pkconf.authenticators.statements.packed import batch_certificate
from pkconf.ceremonies.ctap import Setup, register
from pkconf.ceremonies.tenant import TenantApi
from pkconf.emulator.server import EmulatorServer
from pkconf.paths import FIXTURES
from pkconf.tenant.attestation import Metadata
from pkconf.tenant.decision import Decision

EXAMPLE = FIXTURES / "authenticators" / "example-vendor-key.toml"
PERMISSIVE = FIXTURES / "policies" / "permissive.json"
ENFORCED = FIXTURES / "policies" / "attestation-enforced.json"
EXAMPLE_TEXT = EXAMPLE.read_text()


def _policy(path: Path) -> dict:
    return json.loads(path.read_text())


def _register(api: TenantApi, profile: Profile, policy: Path) -> tuple[str, str | None]:
    """(reason, attestation level) of one self-service registration."""
    decision = register(api, profile, Setup(policy=_policy(policy))).decision
    assert isinstance(decision, Decision), decision
    return decision.reason, decision.attestation_level


def _copy(tmp_path: Path, old: str, new: str) -> Path:
    """The example with one line changed (the test fails loudly if the line is gone)."""
    assert old in EXAMPLE_TEXT
    path = tmp_path / "copy.toml"
    path.write_text(EXAMPLE_TEXT.replace(old, new, 1))
    return path


@pytest.fixture(scope="module")
def example_api() -> Iterator[TenantApi]:
    """An emulator whose MDS BLOB carries the example file's entry, as `decide` builds it."""
    metadata = Metadata.from_blob(*read_authenticator_file(EXAMPLE).metadata())
    with EmulatorServer(metadata=metadata) as server, TenantApi(server.base_url) as api:
        yield api


def test_the_example_loads_as_a_device_bound_packed_security_key() -> None:
    profile = load_authenticator(EXAMPLE)
    assert (profile.name, profile.aaguid) == ("example-vendor-key",
                                               "7e57aa00-e8a1-4e00-8000-00000000e8a1")
    assert (profile.attestation.fmt, profile.attachment, profile.passkey_type, profile.uv) == \
        ("packed", Attachment.CROSS_PLATFORM, "deviceBound", Uv.BUILT_IN)
    assert (profile.transports, profile.extensions) == (("usb", "nfc"),
                                                        ("credProtect", "hmac-secret"))


def test_each_declared_platform_path_is_the_same_authenticator_from_another_client() -> None:
    loaded = read_authenticator_file(EXAMPLE)
    assert list(loaded.profiles) == ["desktop", "iphone-nfc"]
    assert load_authenticator(EXAMPLE, "iphone-nfc").platform is Platform.IPHONE
    assert loaded.profiles["desktop"].aaguid == loaded.profiles["iphone-nfc"].aaguid


def test_a_generated_chain_is_the_same_root_on_every_load() -> None:
    first, second = (read_authenticator_file(EXAMPLE).record for _ in range(2))
    assert pki.vendor(first.vendor).root.der == pki.vendor(second.vendor).root.der


@pytest.mark.parametrize("platform_path", ["desktop", "iphone-nfc"])
@pytest.mark.parametrize("policy", [PERMISSIVE, ENFORCED])
def test_the_example_registers_over_ctap_attested_on_each_path(example_api, platform_path,
                                                               policy) -> None:
    profile = load_authenticator(EXAMPLE, platform_path)
    assert _register(example_api, profile, policy) == ("ACCEPTED", "attested")


def _user(tmp_path: Path) -> str:
    user = tmp_path / "user.json"
    user.write_text(json.dumps({"mfaAgeSeconds": 60}))
    return str(user)


def test_the_example_is_not_in_the_committed_blob_so_enforcement_needs_its_entry(
        tmp_path) -> None:
    assert cli.main(["decide", "--profile", str(EXAMPLE), "--policy", str(ENFORCED),
                     "--user", _user(tmp_path), "--mds", str(FIXTURES / "mds/test-mds-blob.jwt"),
                     "--mds-root", str(FIXTURES / "mds/test-mds-root.pem")]) == 1


def test_vendor_pem_files_make_a_working_packed_attester(tmp_path) -> None:
    vendor = pki.make_vendor("pem-vendor", "PEM-Vendor")
    batch = batch_certificate(vendor, bytes.fromhex("7e57aa00e8a14e00800000000000e8a1"))
    assert vendor.intermediate is not None
    (tmp_path / "batch.pem").write_bytes(batch.pem + vendor.intermediate.pem)
    (tmp_path / "batch.key.pem").write_bytes(batch.signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (tmp_path / "root.pem").write_bytes(vendor.root.pem)
    path = _copy(tmp_path, 'chain = "generated"', 'certificate = "batch.pem"\n'
                 'private_key = "batch.key.pem"\nroot = "root.pem"')
    loaded = read_authenticator_file(path)
    metadata = Metadata.from_blob(*loaded.metadata())
    with EmulatorServer(metadata=metadata) as server, TenantApi(server.base_url) as api:
        assert _register(api, loaded.profile, ENFORCED) == ("ACCEPTED", "attested")


@pytest.mark.parametrize(("old", "new", "key"), [
    ('name = "example-vendor-key"', 'name = "Example Key"', "name"),
    ('aaguid = "7e57aa00-e8a1-4e00-8000-00000000e8a1"', 'aaguid = "not-a-uuid"', "aaguid"),
    ('uv = "built-in"', 'uv = "fingerprint"', "uv"),
    ('rk_capacity = 100', 'rk_capacity = "many"', "rk_capacity"),
    ('rk_capacity = 100', 'rk_capacity = -1', "rk_capacity"),
    ('transports = ["usb", "nfc"]', 'transports = ["usb", "carrier-pigeon"]', "transports"),
    ('paths = ["desktop", "iphone-nfc"]', 'paths = []', "paths"),
    ('paths = ["desktop", "iphone-nfc"]', 'paths = ["mainframe"]', "paths"),
    ('backup_state = false', 'backup_state = true', "backup_state"),
    ('algorithms = ["ES256"]', 'algorithms = ["ES512"]', "algorithms"),
    ('algorithms = ["ES256"]', 'algorithms = [{ alg = -7 }]', "algorithms"),
    ('extensions = ["credProtect", "hmac-secret"]', 'extensions = ["largeBlob"]', "extensions"),
    ('versions = ["FIDO_2_0", "FIDO_2_1"]', 'versions = ["FIDO_3"]', "versions"),
    ('attachment = "cross-platform"', 'attachment = "roaming"', "attachment"),
    ('attachment = "cross-platform"', 'colour = "blue"', "colour"),
    ('format = "packed"', 'format = "jwt"', "attestation.format"),
    ('chain = "generated"', 'chain = "borrowed"', "attestation.chain"),
    ('chain = "generated"', 'certificate = "missing.pem"', "attestation.certificate"),
    ('format = "packed"', 'format = "none"', "attestation.format"),
    ('status = ["FIDO_CERTIFIED_L1"]', 'status = ["GOOD"]', "metadata.status"),
    ('status = ["FIDO_CERTIFIED_L1"]', 'statement = "missing.json"', "metadata.statement"),
    ('name = "example-vendor-key"', 'name = "example-vendor-key', "line 5"),
])
def test_a_bad_file_is_one_line_naming_the_file_and_the_key(tmp_path, old, new, key) -> None:
    path = _copy(tmp_path, old, new)
    with pytest.raises(AuthenticatorFileError) as error:
        load_authenticator(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and key in message and "\n" not in message, message


def test_a_file_without_a_required_key_says_it_is_required(tmp_path) -> None:
    path = _copy(tmp_path, 'rk_capacity = 100', '')
    with pytest.raises(AuthenticatorFileError, match=re.escape(f"{path}: rk_capacity: is "
                                                               "required")):
        load_authenticator(path)


def test_a_profile_name_or_a_file_path_resolves_to_a_profile() -> None:
    assert resolve_profile("yubikey-5-usb") is PROFILES["yubikey-5-usb"]
    assert resolve_profile(str(EXAMPLE)).name == "example-vendor-key"
    with pytest.raises(ProfileError, match="unknown profile 'no-such-key'"):
        resolve_profile("no-such-key")


@pytest.mark.parametrize("policy", [PERMISSIVE, ENFORCED])
def test_decide_takes_an_authenticator_file_where_a_profile_name_goes(tmp_path, capsys,
                                                                      policy) -> None:
    assert cli.main(["decide", "--profile", str(EXAMPLE), "--policy", str(policy),
                     "--user", _user(tmp_path), "--json"]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert (decision["reason"], decision["attestationLevel"]) == ("ACCEPTED", "attested")


def test_decide_refuses_a_bad_file_with_one_line_and_exit_2(tmp_path, capsys) -> None:
    path = _copy(tmp_path, 'uv = "built-in"', 'uv = "retina"')
    assert cli.main(["decide", "--profile", str(path), "--policy", str(PERMISSIVE),
                     "--user", "u.json"]) == 2
    assert capsys.readouterr().err == (f"pkconf decide: {path}: uv: 'retina' is not one of "
                                       "built-in, client-pin, none\n")


def test_impact_takes_a_file_and_verifies_its_model_with_its_own_metadata_entry(capsys) -> None:
    assert cli.main(["impact", "--current", str(PERMISSIVE), "--proposed", str(ENFORCED),
                     "--profiles", str(EXAMPLE), "spoofer-unattested", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["profiles"] == ["example-vendor-key", "spoofer-unattested"]
    assert {row["profile"] for row in result["registration"]} == {"spoofer-unattested"}


def test_impact_refuses_a_bad_file_with_one_line_and_exit_2(tmp_path, capsys) -> None:
    path = _copy(tmp_path, 'uv = "built-in"', 'uv = "retina"')
    assert cli.main(["impact", "--current", str(PERMISSIVE), "--proposed", str(ENFORCED),
                     "--profiles", str(path)]) == 2
    assert capsys.readouterr().err == (f"pkconf impact: {path}: uv: 'retina' is not one of "
                                       "built-in, client-pin, none\n")


def test_a_vendor_metadata_statement_is_the_models_entry_in_the_blob(tmp_path) -> None:
    statement = read_authenticator_file(EXAMPLE).record.statement()
    (tmp_path / "statement.json").write_text(json.dumps({**statement,
                                                         "description": "Vendor's own words"}))
    path = _copy(tmp_path, 'status = ["FIDO_CERTIFIED_L1"]',
                 'status = ["FIDO_CERTIFIED_L1", "REVOKED"]\nstatement = "statement.json"')
    entry = Metadata.from_blob(*read_authenticator_file(path).metadata()).entry(
        "7e57aa00-e8a1-4e00-8000-00000000e8a1")
    assert entry is not None
    assert (entry.description, entry.statuses) == ("Vendor's own words",
                                                   ("FIDO_CERTIFIED_L1", "REVOKED"))


def test_chain_self_is_packed_self_attestation_and_none_carries_no_chain(tmp_path) -> None:
    assert load_authenticator(_copy(tmp_path, 'chain = "generated"', 'chain = "self"')
                              ).attestation == AttesterSpec("packed")
    unattested = _copy(tmp_path, 'format = "packed"', 'format = "none"')
    unattested.write_text(unattested.read_text().replace('chain = "generated"', ""))
    assert load_authenticator(unattested).attestation == AttesterSpec("none")
