"""Every profile registers and signs in through the CTAP client path, as Entra would ask.

Registration options are Entra's (entra-facts §7.1): rp login.microsoft.com, ES256 then RS256,
resident key and user verification required, attestation direct. The response then goes
through python-fido2's `Fido2Server.register_complete`, with the attestation checked against
the vendor's test root for the formats fido2 verifies, and through the tenant verifier for
android-key (which fido2 lacks).
"""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Callable
from hashlib import sha256

import fido2.client
import pytest
from fido2.attestation import AttestationVerifier
from fido2.client import ClientError
from fido2.ctap import CtapDevice
from fido2.server import Fido2Server
from fido2.utils import websafe_decode
from fido2.webauthn import (
    AttestationObject,
    AuthenticatorAttachment,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
)

from pkconf.authenticators.device import DEFAULT_PIN, SoftwareAuthenticator
from pkconf.authenticators.profiles import PROFILES, Profile
from pkconf.ceremonies import client
from pkconf.ceremonies.client import ScriptedInteraction, authenticate, register
from pkconf.tenant.attestation import verify_statement
from pkconf.testpki import vendor

ORIGIN = "https://login.microsoft.com"
RP = PublicKeyCredentialRpEntity(id="login.microsoft.com", name="Microsoft")
USER = PublicKeyCredentialUserEntity(id=b"user-1", name="adele@contoso.com",
                                     display_name="Adele Vance")
ENTRA_EXTENSIONS = {"credProps": True, "hmacCreateSecret": True}
CTAP2_PROFILES = [name for name, p in PROFILES.items() if p.attestation.fmt != "fido-u2f"]


class VendorRoot(AttestationVerifier):
    """Trusts exactly one test root: the vendor the profile names."""

    def __init__(self, root_der: bytes):
        super().__init__()
        self.root_der = root_der

    def ca_lookup(self, attestation_result, auth_data) -> bytes:
        return self.root_der


def _server(profile: Profile) -> Fido2Server:
    """fido2's server, checking attestation wherever fido2 has a verifier for the format and
    the statement is meant to verify (a deliberately broken test variant's is not)."""
    if profile.attestation.fmt in ("none", "android-key") or profile.attestation.defect:
        return Fido2Server(RP, attestation="none")
    root = vendor(profile.attestation.vendor).root.der
    return Fido2Server(RP, attestation="direct", verify_attestation=VendorRoot(root))


def _entra_registration(name: str) -> tuple[SoftwareAuthenticator, Fido2Server,
                                            RegistrationResponse, object]:
    profile = PROFILES[name]
    device = SoftwareAuthenticator(profile)
    server = _server(profile)
    options, state = server.register_begin(
        USER, resident_key_requirement="required", user_verification="required",
        extensions=ENTRA_EXTENSIONS)
    response = register(device, options.public_key, ORIGIN)
    return device, server, response, server.register_complete(state, response)


@pytest.mark.parametrize("name", CTAP2_PROFILES)
def test_profile_registers_for_entra_and_the_server_accepts_it(name: str) -> None:
    profile = PROFILES[name]
    _, _, response, auth_data = _entra_registration(name)
    att = response.response.attestation_object
    assert att.fmt == profile.attestation.fmt
    assert str(auth_data.credential_data.aaguid) == profile.aaguid
    assert auth_data.rp_id_hash == sha256(b"login.microsoft.com").digest()
    assert auth_data.is_user_verified()
    assert auth_data.is_backup_eligible() is profile.backup_eligible
    assert auth_data.is_backed_up() is profile.backup_state


@pytest.mark.parametrize("name", [n for n in CTAP2_PROFILES
                                  if PROFILES[n].attestation.fmt == "android-key"])
def test_android_key_profile_statement_verifies_with_the_tenant_verifier(name: str) -> None:
    _, _, response, _ = _entra_registration(name)
    att = AttestationObject(bytes(response.response.attestation_object))
    verified = verify_statement(att, response.response.client_data.hash)
    assert verified.fmt == "android-key"
    assert verified.attestation_type == "basic"


