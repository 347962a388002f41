"""The software authenticator answers CTAP as a real one would, error codes included.

Driven through python-fido2's own `Ctap2`/`Ctap1`, so every request is what a client sends.
"""

from __future__ import annotations

from dataclasses import replace
from hashlib import sha256

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fido2 import cbor
from fido2.cose import ES256, RS256
from fido2.ctap import CtapError
from fido2.ctap1 import APDU, ApduError, Ctap1
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin
from fido2.hid import CTAPHID
from fido2.utils import websafe_encode
from fido2.webauthn import AttestedCredentialData

from pkconf.authenticators.device import ALGORITHMS, DEFAULT_PIN, SoftwareAuthenticator
from pkconf.authenticators.profiles import PROFILES, Uv
from pkconf.authenticators.statements import credential_aaguid
from pkconf.authenticators.statements.none import NoneAttester
from pkconf.ceremonies.client import register

ERR = CtapError.ERR
RP = {"id": "login.microsoft.com", "name": "Microsoft"}
CDH = sha256(b"client data").digest()
ES256_ONLY = [{"type": "public-key", "alg": ES256.ALGORITHM}]
ENTRA_ALGS = [{"type": "public-key", "alg": ES256.ALGORITHM},
              {"type": "public-key", "alg": RS256.ALGORITHM}]
ORIGIN = "https://login.microsoft.com"
ENTRA_OPTIONS = {"rp": RP, "user": {"id": websafe_encode(b"user-1"), "name": "adele"},
                 "challenge": websafe_encode(CDH), "pubKeyCredParams": ENTRA_ALGS,
                 "authenticatorSelection": {"residentKey": "required",
                                            "userVerification": "required"}}
U2F_OPTIONS = {**ENTRA_OPTIONS, "authenticatorSelection": {"userVerification": "discouraged"}}


def _user(n: int = 1) -> dict:
    return {"id": f"user-{n}".encode(), "name": f"user{n}@contoso.com"}


def _device(name: str, **changes) -> SoftwareAuthenticator:
    """A device for the profile (changed as asked), attesting none: these tests are about CTAP."""
    return SoftwareAuthenticator(replace(PROFILES[name], **changes), NoneAttester())


def _ctap2(name: str, **changes) -> tuple[SoftwareAuthenticator, Ctap2]:
    device = _device(name, **changes)
    return device, Ctap2(device)


def _raw(device: SoftwareAuthenticator, command: int, payload: bytes) -> int:
    """Send raw CBOR bytes; the CTAP status byte of the answer."""
    return device.call(CTAPHID.CBOR, bytes([command]) + payload)[0]


def _error(call) -> ERR:
    with pytest.raises(CtapError) as caught:
        call()
    return caught.value.code


# --- getInfo -------------------------------------------------------------------------------------
def test_get_info_lists_pin_protocols_and_the_profile_aaguid() -> None:
    _, ctap = _ctap2("yubikey-5-usb")
    assert ctap.info.pin_uv_protocols == [2, 1]
    assert str(ctap.info.aaguid) == "cb69481e-8ff7-4039-93ec-0a2729a154a8"
    assert ctap.info.versions == ["FIDO_2_0", "FIDO_2_1"]
    assert ctap.info.options == {"rk": True, "up": True, "plat": False, "clientPin": True,
                                 "makeCredUvNotRqd": True}
    assert ctap.info.extensions == ["credProtect", "hmac-secret"]


def test_get_info_answer_follows_the_pin_state() -> None:
    """The answer is remembered, yet a reset (no PIN any more) is answered anew."""
    device, _ = _ctap2("yubikey-5-usb")
    first = device.call(CTAPHID.CBOR, b"\x04")
    assert first == b"\0" + cbor.encode(device._info_map())
    assert device.call(CTAPHID.CBOR, b"\x04") == first
    device.call(CTAPHID.CBOR, b"\x07")  # authenticatorReset
    after = device.call(CTAPHID.CBOR, b"\x04")
    assert after != first
    assert cbor.decode(after[1:])[4]["clientPin"] is False


def test_get_info_between_assertions_ends_get_next_assertion() -> None:
    device, ctap = _ctap2("apple-passwords")
    for n in (1, 2):
        ctap.make_credential(CDH, RP, _user(n), ES256_ONLY, options={"rk": True, "uv": True})
    ctap.get_assertion(RP["id"], CDH, options={"uv": True})
    device.call(CTAPHID.CBOR, b"\x04")
    assert _raw(device, Ctap2.CMD.GET_NEXT_ASSERTION, b"") == ERR.NOT_ALLOWED


