"""The CTAP client path: python-fido2's `Fido2Client` in front of any `CtapDevice`.

Software authenticators, the virtual HID key and physical keys all register through here, so
what differs between them is the authenticator, never the client. The client is the browser's
stand-in: it reports transports and attachment as a browser would, and applies the client-side
quirks of the platform a software profile emulates.

Speed (stack-notes: 3.7 ms per registration, ~60 % in `typing.get_type_hints` and getInfo
asked twice): clients are reused per device, origin and interaction, and each client's own
`Ctap2` parses getInfo again only when its bytes change. A software authenticator answers at
once, so its ceremonies keep their timeout without python-fido2's `threading.Timer` (a thread
started per call, ~0.2 ms of CPU): see `_timed`. Importing this module changes nothing
in python-fido2; its process-wide memoization of type hints and field keys is
`speedups.enable_fido2_speedups()`, which the CLI, the conformance plugin and the benchmarks
call.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from threading import Event, Lock
from typing import Any, TypeVar

from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap import STATUS, CtapDevice
from fido2.ctap2 import Ctap2, Info
from fido2.ctap2.extensions import (
    CredBlobExtension,
    CredPropsExtension,
    CredProtectExtension,
    HmacSecretExtension,
    LargeBlobExtension,
    MinPinLengthExtension,
)
from fido2.ctap2.pin import ClientPin
from fido2.hid import CTAPHID
from fido2.utils import websafe_encode
from fido2.webauthn import (
    AuthenticationExtensionsClientOutputs,
    AuthenticationResponse,
    AuthenticatorAttachment,
    AuthenticatorAttestationResponse,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialType,
    RegistrationResponse,
)

from ..authenticators.device import SoftwareAuthenticator
from ..authenticators.profiles import Profile, Quirk

_GET_INFO = bytes([Ctap2.CMD.GET_INFO])

@dataclass(eq=False, frozen=True, kw_only=True)
class BrowserAttestationResponse(AuthenticatorAttestationResponse):
    """The attestation response with the `transports` a browser adds (getTransports()),
    which python-fido2's type lacks; it serializes as `response.transports`."""

    transports: list[str] | None = None


