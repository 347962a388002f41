"""Every profile registers through python-fido2's client against the emulator, and gets the
decision written here: under a permissive policy, and under one that enforces attestation
with the suite's test MDS BLOB loaded."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies.ctap import Setup, register
from pkconf.ceremonies.tenant import TenantApi
from pkconf.emulator.server import EmulatorServer
from pkconf.inputs import read_metadata
from pkconf.paths import FIXTURES

UV = "USER_VERIFICATION_MISSING"
SYNCED = "PASSKEY_TYPE_NOT_ALLOWED"
WH_ENFORCED = "WINDOWS_HELLO_ATTESTATION_ENFORCED"  # since Windows Hello GA (the emulator's today)
# profile: (decision under permissive.json, decision under attestation-enforced.json)
EXPECTED = {
    "windows-hello-hardware": ("ACCEPTED", WH_ENFORCED),
    "windows-hello-vbs": ("ACCEPTED", WH_ENFORCED),
    "windows-hello-software": ("ACCEPTED", WH_ENFORCED),
    "yubikey-5-nfc-iphone": ("ACCEPTED", "ACCEPTED"),
    "yubikey-5ci-iphone": ("ACCEPTED", "ACCEPTED"),
    "iphone-hybrid": ("ACCEPTED", SYNCED),
    "apple-passwords": ("ACCEPTED", SYNCED),
    "microsoft-authenticator-ios": ("ACCEPTED", "ACCEPTED"),
    "google-password-manager": ("ACCEPTED", SYNCED),
    "samsung-pass": ("ACCEPTED", SYNCED),
    "pixel-android-key": ("ACCEPTED", "ATTESTATION_FORMAT_NOT_ACCEPTED"),
    "microsoft-authenticator-android": ("ACCEPTED", "ACCEPTED"),
    "android-oem-no-transports": ("ACCEPTED", SYNCED),
    "android-oem-be-without-bs": ("ACCEPTED", SYNCED),
    "android-oem-attestation-downgraded": ("ACCEPTED", "ATTESTATION_REQUIRED"),
    "android-oem-no-credprops": ("ACCEPTED", SYNCED),
    "yubikey-5-usb": ("ACCEPTED", "ACCEPTED"),
    "yubikey-5-fips": ("ACCEPTED", "ACCEPTED"),
    "feitian-epass-nfc": ("ACCEPTED", "ACCEPTED"),
    "google-titan-v2": ("ACCEPTED", "ACCEPTED"),
    "u2f-only-key": (UV, UV),
    "spoofer-unattested": ("ACCEPTED", "ATTESTATION_REQUIRED"),
    "spoofer-self-signed-packed": ("ACCEPTED", "ATTESTATION_UNTRUSTED"),
    "microsoft-authenticator-ios-cross-device": ("ACCEPTED", "CROSS_DEVICE_ATTESTED_AUTHENTICATOR"),
    # TEST ONLY keys and broken variants: not verified unless enforced, then refused for it
    "test-revoked-key": ("ACCEPTED", "AUTHENTICATOR_REVOKED"),
    "test-compromised-key": ("ACCEPTED", "ATTESTATION_KEY_COMPROMISED"),
    "test-ineligible-key": ("ACCEPTED", "AUTHENTICATOR_NOT_ELIGIBLE"),
    "test-uncertified-key": ("ACCEPTED", "AUTHENTICATOR_NOT_CERTIFIED"),
    "test-unlisted-key": ("ACCEPTED", "AUTHENTICATOR_NOT_IN_METADATA"),
    "yubikey-5-usb-expired-attestation": ("ACCEPTED", "ATTESTATION_CERTIFICATE_EXPIRED"),
    "yubikey-5-usb-root-in-x5c": ("ACCEPTED", "ATTESTATION_CHAIN_INVALID"),
    "yubikey-5-usb-misordered-x5c": ("ACCEPTED", "ATTESTATION_CERTIFICATE_INVALID"),
    "yubikey-5-usb-aaguid-mismatch": ("ACCEPTED", "ATTESTATION_AAGUID_MISMATCH"),
    "yubikey-5-usb-bad-attestation-signature": ("ACCEPTED", "ATTESTATION_SIGNATURE_INVALID"),
}


@pytest.fixture(scope="module")
def api() -> Iterator[TenantApi]:
    with EmulatorServer(metadata=read_metadata(None, None)) as server, \
            TenantApi(server.base_url) as tenant:
        yield tenant


def policy(name: str) -> dict:
    return json.loads((FIXTURES / "policies" / name).read_text())


def test_the_table_names_every_profile():
    assert set(EXPECTED) == set(PROFILES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize(("policy_file", "column"), [("permissive.json", 0),
                                                     ("attestation-enforced.json", 1)])
def test_profile_registration_gets_the_written_decision(api, name, policy_file, column):
    result = register(api, PROFILES[name], Setup(policy=policy(policy_file)))
    assert result.decision.reason == EXPECTED[name][column], result.decision
    if result.decision.reason == "ACCEPTED" and column == 1:
        assert result.decision.attestation_level == "attested"