@pytest.mark.parametrize("name", ["yubikey-5-usb", "windows-hello-hardware", "u2f-only-key"])
def test_credential_data_are_the_bytes_of_fidos_create(name: str) -> None:
    """The device writes the attested credential data itself; fido2 would write the same."""
    device = SoftwareAuthenticator(PROFILES[name])
    made = register(device, ENTRA_OPTIONS if name != "u2f-only-key" else U2F_OPTIONS, ORIGIN)
    auth_data = made.response.attestation_object.auth_data
    credential = auth_data.credential_data
    assert credential is not None
    assert bytes(credential) == AttestedCredentialData.create(
        credential.aaguid, credential.credential_id, credential.public_key)
    assert credential_aaguid(auth_data) == credential_aaguid(bytes(auth_data)) \
        == bytes(credential.aaguid)


def test_platform_authenticator_reports_built_in_uv_and_plat() -> None:
    _, ctap = _ctap2("windows-hello-hardware")
    assert ctap.info.options["uv"] is True
    assert ctap.info.options["plat"] is True
    assert ctap.info.transports == ["internal"]
    assert [a["alg"] for a in ctap.info.algorithms] == [-257, -7]


def test_fips_key_reports_always_uv() -> None:
    _, ctap = _ctap2("yubikey-5-fips")
    assert ctap.info.options["alwaysUv"] is True


# --- makeCredential ------------------------------------------------------------------------------
def test_excluded_credential_is_refused_as_credential_excluded() -> None:
    _, ctap = _ctap2("apple-passwords")
    made = ctap.make_credential(CDH, RP, _user(), ES256_ONLY, options={"rk": True, "uv": True})
    exclude = [{"type": "public-key", "id": made.auth_data.credential_data.credential_id}]
    assert _error(lambda: ctap.make_credential(CDH, RP, _user(2), ES256_ONLY, exclude,
                                               options={"uv": True})) == ERR.CREDENTIAL_EXCLUDED


def test_excluded_credential_of_another_rp_does_not_block() -> None:
    _, ctap = _ctap2("apple-passwords")
    made = ctap.make_credential(CDH, {"id": "contoso.com"}, _user(), ES256_ONLY,
                               options={"uv": True})
    exclude = [{"type": "public-key", "id": made.auth_data.credential_data.credential_id}]
    again = ctap.make_credential(CDH, RP, _user(), ES256_ONLY, exclude, options={"uv": True})
    assert again.auth_data.credential_data is not None


def test_full_resident_key_store_is_refused_as_key_store_full() -> None:
    _, ctap = _ctap2("spoofer-unattested", rk_capacity=2)
    for n in (1, 2):
        ctap.make_credential(CDH, RP, _user(n), ES256_ONLY, options={"rk": True, "uv": True})
    assert _error(lambda: ctap.make_credential(
        CDH, RP, _user(3), ES256_ONLY, options={"rk": True, "uv": True})) == ERR.KEY_STORE_FULL


def test_resident_key_for_the_same_user_replaces_the_old_one() -> None:
    device, ctap = _ctap2("spoofer-unattested", rk_capacity=1)
    for _ in range(2):
        ctap.make_credential(CDH, RP, _user(), ES256_ONLY, options={"rk": True, "uv": True})
    assert sum(c.resident for c in device.credentials.values()) == 1


def test_non_resident_credentials_do_not_fill_the_key_store() -> None:
    device, ctap = _ctap2("spoofer-unattested", rk_capacity=1)
    for n in range(3):
        ctap.make_credential(CDH, RP, _user(n), ES256_ONLY, options={"uv": True})
    assert len(device.credentials) == 3


def test_resident_key_on_a_key_without_storage_is_an_unsupported_option() -> None:
    _, ctap = _ctap2("spoofer-unattested", rk_capacity=0)
    assert _error(lambda: ctap.make_credential(
        CDH, RP, _user(), ES256_ONLY, options={"rk": True})) == ERR.UNSUPPORTED_OPTION


def test_uv_option_on_a_key_without_built_in_uv_is_an_invalid_option() -> None:
    _, ctap = _ctap2("yubikey-5-usb", uv=Uv.NONE)
    assert _error(lambda: ctap.make_credential(
        CDH, RP, _user(), ES256_ONLY, options={"uv": True})) == ERR.INVALID_OPTION