# --- user interaction -------------------------------------------------------------------------
class ScriptedInteraction(UserInteraction):
    """Answers the client without a person: a known PIN, UV allowed, touches counted."""

    def __init__(self, pin: str | None = None):
        self.pin = pin
        self.touches = 0

    def prompt_up(self) -> None:
        self.touches += 1

    def request_pin(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> str | None:
        return self.pin


# --- getInfo once per ceremony ----------------------------------------------------------------
class _CeremonyDevice(CtapDevice):
    """Forwards to a device, remembering its parsed getInfo while the answer stays the same.

    python-fido2 asks getInfo up to three times per makeCredential, and parsing it is the
    costliest step of a software ceremony. Each ceremony asks the device once more and parses
    again only if the bytes changed (a PIN set, a reset), so nothing stale is ever used.
    """

    def __init__(self, device: CtapDevice):
        self._device = weakref.ref(device)  # the session cache must not keep devices alive
        self.info: Info | None = None
        self.raw_info: bytes | None = None  # the answer `info` was parsed from
        self.last_raw_info: bytes | None = None  # the latest getInfo answer passed through
        self.checked = False  # getInfo already asked in this ceremony

    @property
    def device(self) -> CtapDevice:
        device = self._device()
        if device is None:
            raise ReferenceError("the device of this ceremony is gone")
        return device

    def new_ceremony(self) -> None:
        self.checked = False

    @property
    def capabilities(self) -> int:
        return self.device.capabilities

    def call(self, cmd: int, data: bytes = b"", event: Event | None = None,
             on_keepalive: Callable[[STATUS], None] | None = None) -> bytes:
        response = self.device.call(cmd, data, event, on_keepalive)
        if cmd == CTAPHID.CBOR and data == _GET_INFO:
            self.last_raw_info = response
        return response

    def close(self) -> None:
        self.device.close()

    @classmethod
    def list_devices(cls) -> Iterator[CtapDevice]:
        return iter(())


class _CeremonyCtap2(Ctap2):
    """`Ctap2` whose getInfo goes through its `_CeremonyDevice`: asked once per ceremony and
    parsed only when its bytes change. Only the `Ctap2` of our own clients becomes one."""

    device: _CeremonyDevice

    def get_info(self) -> Info:
        device = self.device
        if device.checked and device.info is not None:
            return device.info
        raw = device.call(CTAPHID.CBOR, _GET_INFO)
        if device.info is None or raw != device.raw_info:
            # parse with fido2's own checks (it asks the device once more)
            device.info = super().get_info()
            device.raw_info = device.last_raw_info
        device.checked = True
        return device.info


def _remember_info(client: Fido2Client) -> None:
    """Make this client's own `Ctap2` a `_CeremonyCtap2` (fido2 builds it inside the client).

    A CTAP1-only device, or a fido2 without `_backend.ctap2`, asks getInfo every time instead.
    """
    ctap2 = getattr(getattr(client, "_backend", None), "ctap2", None)
    if type(ctap2) is Ctap2 and isinstance(device := ctap2.device, _CeremonyDevice):
        ctap2.__class__ = _CeremonyCtap2
        device.info, device.raw_info = ctap2.info, device.last_raw_info  # parsed when built


class _Collector(DefaultClientDataCollector):
    """fido2's collector for one origin, checking RP IDs with fido2's own `verify_rp_id` (a pure
    function of RP ID and origin: it parses the origin's URL each time) and remembering the
    few RP IDs it allowed; one it refused is checked, and refused, every time."""

    def __init__(self, origin: str):
        super().__init__(origin)
        self._allowed: set[str] = set()

    def verify_rp_id(self, rp_id: str, origin: str) -> None:
        if origin != self._origin or rp_id not in self._allowed:
            super().verify_rp_id(rp_id, origin)
            if origin == self._origin and len(self._allowed) < _RP_IDS_REMEMBERED:
                self._allowed.add(rp_id)


_RP_IDS_REMEMBERED = 16  # per session (one origin): Entra's pages use one RP ID


class _Session:
    """One reusable client for a device, origin and interaction."""

    def __init__(self, device: CtapDevice, origin: str, interaction: UserInteraction,
                 verify_rp_id: RpIdCheck | None):
        self.device = _CeremonyDevice(device)
        self.interaction = interaction
        collector = (_Collector(origin) if verify_rp_id is None
                     else DefaultClientDataCollector(origin, verify=verify_rp_id))
        self.client = Fido2Client(self.device, collector, interaction, extensions=_extensions())
        _remember_info(self.client)
        self.lock = Lock()  # one ceremony at a time per client, as a browser tab
        # the event of a software device's ceremonies without a timeout: never set (nothing
        # cancels them), where fido2 would make a new one per call
        self.idle = Event()


def _extensions() -> list[Any]:
    """fido2's default extensions, with hmacCreateSecret allowed: Entra's pages send it."""
    return [HmacSecretExtension(allow_hmac_secret=True), LargeBlobExtension(),
            CredBlobExtension(), CredProtectExtension(), MinPinLengthExtension(),
            CredPropsExtension()]


RpIdCheck = Callable[[str, str], bool]  # (rp_id, origin) -> allowed, as fido2.rpid.verify_rp_id
_SessionKey = tuple[str, UserInteraction, RpIdCheck | None]
_sessions: weakref.WeakKeyDictionary[CtapDevice, dict[_SessionKey, _Session]]
_sessions = weakref.WeakKeyDictionary()
_default_interactions: weakref.WeakKeyDictionary[CtapDevice, UserInteraction]
_default_interactions = weakref.WeakKeyDictionary()


def _session(device: CtapDevice, origin: str, interaction: UserInteraction | None,
             verify_rp_id: RpIdCheck | None = None) -> _Session:
    if interaction is None:
        interaction = _default_interactions.get(device)
        if interaction is None:  # a software key knows its own PIN
            interaction = ScriptedInteraction(getattr(device, "pin", None))
            _default_interactions[device] = interaction
    per_device = _sessions.setdefault(device, {})
    key = (origin, interaction, verify_rp_id)
    session = per_device.get(key)
    if session is None:
        session = per_device[key] = _Session(device, origin, interaction, verify_rp_id)
    return session


# --- the ceremonies ---------------------------------------------------------------------------
_Made = tuple[RegistrationResponse, AuthenticatorAttachment, list[str], dict[str, Any]]


def register(device: CtapDevice,
             options: PublicKeyCredentialCreationOptions | Mapping[str, Any], origin: str, *,
             user_interaction: UserInteraction | None = None,
             verify_rp_id: RpIdCheck | None = None) -> RegistrationResponse:
    """navigator.credentials.create() for `origin` against `device`, as a browser runs it.

    Raises `fido2.client.ClientError` as the client does (its `.cause` is the CTAP error).
    """
    return _browser_response(*_make(device, options, origin, user_interaction, verify_rp_id))


def register_json(device: CtapDevice,
                  options: PublicKeyCredentialCreationOptions | Mapping[str, Any], origin: str,
                  *, user_interaction: UserInteraction | None = None,
                  verify_rp_id: RpIdCheck | None = None) -> dict[str, Any]:
    """`dict(register(...))`: the response JSON a browser sends, made straight from the
    client's answer instead of building a response object only to read it back as a Mapping
    (a tenth of a software ceremony)."""
    return _browser_json(*_make(device, options, origin, user_interaction, verify_rp_id))


def _make(device: CtapDevice, options: PublicKeyCredentialCreationOptions | Mapping[str, Any],
          origin: str, user_interaction: UserInteraction | None,
          verify_rp_id: RpIdCheck | None) -> _Made:
    """The client's response, and the attachment, transports and extension outputs the
    browser reports with it."""
    session = _session(device, origin, user_interaction, verify_rp_id)
    parsed, event = _timed(device, PublicKeyCredentialCreationOptions.from_dict(options),
                           session.idle)
    with session.lock:
        session.device.new_ceremony()
        response = session.client.make_credential(parsed, event)
    profile = _profile(device)
    attachment, transports = _link(session, profile)
    outputs = dict(response.client_extension_results)
    if profile is not None and Quirk.NO_CRED_PROPS in profile.quirks:
        outputs.pop("credProps", None)
    return response, attachment, transports, outputs


def _browser_response(response: RegistrationResponse, attachment: AuthenticatorAttachment,
                      transports: list[str], outputs: dict[str, Any]) -> RegistrationResponse:
    return RegistrationResponse(
        raw_id=response.raw_id,
        response=BrowserAttestationResponse(
            client_data=response.response.client_data,
            attestation_object=response.response.attestation_object,
            transports=transports,
        ),
        authenticator_attachment=attachment,
        client_extension_results=AuthenticationExtensionsClientOutputs(outputs),
    )


def _browser_json(response: RegistrationResponse, attachment: AuthenticatorAttachment,
                  transports: list[str], outputs: dict[str, Any]) -> dict[str, Any]:
    """`dict(_browser_response(...))`, key for key in the same order: bytes as websafe
    base64, transports as they are (fido2 gives an empty list as a new []), the extension
    outputs as their Mapping reads them (none: {})."""
    credential_id = websafe_encode(response.raw_id)
    return {
        "id": credential_id,
        "rawId": credential_id,
        "response": {
            "clientDataJSON": websafe_encode(response.response.client_data),
            "attestationObject": websafe_encode(response.response.attestation_object),
            "transports": transports,
        },
        "authenticatorAttachment": attachment,
        "clientExtensionResults": dict(AuthenticationExtensionsClientOutputs(outputs))
        if outputs else {},
        "type": PublicKeyCredentialType.PUBLIC_KEY,
    }


def authenticate(device: CtapDevice,
                 options: PublicKeyCredentialRequestOptions | Mapping[str, Any], origin: str, *,
                 user_interaction: UserInteraction | None = None,
                 verify_rp_id: RpIdCheck | None = None) -> AuthenticationResponse:
    """navigator.credentials.get() for `origin` against `device`: the first assertion."""
    session = _session(device, origin, user_interaction, verify_rp_id)
    parsed, event = _timed(device, PublicKeyCredentialRequestOptions.from_dict(options),
                           session.idle)
    with session.lock:
        session.device.new_ceremony()
        selection = session.client.get_assertion(parsed, event)
    attachment, _ = _link(session, _profile(device))
    return replace(selection.get_response(0), authenticator_attachment=attachment)


class _Deadline(Event):
    """An event that also reads as set once `seconds` have passed: what python-fido2's timer
    thread does for a ceremony's timeout, for a device that only asks `is_set()` (ours)."""

    def __init__(self, seconds: float):
        super().__init__()
        self._deadline = time.monotonic() + seconds

    def is_set(self) -> bool:
        return super().is_set() or time.monotonic() >= self._deadline


_Options = TypeVar("_Options", PublicKeyCredentialCreationOptions,
                   PublicKeyCredentialRequestOptions)


def _timed(device: CtapDevice, options: _Options, idle: Event) -> tuple[_Options, Event | None]:
    """The options and event to give python-fido2's client for `device`.

    python-fido2 starts a `threading.Timer` per call whenever `timeout` is set, to set the
    call's event when it expires. For pkconf's software authenticator, which checks the event
    as each command starts, a `_Deadline` does the same without a thread, and the client gets
    the options without `timeout` (it uses it for nothing else); without a timeout, it gets
    the session's `idle` event, never set, instead of a new one per call. Any other device (a
    physical key, the virtual HID key) keeps python-fido2's own event and timer.
    """
    if not isinstance(device, SoftwareAuthenticator):
        return options, None
    if not options.timeout:
        return options, idle
    return replace(options, timeout=None), _Deadline(options.timeout / 1000)


def _profile(device: CtapDevice) -> Profile | None:
    """The profile a software device emulates: its client quirks are ours to apply."""
    profile = getattr(device, "profile", None)
    return profile if isinstance(profile, Profile) else None


def _link(session: _Session, profile: Profile | None
          ) -> tuple[AuthenticatorAttachment, list[str]]:
    """Attachment and transports as the browser reports them: from the profile of a software
    device, else from getInfo (`plat`, transports), a HID key counting as USB."""
    if profile is not None:
        return AuthenticatorAttachment(profile.attachment.value), list(profile.transports)
    info = session.client.info
    platform = info.options.get("plat") is True
    attachment = AuthenticatorAttachment.PLATFORM if platform else \
        AuthenticatorAttachment.CROSS_PLATFORM
    return attachment, list(info.transports) or ["usb"]
