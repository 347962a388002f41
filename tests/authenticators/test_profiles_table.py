"""The profile table: documented AAGUIDs where documentation exists, honest about the rest."""

from __future__ import annotations

import json
import re
from dataclasses import fields, replace

import pytest

from pkconf.authenticators import mds
from pkconf.authenticators.profiles import PROFILES, Attachment, AttesterSpec, Platform, Quirk
from pkconf.authenticators.statements import Defect
from pkconf.cli import main
from pkconf.tenant.rules import MICROSOFT_AUTHENTICATOR_AAGUIDS, WINDOWS_HELLO_AAGUIDS

PROFILE_FIELDS = {f.name for f in fields(next(iter(PROFILES.values())))}


def test_profile_names_are_stable_kebab_case_keys() -> None:
    for key, profile in PROFILES.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key)
        assert profile.name == key


@pytest.mark.parametrize(("name", "aaguid"), [
    ("windows-hello-hardware", "08987058-cadc-4b81-b6e1-30de50dcbe96"),
    ("windows-hello-vbs", "9ddd1817-af5a-4672-a2b9-3e3dd95000a9"),
    ("windows-hello-software", "6028b017-b1d4-4c02-b4b3-afcdafc96bb2"),
    ("apple-passwords", "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"),
    ("microsoft-authenticator-ios", "90a3ccdf-635c-4729-a248-9b709135078f"),
    ("microsoft-authenticator-android", "de1e552d-db1d-4423-a619-566b625cdc84"),
    ("google-password-manager", "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"),
    ("samsung-pass", "53414d53-554e-4700-0000-000000000000"),
    ("google-titan-v2", "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3"),
    ("feitian-epass-nfc", "ee041bce-25e5-4cdb-8f86-897fd6418464"),
    ("yubikey-5ci-iphone", "c5ef55ff-ad9a-4b9f-b580-adebafe026d0"),
])
def test_profile_carries_the_documented_aaguid(name: str, aaguid: str) -> None:
    assert PROFILES[name].aaguid == aaguid


def test_windows_profiles_are_exactly_the_rule_books_windows_hello_aaguids() -> None:
    windows = {p.aaguid for p in PROFILES.values() if p.platform is Platform.WINDOWS}
    assert windows == WINDOWS_HELLO_AAGUIDS


def test_authenticator_app_profiles_are_the_rule_books_authenticator_aaguids() -> None:
    apps = {p.aaguid for p in PROFILES.values() if p.name.startswith("microsoft-authenticator")}
    assert apps == MICROSOFT_AUTHENTICATOR_AAGUIDS


@pytest.mark.parametrize("name", ["windows-hello-hardware", "windows-hello-vbs",
                                  "windows-hello-software"])
def test_windows_hello_is_a_device_bound_tpm_platform_authenticator(name: str) -> None:
    profile = PROFILES[name]
    assert (profile.attestation.fmt, profile.attachment, profile.passkey_type) == \
        ("tpm", Attachment.PLATFORM, "deviceBound")
    assert profile.transports == ("internal",)


@pytest.mark.parametrize("name", ["apple-passwords", "google-password-manager", "samsung-pass",
                                  "iphone-hybrid"])
def test_synced_passkeys_carry_no_attestation(name: str) -> None:
    profile = PROFILES[name]
    assert profile.passkey_type == "synced"
    assert profile.attestation.fmt == "none"


def test_every_platform_family_has_profiles() -> None:
    assert {p.platform for p in PROFILES.values()} == set(Platform)


@pytest.mark.parametrize(("quirk", "name"), [
    (Quirk.NO_TRANSPORTS, "android-oem-no-transports"),
    (Quirk.BE_WITHOUT_BS, "android-oem-be-without-bs"),
    (Quirk.ATTESTATION_DOWNGRADED, "android-oem-attestation-downgraded"),
    (Quirk.NO_CRED_PROPS, "android-oem-no-credprops"),
])
def test_each_android_oem_quirk_has_its_own_profile(quirk: Quirk, name: str) -> None:
    assert PROFILES[name].quirks == frozenset({quirk})


def test_oem_quirk_profiles_are_consistent_with_their_quirk() -> None:
    assert PROFILES["android-oem-no-transports"].transports == ()
    be_only = PROFILES["android-oem-be-without-bs"]
    assert (be_only.backup_eligible, be_only.backup_state) == (True, False)
    assert PROFILES["android-oem-attestation-downgraded"].attestation.fmt == "none"


def test_spoofers_claim_an_allow_listed_aaguid_without_its_vendor_pki() -> None:
    unattested = PROFILES["spoofer-unattested"]
    self_signed = PROFILES["spoofer-self-signed-packed"]
    assert unattested.aaguid == self_signed.aaguid == PROFILES["yubikey-5-nfc-iphone"].aaguid
    assert unattested.attestation.fmt == "none"
    assert self_signed.attestation.vendor == "self-signed-spoofer"


