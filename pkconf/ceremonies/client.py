"""The CTAP client path: python-fido2's `Fido2Client` in front of any `CtapDevice`.

Software authenticators, the virtual HID key and physical keys all register through here, so
what differs between them is the authenticator, never the client. The client is the browser's
stand-in: it reports transports and attachment as a browser would, and applies the client-side
quirks of the platform a software profile emulates.

Speed (stack-notes: 3.7 ms per registration, ~60 % in `typing.get_type_hints` and getInfo
asked twice): python-fido2's data classes re-evaluate their type hints, and look up each
field's wire key by a linear search of `dataclasses.fields`, on every construction. Both are
pure functions of the class, so both are memoized per class, at run time (fido2's files are
untouched); clients are reused per device, origin and interaction; and getInfo, for devices
reached through here, is parsed again only when its bytes change.
"""

from __future__ import annotations

import typing
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import Field, dataclass, replace
from threading import Event, Lock
from typing import Any

import fido2.utils
from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap import STATUS, CtapDevice
from fido2.ctap2 import Ctap2, Info
from fido2.ctap2.base import _CborDataObject
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
from fido2.utils import _JsonDataObject
from fido2.webauthn import (
    AuthenticationExtensionsClientOutputs,
    AuthenticationResponse,
    AuthenticatorAttachment,
    AuthenticatorAttestationResponse,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions,
    RegistrationResponse,
)

from ..authenticators.profiles import Profile, Quirk

_GET_INFO = bytes([Ctap2.CMD.GET_INFO])

# --- fido2 speed-up: memoized type hints -------------------------------------------------------
_hints: dict[type, dict[str, Any]] = {}


def _memo_type_hints(obj: Any, globalns: Any = None, localns: Any = None,
                     include_extras: bool = False) -> dict[str, Any]:
    """`typing.get_type_hints`, remembered per class for the plain call fido2 makes."""
    if not isinstance(obj, type) or globalns or localns or include_extras:
        return typing.get_type_hints(obj, globalns, localns, include_extras)
    hints = _hints.get(obj)
    if hints is None:
        hints = _hints[obj] = typing.get_type_hints(obj)
    return hints


def _memoize_field_keys(owner: type) -> None:
    """Remember `owner._get_field_key(cls, field)` per class and field name."""
    compute = owner._get_field_key.__func__  # type: ignore[attr-defined]
    memo: dict[tuple[type, str], Any] = {}

    def field_key(cls: type, f: Field[Any]) -> Any:
        key = (cls, f.name)
        if key not in memo:
            memo[key] = compute(cls, f)
        return memo[key]

    owner._get_field_key = classmethod(field_key)  # type: ignore[attr-defined]


fido2.utils.get_type_hints = _memo_type_hints  # type: ignore[attr-defined]
_memoize_field_keys(_CborDataObject)
_memoize_field_keys(_JsonDataObject)


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
        self.raw_info: bytes | None = None
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
        return self.device.call(cmd, data, event, on_keepalive)

    def close(self) -> None:
        self.device.close()

    @classmethod
    def list_devices(cls) -> Iterator[CtapDevice]:
        return iter(())


_fido2_get_info = Ctap2.get_info


def _get_info(ctap2: Ctap2) -> Info:
    """`Ctap2.get_info`, parsed only when its bytes change, for devices wrapped here."""
    device = ctap2.device
    if not isinstance(device, _CeremonyDevice):
        return _fido2_get_info(ctap2)
    if device.checked and device.info is not None:
        return device.info
    raw = device.call(CTAPHID.CBOR, _GET_INFO)
    if device.info is None or raw != device.raw_info:
        # parse with fido2's own checks (it asks the device once more)
        device.info, device.raw_info = _fido2_get_info(ctap2), raw
    device.checked = True
    return device.info


Ctap2.get_info = _get_info  # type: ignore[method-assign]


class _Session:
    """One reusable client for a device, origin and interaction."""

    def __init__(self, device: CtapDevice, origin: str, interaction: UserInteraction,
                 verify_rp_id: RpIdCheck | None):
        self.device = _CeremonyDevice(device)
        self.interaction = interaction
        collector = (DefaultClientDataCollector(origin) if verify_rp_id is None
                     else DefaultClientDataCollector(origin, verify=verify_rp_id))
        self.client = Fido2Client(self.device, collector, interaction, extensions=_extensions())
        self.lock = Lock()  # one ceremony at a time per client, as a browser tab


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
def register(device: CtapDevice,
             options: PublicKeyCredentialCreationOptions | Mapping[str, Any], origin: str, *,
             user_interaction: UserInteraction | None = None,
             verify_rp_id: RpIdCheck | None = None) -> RegistrationResponse:
    """navigator.credentials.create() for `origin` against `device`, as a browser runs it.

    Raises `fido2.client.ClientError` as the client does (its `.cause` is the CTAP error).
    """
    session = _session(device, origin, user_interaction, verify_rp_id)
    with session.lock:
        session.device.new_ceremony()
        response = session.client.make_credential(
            PublicKeyCredentialCreationOptions.from_dict(options))
    profile = _profile(device)
    attachment, transports = _link(session, profile)
    outputs = dict(response.client_extension_results)
    if profile is not None and Quirk.NO_CRED_PROPS in profile.quirks:
        outputs.pop("credProps", None)
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


def authenticate(device: CtapDevice,
                 options: PublicKeyCredentialRequestOptions | Mapping[str, Any], origin: str, *,
                 user_interaction: UserInteraction | None = None,
                 verify_rp_id: RpIdCheck | None = None) -> AuthenticationResponse:
    """navigator.credentials.get() for `origin` against `device`: the first assertion."""
    session = _session(device, origin, user_interaction, verify_rp_id)
    with session.lock:
        session.device.new_ceremony()
        selection = session.client.get_assertion(
            PublicKeyCredentialRequestOptions.from_dict(options))
    attachment, _ = _link(session, _profile(device))
    return replace(selection.get_response(0), authenticator_attachment=attachment)


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