def test_key_without_uv_makes_credentials_without_the_uv_flag() -> None:
    _, ctap = _ctap2("yubikey-5-usb", uv=Uv.NONE)
    made = ctap.make_credential(CDH, RP, _user(), ES256_ONLY)
    assert made.auth_data.is_user_present()
    assert not made.auth_data.is_user_verified()
    assert "uv" not in ctap.info.options and "clientPin" not in ctap.info.options


def test_resident_key_on_a_pin_protected_key_without_pin_requires_a_token() -> None:
    _, ctap = _ctap2("yubikey-5-usb")
    assert _error(lambda: ctap.make_credential(
        CDH, RP, _user(), ES256_ONLY, options={"rk": True})) == ERR.PUAT_REQUIRED


def test_up_false_at_make_credential_is_an_invalid_option() -> None:
    _, ctap = _ctap2("apple-passwords")
    assert _error(lambda: ctap.make_credential(
        CDH, RP, _user(), ES256_ONLY, options={"up": False})) == ERR.INVALID_OPTION


def test_unsupported_algorithm_is_refused_as_unsupported_algorithm() -> None:
    _, ctap = _ctap2("apple-passwords")
    eddsa_only = [{"type": "public-key", "alg": -8}]
    assert _error(lambda: ctap.make_credential(
        CDH, RP, _user(), eddsa_only, options={"uv": True})) == ERR.UNSUPPORTED_ALGORITHM


@pytest.mark.parametrize(("name", "alg", "key_type"), [
    ("apple-passwords", ES256.ALGORITHM, ec.EllipticCurvePrivateKey),
    ("windows-hello-hardware", RS256.ALGORITHM, rsa.RSAPrivateKey),
])
def test_credential_key_follows_the_algorithm_choice(name: str, alg: int, key_type: type) -> None:
    device, ctap = _ctap2(name)
    made = ctap.make_credential(CDH, RP, _user(), ENTRA_ALGS, options={"uv": True})
    public_key = made.auth_data.credential_data.public_key
    assert public_key[3] == alg
    assert isinstance(device.credentials[made.auth_data.credential_data.credential_id].key,
                      key_type)


def test_windows_hello_picks_rs256_although_the_rp_lists_es256_first() -> None:
    _, ctap = _ctap2("windows-hello-software")
    made = ctap.make_credential(CDH, RP, _user(), ENTRA_ALGS, options={"uv": True})
    assert made.auth_data.credential_data.public_key[3] == RS256.ALGORITHM


@pytest.mark.parametrize(("name", "be", "bs"), [
    ("google-password-manager", True, True),
    ("android-oem-be-without-bs", True, False),
    ("pixel-android-key", False, False),
])
def test_backup_flags_follow_the_profile(name: str, be: bool, bs: bool) -> None:
    _, ctap = _ctap2(name)
    made = ctap.make_credential(CDH, RP, _user(), ES256_ONLY, options={"uv": True})
    assert (made.auth_data.is_backup_eligible(), made.auth_data.is_backed_up()) == (be, bs)


def test_cred_protect_and_hmac_secret_are_answered_in_the_authenticator_data() -> None:
    _, ctap = _ctap2("google-titan-v2", uv=Uv.BUILT_IN)
    made = ctap.make_credential(CDH, RP, _user(), ES256_ONLY,
                                extensions={"credProtect": 2, "hmac-secret": True},
                                options={"uv": True})
    assert made.auth_data.extensions == {"credProtect": 2, "hmac-secret": True}


def test_profile_without_extensions_ignores_extension_inputs() -> None:
    _, ctap = _ctap2("apple-passwords")
    made = ctap.make_credential(CDH, RP, _user(), ES256_ONLY,
                                extensions={"credProtect": 2, "hmac-secret": True},
                                options={"uv": True})
    assert made.auth_data.extensions is None
    assert not made.auth_data.has_extension_data()


# --- getAssertion --------------------------------------------------------------------------------
def test_discoverable_credentials_of_the_rp_are_all_returned() -> None:
    _, ctap = _ctap2("apple-passwords")
    for n in (1, 2):
        ctap.make_credential(CDH, RP, _user(n), ES256_ONLY, options={"rk": True, "uv": True})
    assertions = ctap.get_assertions(RP["id"], CDH, options={"uv": True})
    assert sorted(a.user["id"] for a in assertions) == [b"user-1", b"user-2"]


def test_assertion_signature_verifies_with_the_credential_key() -> None:
    _, ctap = _ctap2("windows-hello-vbs")
    made = ctap.make_credential(CDH, RP, _user(), ENTRA_ALGS, options={"rk": True, "uv": True})
    assertion = ctap.get_assertion(RP["id"], CDH, options={"uv": True})
    assertion.verify(CDH, made.auth_data.credential_data.public_key)
    assert assertion.auth_data.counter == 1