def test_assumptions_name_real_profile_fields() -> None:
    for profile in PROFILES.values():
        assert profile.assumed <= PROFILE_FIELDS, profile.name


def test_u2f_only_key_has_no_uv_no_storage_and_fido_u2f() -> None:
    profile = PROFILES["u2f-only-key"]
    assert (profile.uv, profile.rk_capacity, profile.attestation.fmt) == ("none", 0, "fido-u2f")


def test_authenticators_command_lists_profiles_and_says_no_keys_are_attached(capsys) -> None:
    assert main(["authenticators"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^yubikey-5-nfc-iphone +2fc0579f-8113-47ea-b116-bb5a8db9202a +packed +"
                     r"deviceBound +iphone +nfc, usb$", out, re.MULTILINE)
    assert "Physical keys: none attached" in out


def test_authenticators_command_json_has_one_row_per_profile(capsys) -> None:
    assert main(["authenticators", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in listing["profiles"]] == list(PROFILES)
    assert listing["physicalKeys"] == []
    gpm = next(r for r in listing["profiles"] if r["name"] == "google-password-manager")
    assert (gpm["type"], gpm["platform"], gpm["format"]) == ("synced", "android", "none")


@pytest.mark.parametrize(("name", "aaguid", "vendor"), [
    ("test-revoked-key", "7e57aa00-0000-4000-8000-000000000001", "test-revoked"),
    ("test-compromised-key", "7e57aa00-0000-4000-8000-000000000002", "test-compromised"),
    ("test-ineligible-key", "7e57aa00-0000-4000-8000-000000000003", "test-ineligible"),
    ("test-unlisted-key", "7e57aa00-0000-4000-8000-000000000004", "yubico"),
])
def test_metadata_test_keys_are_packed_desktop_keys_with_test_aaguids_and_say_so(
        name: str, aaguid: str, vendor: str) -> None:
    profile = PROFILES[name]
    assert (profile.aaguid, profile.attestation.fmt, profile.attestation.vendor) == \
        (aaguid, "packed", vendor)
    assert profile.platform is Platform.DESKTOP
    assert profile.description.startswith("TEST ONLY: ")


def test_the_unlisted_test_key_is_in_no_test_metadata_record() -> None:
    assert "7e57aa00-0000-4000-8000-000000000004" not in {r.aaguid for r in mds.records()}


def test_the_ineligible_test_key_answers_no_extension_its_metadata_does_not_state() -> None:
    assert PROFILES["test-ineligible-key"].extensions == ("credProtect",)


@pytest.mark.parametrize(("name", "defect"), [
    ("yubikey-5-usb-expired-attestation", Defect.EXPIRED_LEAF),
    ("yubikey-5-usb-root-in-x5c", Defect.ROOT_INCLUDED),
    ("yubikey-5-usb-misordered-x5c", Defect.WRONG_ORDER),
    ("yubikey-5-usb-aaguid-mismatch", Defect.AAGUID_MISMATCH),
    ("yubikey-5-usb-bad-attestation-signature", Defect.BAD_SIGNATURE),
])
def test_broken_variant_differs_from_yubikey_5_usb_only_in_its_named_defect(
        name: str, defect: Defect) -> None:
    variant, original = PROFILES[name], PROFILES["yubikey-5-usb"]
    assert variant.attestation == AttesterSpec("packed", "yubico", defect)
    assert variant.description.startswith("TEST ONLY: deliberately broken variant")
    assert variant.test_only and not original.test_only
    assert replace(variant, name=original.name, description=original.description,
                   attestation=original.attestation, test_only=False) == original


def test_only_the_broken_variants_carry_a_defect() -> None:
    broken = {n for n, p in PROFILES.items() if p.attestation.defect is not None}
    assert broken == {"yubikey-5-usb-expired-attestation", "yubikey-5-usb-root-in-x5c",
                      "yubikey-5-usb-misordered-x5c", "yubikey-5-usb-aaguid-mismatch",
                      "yubikey-5-usb-bad-attestation-signature"}


def test_test_only_profiles_are_exactly_the_test_keys_and_broken_variants() -> None:
    flagged = {n for n, p in PROFILES.items() if p.test_only}
    assert flagged == {n for n, p in PROFILES.items() if p.description.startswith("TEST ONLY")}
    assert len(flagged) == 10


def test_cross_device_authenticator_is_the_ios_app_as_a_hybrid_authenticator() -> None:
    profile = PROFILES["microsoft-authenticator-ios-cross-device"]
    assert (profile.aaguid, profile.attestation.fmt) == \
        ("90a3ccdf-635c-4729-a248-9b709135078f", "packed")
    assert "hybrid" in profile.transports
    assert (profile.attachment, profile.passkey_type) == \
        (Attachment.CROSS_PLATFORM, "deviceBound")