@pytest.mark.parametrize("name", CTAP2_PROFILES)
def test_registered_credential_signs_in(name: str) -> None:
    device, server, _, auth_data = _entra_registration(name)
    options, state = server.authenticate_begin([auth_data.credential_data],
                                               user_verification="required")
    assertion = authenticate(device, options.public_key, ORIGIN)
    credential = server.authenticate_complete(state, [auth_data.credential_data], assertion)
    assert credential.credential_id == auth_data.credential_data.credential_id


@pytest.mark.parametrize(("name", "attachment", "transports"), [
    ("windows-hello-hardware", AuthenticatorAttachment.PLATFORM, ["internal"]),
    ("yubikey-5-nfc-iphone", AuthenticatorAttachment.CROSS_PLATFORM, ["nfc", "usb"]),
    ("iphone-hybrid", AuthenticatorAttachment.CROSS_PLATFORM, ["hybrid", "internal"]),
    ("android-oem-no-transports", AuthenticatorAttachment.PLATFORM, []),
])
def test_response_reports_the_profiles_attachment_and_transports(
        name: str, attachment: AuthenticatorAttachment, transports: list[str]) -> None:
    _, _, response, _ = _entra_registration(name)
    as_json = dict(response)
    assert as_json["authenticatorAttachment"] == attachment
    assert as_json["response"]["transports"] == transports