def test_synced_passkey_keeps_its_counter_at_zero() -> None:
    _, ctap = _ctap2("samsung-pass")
    ctap.make_credential(CDH, RP, _user(), ES256_ONLY, options={"rk": True, "uv": True})
    assert ctap.get_assertion(RP["id"], CDH, options={"uv": True}).auth_data.counter == 0


def test_credential_protected_at_level_three_is_not_found_without_uv() -> None:
    _, ctap = _ctap2("google-titan-v2", uv=Uv.BUILT_IN)
    ctap.make_credential(CDH, RP, _user(), ES256_ONLY, extensions={"credProtect": 3},
                         options={"rk": True, "uv": True})
    assert _error(lambda: ctap.get_assertion(RP["id"], CDH)) == ERR.NO_CREDENTIALS
    assert ctap.get_assertion(RP["id"], CDH, options={"uv": True}).auth_data.is_user_verified()


def test_unknown_credential_is_answered_no_credentials() -> None:
    _, ctap = _ctap2("apple-passwords")
    allow = [{"type": "public-key", "id": b"\x01" * 32}]
    assert _error(lambda: ctap.get_assertion(RP["id"], CDH, allow)) == ERR.NO_CREDENTIALS


# --- client PIN ----------------------------------------------------------------------------------
def test_pin_token_authorises_a_resident_credential() -> None:
    _, ctap = _ctap2("yubikey-5-usb")
    pin = ClientPin(ctap)
    token = pin.get_pin_token(DEFAULT_PIN)
    made = ctap.make_credential(CDH, RP, _user(), ES256_ONLY, options={"rk": True},
                                pin_uv_param=pin.protocol.authenticate(token, CDH),
                                pin_uv_protocol=pin.protocol.VERSION)
    assert made.auth_data.is_user_verified()


def test_wrong_pin_is_pin_invalid_and_costs_a_retry() -> None:
    _, ctap = _ctap2("yubikey-5-usb")
    pin = ClientPin(ctap)
    assert _error(lambda: pin.get_pin_token("000000")) == ERR.PIN_INVALID
    assert pin.get_pin_retries()[0] == 7


def _key_agreement(ctap: Ctap2) -> dict[int, object]:
    return dict(ctap.client_pin(2, ClientPin.CMD.GET_KEY_AGREEMENT)[ClientPin.RESULT.KEY_AGREEMENT])


def test_key_agreement_is_the_pin_keys_cose_form_until_a_wrong_pin_replaces_the_key() -> None:
    device, ctap = _ctap2("yubikey-5-usb")
    expected = {**ES256.from_cryptography_key(device._pin.key_agreement.public_key()), 3: -25}
    first = _key_agreement(ctap)
    assert list(first.items()) == list(expected.items())
    assert _key_agreement(ctap) == first
    pin = ClientPin(ctap)
    assert _error(lambda: pin.get_pin_token("000000")) == ERR.PIN_INVALID
    assert _key_agreement(ctap) != first
    assert pin.get_pin_token(DEFAULT_PIN)


def test_pin_auth_from_another_token_is_pin_auth_invalid() -> None:
    _, ctap = _ctap2("yubikey-5-usb")
    pin = ClientPin(ctap)
    pin.get_pin_token(DEFAULT_PIN)
    forged = pin.protocol.authenticate(b"\x00" * 32, CDH)
    assert _error(lambda: ctap.make_credential(
        CDH, RP, _user(), ES256_ONLY, pin_uv_param=forged,
        pin_uv_protocol=pin.protocol.VERSION)) == ERR.PIN_AUTH_INVALID


def test_empty_pin_auth_probe_on_a_key_without_pin_is_pin_not_set() -> None:
    _, ctap = _ctap2("yubikey-5-usb")
    ctap.reset()
    assert _error(lambda: ctap.make_credential(
        CDH, RP, _user(), ES256_ONLY, pin_uv_param=b"", pin_uv_protocol=2)) == ERR.PIN_NOT_SET