def _typed(value: object) -> object:
    """A JSON value with its key order and every leaf's type, to compare two for sameness."""
    if isinstance(value, dict):
        return [(k, _typed(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return type(value), value


@pytest.mark.parametrize("extensions", [ENTRA_EXTENSIONS, None], ids=["entra", "none"])
@pytest.mark.parametrize("name", CTAP2_PROFILES)
def test_response_json_is_the_response_objects_mapping_key_for_key(
        name: str, extensions: dict[str, object] | None) -> None:
    profile = PROFILES[name]
    options, _ = _server(profile).register_begin(
        USER, resident_key_requirement="required", user_verification="required",
        extensions=extensions)
    made = client._make(SoftwareAuthenticator(profile), options.public_key, ORIGIN, None, None)
    assert _typed(client._browser_json(*made)) == _typed(dict(client._browser_response(*made)))


def test_register_json_registers_like_register() -> None:
    profile = PROFILES["yubikey-5-usb"]
    server = _server(profile)
    options, state = server.register_begin(
        USER, resident_key_requirement="required", user_verification="required",
        extensions=ENTRA_EXTENSIONS)
    as_json = client.register_json(SoftwareAuthenticator(profile), options.public_key, ORIGIN)
    auth_data = server.register_complete(state, as_json)
    assert auth_data.credential_data.credential_id == websafe_decode(as_json["id"])
    assert as_json["response"]["transports"] == list(profile.transports)


def test_client_that_drops_cred_props_reports_no_cred_props() -> None:
    _, _, response, _ = _entra_registration("android-oem-no-credprops")
    assert "credProps" not in response.client_extension_results


def test_cred_props_reports_a_resident_credential() -> None:
    _, _, response, _ = _entra_registration("google-password-manager")
    assert dict(response.client_extension_results)["credProps"] == {"rk": True}


def test_hmac_create_secret_is_answered_by_a_key_with_hmac_secret() -> None:
    _, _, response, auth_data = _entra_registration("yubikey-5-usb")
    assert response.client_extension_results["hmacCreateSecret"] is True
    assert auth_data.extensions == {"hmac-secret": True}


def test_pin_key_is_unlocked_with_the_pin_from_the_interaction() -> None:
    device = SoftwareAuthenticator(PROFILES["feitian-epass-nfc"], pin="4711")
    options, _ = Fido2Server(RP).register_begin(USER, user_verification="required")
    interaction = ScriptedInteraction(pin="4711")
    response = register(device, options.public_key, ORIGIN, user_interaction=interaction)
    assert response.response.attestation_object.auth_data.is_user_verified()
    assert interaction.touches == 1


def test_wrong_pin_fails_registration_as_a_bad_request() -> None:
    device = SoftwareAuthenticator(PROFILES["feitian-epass-nfc"], pin="4711")
    options, _ = Fido2Server(RP).register_begin(USER, user_verification="required")
    with pytest.raises(ClientError) as caught:
        register(device, options.public_key, ORIGIN,
                 user_interaction=ScriptedInteraction(pin="0000"))
    assert caught.value.code == ClientError.ERR.BAD_REQUEST


def test_u2f_only_key_cannot_meet_entra_options() -> None:
    device = SoftwareAuthenticator(PROFILES["u2f-only-key"])
    options, _ = Fido2Server(RP).register_begin(
        USER, resident_key_requirement="required", user_verification="required")
    with pytest.raises(ClientError) as caught:
        register(device, options.public_key, ORIGIN)
    assert caught.value.code == ClientError.ERR.CONFIGURATION_UNSUPPORTED


def test_u2f_only_key_registers_over_ctap1_and_signs_in() -> None:
    profile = PROFILES["u2f-only-key"]
    device = SoftwareAuthenticator(profile)
    server = _server(profile)
    options, state = server.register_begin(USER, user_verification="discouraged")
    response = register(device, options.public_key, ORIGIN)
    auth_data = server.register_complete(state, response)
    assert response.response.attestation_object.fmt == "fido-u2f"
    assert str(auth_data.credential_data.aaguid) == "00000000-0000-0000-0000-000000000000"
    request, state = server.authenticate_begin([auth_data.credential_data],
                                               user_verification="discouraged")
    assertion = authenticate(device, request.public_key, ORIGIN)
    server.authenticate_complete(state, [auth_data.credential_data], assertion)
    assert assertion.response.authenticator_data.counter == 1


def test_origin_outside_the_rp_id_is_refused_by_the_client() -> None:
    device = SoftwareAuthenticator(PROFILES["apple-passwords"])
    options, _ = Fido2Server(RP).register_begin(USER)
    with pytest.raises(ClientError) as caught:
        register(device, options.public_key, "https://login.example.com")
    assert caught.value.code == ClientError.ERR.BAD_REQUEST


def test_options_as_json_register_like_options_objects() -> None:
    device = SoftwareAuthenticator(PROFILES["samsung-pass"])
    server = Fido2Server(RP)
    options, state = server.register_begin(USER, user_verification="required")
    response = register(device, dict(options.public_key), ORIGIN)
    assert server.register_complete(state, response).credential_data is not None


class CountingAuthenticator(SoftwareAuthenticator):
    """Counts the getInfo requests that reach the authenticator."""

    get_info_calls = 0

    def call(self, cmd, data=b"", event=None, on_keepalive=None):
        if data == b"\x04":
            self.get_info_calls += 1
        return super().call(cmd, data, event, on_keepalive)


def test_repeat_ceremony_asks_get_info_once_and_reuses_the_client() -> None:
    device = CountingAuthenticator(PROFILES["apple-passwords"])
    options, _ = Fido2Server(RP).register_begin(USER, user_verification="required")
    register(device, options.public_key, ORIGIN)
    before = device.get_info_calls
    register(device, options.public_key, ORIGIN)
    assert device.get_info_calls - before == 1


def test_changed_get_info_is_read_again_in_the_next_ceremony() -> None:
    device = SoftwareAuthenticator(PROFILES["feitian-epass-nfc"])
    options, _ = Fido2Server(RP).register_begin(USER, user_verification="preferred")
    register(device, options.public_key, ORIGIN)
    device.call(0x10, b"\x07")  # authenticatorReset: the PIN is gone, clientPin turns false
    with pytest.raises(ClientError) as caught:
        register(device, options.public_key, ORIGIN)
    # a stale getInfo (clientPin true) would have sent the PIN: PIN_NOT_SET, a BAD_REQUEST
    assert caught.value.code == ClientError.ERR.CONFIGURATION_UNSUPPORTED


def test_an_allowed_rp_id_is_checked_once_per_session_and_a_refused_one_every_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    device = SoftwareAuthenticator(PROFILES["microsoft-authenticator-ios"])
    options, _ = Fido2Server(RP).register_begin(USER, user_verification="required")
    register(device, options.public_key, ORIGIN)
    collector = client._session(device, ORIGIN, None).client._client_data_collector
    checks: list[tuple[str, str]] = []
    monkeypatch.setattr(collector, "_verify",
                        lambda rp_id, origin: checks.append((rp_id, origin)) or False)
    register(device, options.public_key, ORIGIN)
    assert checks == []
    foreign, _ = Fido2Server(PublicKeyCredentialRpEntity(id="contoso.com", name="Contoso")
                             ).register_begin(USER, user_verification="required")
    for _ in range(2):
        with pytest.raises(ClientError):
            register(device, foreign.public_key, ORIGIN)
    assert checks == [("contoso.com", ORIGIN)] * 2


def test_session_cache_does_not_keep_a_device_alive() -> None:
    device = SoftwareAuthenticator(PROFILES["samsung-pass"])
    options, _ = Fido2Server(RP).register_begin(USER)
    register(device, options.public_key, ORIGIN)
    gone = weakref.ref(device)
    del device
    gc.collect()
    assert gone() is None


class _TimerSpy:
    """Stands in for `threading.Timer` in python-fido2's client: counts the timers started."""

    started = 0

    def __init__(self, seconds: float, action: Callable[[], None]):
        self.timer = threading.Timer(seconds, action)
        self.daemon = True

    def start(self) -> None:
        type(self).started += 1
        self.timer.daemon = self.daemon
        self.timer.start()

    def cancel(self) -> None:
        self.timer.cancel()


class _Forwarding(CtapDevice):
    """A device that is not pkconf's software authenticator (as a physical key is not)."""

    def __init__(self, device: CtapDevice):
        self.device = device

    @property
    def capabilities(self) -> int:
        return self.device.capabilities

    def call(self, cmd, data=b"", event=None, on_keepalive=None):
        return self.device.call(cmd, data, event, on_keepalive)

    @classmethod
    def list_devices(cls):
        return iter(())


class _Slow(SoftwareAuthenticator):
    """Takes 20 ms to start answering a makeCredential."""

    def call(self, cmd, data=b"", event=None, on_keepalive=None):
        if data[:1] == b"\x01":
            time.sleep(0.02)
        return super().call(cmd, data, event, on_keepalive)


@pytest.fixture
def timers(monkeypatch: pytest.MonkeyPatch) -> type[_TimerSpy]:
    monkeypatch.setattr(fido2.client, "Timer", _TimerSpy)
    monkeypatch.setattr(_TimerSpy, "started", 0)
    return _TimerSpy


def _timed_options(timeout_ms: int) -> dict:
    options, _ = Fido2Server(RP).register_begin(USER, user_verification="required")
    return {**dict(options.public_key), "timeout": timeout_ms}


def test_a_software_ceremony_with_a_timeout_starts_no_timer_thread(
        timers: type[_TimerSpy]) -> None:
    device = SoftwareAuthenticator(PROFILES["yubikey-5-usb"])
    response = register(device, _timed_options(60_000), ORIGIN)
    assert response.response.attestation_object.auth_data.credential_data is not None
    assert timers.started == 0


def test_a_device_that_is_not_ours_keeps_fidos_timer(timers: type[_TimerSpy]) -> None:
    device = _Forwarding(SoftwareAuthenticator(PROFILES["yubikey-5-usb"]))
    register(device, _timed_options(60_000), ORIGIN, user_interaction=ScriptedInteraction(
        DEFAULT_PIN))
    assert timers.started == 1


@pytest.mark.parametrize("ours", [True, False], ids=["software", "fidos-timer"])
def test_a_ceremony_past_its_timeout_is_cancelled_as_fidos_timer_cancels_it(
        ours: bool) -> None:
    slow = _Slow(PROFILES["apple-passwords"])
    device = slow if ours else _Forwarding(slow)
    with pytest.raises(ClientError) as caught:
        register(device, _timed_options(5), ORIGIN)
    assert caught.value.code == ClientError.ERR.TIMEOUT
    assert register(slow, _timed_options(60_000), ORIGIN).raw_id  # a later one is unaffected


class _Watched(SoftwareAuthenticator):
    """Remembers the event of every makeCredential."""

    events: list[threading.Event | None]

    def call(self, cmd, data=b"", event=None, on_keepalive=None):
        if data[:1] == b"\x01":
            self.events.append(event)
        return super().call(cmd, data, event, on_keepalive)


def test_software_ceremonies_without_a_timeout_share_one_event_never_set() -> None:
    device = _Watched(PROFILES["yubikey-5-usb"])
    device.events = []
    options = {k: v for k, v in _timed_options(1).items() if k != "timeout"}
    for _ in range(2):
        assert register(device, options, ORIGIN).raw_id
    assert len(device.events) == 2 and device.events[0] is device.events[1]
    assert device.events[0] is not None and not device.events[0].is_set()