# --- malformed requests --------------------------------------------------------------------------
@pytest.mark.parametrize(("payload", "status"), [
    (b"\xa1\x01", ERR.INVALID_CBOR),  # truncated map
    (cbor.encode([1, 2]), ERR.CBOR_UNEXPECTED_TYPE),  # not a map
    (cbor.encode({1: CDH, 2: RP, 3: _user()}), ERR.MISSING_PARAMETER),  # no pubKeyCredParams
    (cbor.encode({1: "not bytes", 2: RP, 3: _user(), 4: ES256_ONLY}), ERR.CBOR_UNEXPECTED_TYPE),
    (cbor.encode({1: CDH, 2: {"name": "x"}, 3: _user(), 4: ES256_ONLY}), ERR.MISSING_PARAMETER),
    (cbor.encode({1: CDH, 2: RP, 3: _user(), 4: [{"type": "public-key", "alg": "ES256"}]}),
     ERR.CBOR_UNEXPECTED_TYPE),
])
def test_malformed_make_credential_is_a_clean_ctap_error(payload: bytes, status: ERR) -> None:
    assert _raw(_device("apple-passwords"), Ctap2.CMD.MAKE_CREDENTIAL, payload) == status


def test_unknown_ctap2_command_is_invalid_command() -> None:
    assert _raw(_device("apple-passwords"), 0x55, b"") == ERR.INVALID_COMMAND


def test_client_pin_on_a_platform_authenticator_is_invalid_command() -> None:
    assert _raw(_device("apple-passwords"), Ctap2.CMD.CLIENT_PIN,
                cbor.encode({1: 2, 2: 2})) == ERR.INVALID_COMMAND


# --- CTAP1 / U2F ---------------------------------------------------------------------------------
def _u2f() -> tuple[SoftwareAuthenticator, Ctap1]:
    device = SoftwareAuthenticator(PROFILES["u2f-only-key"])
    return device, Ctap1(device)


def test_u2f_key_answers_ctap1_and_refuses_ctap2() -> None:
    device, ctap1 = _u2f()
    assert ctap1.get_version() == "U2F_V2"
    with pytest.raises(ValueError, match="CTAP2"):
        Ctap2(device)


def test_u2f_registration_signature_verifies() -> None:
    _, ctap1 = _u2f()
    app = sha256(b"login.microsoft.com").digest()
    registration = ctap1.register(CDH, app)
    registration.verify(app, CDH)
    signature = ctap1.authenticate(CDH, app, registration.key_handle)
    signature.verify(app, CDH, registration.public_key)
    assert signature.counter == 1


@pytest.mark.parametrize(("app", "check_only", "status"), [
    (sha256(b"login.microsoft.com").digest(), True, APDU.USE_NOT_SATISFIED),  # "it is mine"
    (sha256(b"contoso.com").digest(), True, APDU.WRONG_DATA),  # another app's handle
    (sha256(b"contoso.com").digest(), False, APDU.WRONG_DATA),
])
def test_u2f_authenticate_answers_with_status_words(app: bytes, check_only: bool,
                                                    status: int) -> None:
    _, ctap1 = _u2f()
    handle = ctap1.register(CDH, sha256(b"login.microsoft.com").digest()).key_handle
    with pytest.raises(ApduError) as caught:
        ctap1.authenticate(CDH, app, handle, check_only=check_only)
    assert caught.value.code == status


@pytest.mark.parametrize(("apdu", "status"), [
    (b"\x00\x01", 0x6700),  # too short to be an APDU
    (b"\x80\x03\x00\x00", 0x6E00),  # class byte not 00
    (b"\x00\x40\x00\x00", 0x6D00),  # unknown instruction
    (b"\x00\x01\x00\x00\x00\x00\x05abc", 0x6700),  # Lc says 5, 3 bytes follow
    (b"\x00\x01\x00\x00\x00\x00\x03abc\x00\x00", 0x6700),  # register with 3 bytes
])
def test_malformed_apdu_gets_a_status_word(apdu: bytes, status: int) -> None:
    device, _ = _u2f()
    assert device.call(CTAPHID.MSG, apdu)[-2:] == status.to_bytes(2)


def test_es256_credential_keys_are_fidos_cose_keys() -> None:
    """The device reads the point's bytes; fido2 builds the same COSE key from its numbers."""
    keys = [ec.derive_private_key(n, ec.SECP256R1()) for n in range(1, 400)]
    short = [k for k in keys if min(k.public_key().public_numbers().x,
                                    k.public_key().public_numbers().y) < 2**248]
    assert short  # coordinates with a leading zero byte are among them
    for key in keys:
        ours, fidos = ALGORITHMS[ES256.ALGORITHM].cose(key), ES256.from_cryptography_key(
            key.public_key())
        assert type(ours) is type(fidos)
        assert list(ours.items()) == list(fidos.items())
