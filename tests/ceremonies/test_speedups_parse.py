"""The parse speed-ups are fido2's own parse, faster: every profile's registration, parsed
both ways, gives the same objects and serializes the same; odd input is taken or refused as
fido2 takes or refuses it (the same exception and message); remembered authenticator data
share nothing mutable."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

import fido2.utils
import pytest
from fido2 import cbor
from fido2.ctap2.base import AttestationResponse
from fido2.utils import websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticationResponse,
    AuthenticatorData,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    RegistrationResponse,
)

from pkconf.authenticators.device import SoftwareAuthenticator
from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies import speedups
from pkconf.ceremonies.client import authenticate, register
from pkconf.ceremonies.speedups import disable_fido2_speedups, enable_fido2_speedups
from tests.fido2_speedups import OPTIONS as ENTRA_OPTIONS
from tests.fido2_speedups import (
    ORIGIN,
    keep_speedups_setting,  # noqa: F401 - autouse
    plain,
)

# Options every profile can meet (the U2F-only key and those without UV included)
OPTIONS = {**ENTRA_OPTIONS,
           "authenticatorSelection": {"residentKey": "discouraged",
                                      "userVerification": "discouraged"},
           "extensions": {"credProps": True, "hmacCreateSecret": True, "credProtect": 2}}
ODD_OPTIONS = {  # name -> what is odd about OPTIONS (fido2 takes some, refuses most)
    "challenge-an-int": {"challenge": 7},
    "challenge-not-base64": {"challenge": "***"},
    "params-a-map": {"pubKeyCredParams": {"type": "public-key", "alg": -7}},
    "params-alg-a-word": {"pubKeyCredParams": [{"type": "public-key", "alg": "es"}]},
    "params-type-unknown": {"pubKeyCredParams": [{"type": "secret", "alg": -7}]},
    "user-without-id": {"user": {"name": "adele"}},
    "user-a-list": {"user": ["adele"]},
    "rp-missing": {"rp": None},
    "timeout-a-word": {"timeout": "soon"},
    "selection-a-list": {"authenticatorSelection": ["required"]},
    "selection-uv-unknown": {"authenticatorSelection": {"userVerification": "always"}},
    "exclude-without-id": {"excludeCredentials": [{"type": "public-key"}]},
    "exclude-transports-a-word": {"excludeCredentials": [{"type": "public-key", "id": "AQ",
                                                          "transports": 5}]},
    "attestation-unknown": {"attestation": "indirect-ish"},
    "attestation-a-list": {"attestation": ["direct"]},  # unhashable: no member by lookup
    "attestation-an-int": {"attestation": 1},
    "hints-a-word": {"hints": 3},
    "extensions-a-list": {"extensions": ["credProps"]},
}


def _outcome(parse: Callable[[], Any]) -> Any:
    """What a parse gives, comparably: its repr, its Mapping view and its attributes, or the
    type and message of what it raised."""
    try:
        parsed = parse()
    except Exception as e:  # the point: which exception, and what it says
        return type(e), str(e), type(e.__context__)
    return repr(parsed), plain(parsed), plain(getattr(parsed, "__dict__", None))


def _both_ways(parse: Callable[[], Any]) -> tuple[Any, Any]:
    disable_fido2_speedups()
    own = _outcome(parse)
    assert enable_fido2_speedups()
    return own, _outcome(parse)


@pytest.fixture(scope="module")
def registrations() -> dict[str, RegistrationResponse]:
    """One registration per profile (made with the speed-ups on, as the suite makes them)."""
    assert enable_fido2_speedups()
    return {name: register(SoftwareAuthenticator(profile), OPTIONS, ORIGIN)
            for name, profile in PROFILES.items()}


@pytest.mark.parametrize("name", PROFILES)
def test_every_profiles_registration_parses_as_with_fido(
        registrations: dict[str, RegistrationResponse], name: str) -> None:
    response = registrations[name]
    blob = dict(response)
    att = bytes(response.response.attestation_object)
    decoded = cbor.decode(att)
    auth_data = decoded["authData"]
    parses: list[Callable[[], Any]] = [
        lambda: RegistrationResponse.from_dict(blob),
        lambda: dict(RegistrationResponse.from_dict(blob)),
        lambda: AttestationObject(att),
        lambda: AuthenticatorData(auth_data),
        lambda: _unremembered(auth_data),
        lambda: AttestationResponse.from_dict(
            {1: decoded["fmt"], 2: auth_data, 3: decoded["attStmt"]}),
    ]
    for parse in parses:
        own, fast = _both_ways(parse)
        assert fast == own
        assert not isinstance(own[0], type), own  # parsed, not failed


@pytest.mark.parametrize("name", ["yubikey-5-usb", "windows-hello-hardware", "u2f-only-key",
                                  "google-password-manager"])
def test_sign_in_responses_parse_as_with_fido(name: str) -> None:
    assert enable_fido2_speedups()
    device = SoftwareAuthenticator(PROFILES[name])
    made = register(device, OPTIONS, ORIGIN)
    request = {"challenge": OPTIONS["challenge"], "rpId": "login.microsoft.com",
               "timeout": 60000, "userVerification": "discouraged",
               "allowCredentials": [{"type": "public-key", "id": websafe_encode(made.raw_id)}]}
    blob = dict(authenticate(device, request, ORIGIN))
    for parse in (lambda: PublicKeyCredentialRequestOptions.from_dict(request),
                  lambda: AuthenticationResponse.from_dict(blob),
                  lambda: dict(AuthenticationResponse.from_dict(blob))):
        own, fast = _both_ways(parse)
        assert fast == own
        assert not isinstance(own[0], type), own


def test_the_options_parse_and_serialize_as_with_fido() -> None:
    own, fast = _both_ways(lambda: PublicKeyCredentialCreationOptions.from_dict(OPTIONS))
    assert fast == own
    assert own[1]["extensions"] == OPTIONS["extensions"]


@pytest.mark.parametrize("name", ODD_OPTIONS)
def test_odd_options_parse_or_fail_as_with_fido(name: str) -> None:
    options = {**OPTIONS, **ODD_OPTIONS[name]}
    own, fast = _both_ways(lambda: PublicKeyCredentialCreationOptions.from_dict(options))
    assert fast == own


def test_most_odd_options_are_refused() -> None:
    """The cases above exercise fido2's failures, not only its forgiveness."""
    refused = [name for name, change in ODD_OPTIONS.items() if isinstance(_outcome(
        lambda change=change: PublicKeyCredentialCreationOptions.from_dict(
            {**OPTIONS, **change}))[0], type)]
    assert len(refused) > len(ODD_OPTIONS) // 2, refused


@pytest.mark.parametrize("change", [
    {"id": "not-the-raw-id"}, {"response": None}, {"response": {"clientDataJSON": "e30"}},
    {"authenticatorAttachment": "pocket"}, {"rawId": 5},
], ids=["id-mismatch", "no-response", "no-attestation-object", "attachment-unknown",
        "raw-id-an-int"])
def test_odd_registration_responses_parse_or_fail_as_with_fido(
        registrations: dict[str, RegistrationResponse], change: dict[str, Any]) -> None:
    blob = {**dict(registrations["yubikey-5-usb"]), **change}
    own, fast = _both_ways(lambda: RegistrationResponse.from_dict(blob))
    assert fast == own


@pytest.mark.parametrize("damage", [
    lambda a: a[:36], lambda a: a[:37], lambda a: a[:40], lambda a: a[:-1],
    lambda a: a + b"\x00",
    lambda a: a[:32] + bytes([a[32] & ~AuthenticatorData.FLAG.ED]) + a[33:],
    lambda a: a[:32] + bytes([a[32] & ~AuthenticatorData.FLAG.AT]) + a[33:],
], ids=["header-only", "fixed-fields-only", "aaguid-cut", "one-byte-short", "one-byte-more",
        "extensions-without-their-flag", "credential-without-its-flag"])
def test_bad_authenticator_data_fail_as_with_fido_every_time(
        registrations: dict[str, RegistrationResponse],
        damage: Callable[[bytes], bytes]) -> None:
    auth_data = damage(bytes(registrations["yubikey-5-usb"].response.attestation_object
                             .auth_data))
    for _ in range(2):  # a failure is never remembered
        own, fast = _both_ways(lambda: AuthenticatorData(auth_data))
        assert isinstance(own[0], type)
        assert fast == own


def _unremembered(auth_data: bytes) -> AuthenticatorData:
    """Authenticator data parsed as new bytes are (the memo emptied first)."""
    speedups._auth_data.clear()
    return AuthenticatorData(auth_data)


@pytest.mark.parametrize("order", [[-3, -2, -1, 3, 1], [3, 1, -1, -2, -3]],
                         ids=["reversed", "alg-first"])
def test_a_cose_key_out_of_canonical_order_parses_as_with_fido(
        registrations: dict[str, RegistrationResponse], order: list[int]) -> None:
    """fido2 keeps the re-encoded (canonical) bytes and key order; so do the speed-ups."""
    auth_data = registrations["yubikey-5-usb"].response.attestation_object.auth_data
    credential = auth_data.credential_data
    assert credential is not None
    key = credential.public_key
    encoded = bytes([0xA0 | len(order)]) + b"".join(
        cbor.encode(k) + cbor.encode(key[k]) for k in order)
    assert encoded != cbor.encode(key)
    head = bytes(auth_data)[:37]
    raw = (bytes([head[32] & ~AuthenticatorData.FLAG.ED]).join([head[:32], head[33:]])
           + bytes(credential)[:-len(cbor.encode(key))] + encoded)
    own, fast = _both_ways(lambda: _unremembered(raw))
    assert fast == own
    assert not isinstance(own[0], type), own


@pytest.mark.parametrize("damage", [
    lambda c: c, lambda c: c + b"\xa0", lambda c: c[:-1], lambda c: c[:16] + b"\x00\xff" + c[18:],
    lambda c: c[:-35] + b"\x22\x58\x21" + c[-32:] + b"\x00",
    lambda c: c[:-77] + b"\xa5\x01\x02\x03\x26\x20\x01\x21\x58\x21" + c[-67:] + b"\x00",
], ids=["as-made", "bytes-after-it", "one-byte-short", "id-longer-than-the-data",
        "y-of-33-bytes", "x-of-33-bytes"])
def test_es256_credential_data_read_off_their_layout_unpack_as_with_fido(
        registrations: dict[str, RegistrationResponse],
        damage: Callable[[bytes], bytes]) -> None:
    credential = registrations["yubikey-5-usb"].response.attestation_object.auth_data \
        .credential_data
    assert credential is not None and len(cbor.encode(credential.public_key)) == 77
    raw = damage(bytes(credential))
    own, fast = _both_ways(lambda: AttestedCredentialData.unpack_from(raw))
    assert fast == own


@pytest.mark.parametrize("name", PROFILES)
def test_every_profiles_attestation_object_is_created_as_with_fido(
        registrations: dict[str, RegistrationResponse], name: str) -> None:
    att = registrations[name].response.attestation_object
    own, fast = _both_ways(lambda: AttestationObject.create(att.fmt, att.auth_data, att.att_stmt))
    assert fast == own
    assert not isinstance(own[0], type), own


class _Key(IntEnum):
    ONE = 1


class _Fmt(StrEnum):
    PACKED = "packed"


@pytest.mark.parametrize("parts", [
    ("packed", {"x5c": [b"c"], "sig": b"s", "alg": -7}),  # keys out of canonical order
    ("packed", {"alg": -7, "nested": {"b": [1, {"z": True, "a": False}], 10: "x", -1: b""}}),
    (_Fmt.PACKED, {"alg": -7}), ("packed", {_Key.ONE: "one"}), ("packed", {"x5c": (b"c",)}),
    ("packed", {(1, 2): "tuple key"}), ("packed", {"alg": None}), ("packed", {"alg": 1.5}),
    ("packed", {"alg": 2**64}), ("packed", {b"k": "\ud800"}), ("packed", ["not", "a map"]),
], ids=["unsorted", "nested", "fmt-a-str-enum", "int-enum-key", "tuple-value", "tuple-key",
        "none-value", "float-value", "int-too-big", "lone-surrogate", "statement-a-list"])
def test_odd_attestation_objects_are_created_or_refused_as_with_fido(
        registrations: dict[str, RegistrationResponse], parts: tuple[Any, Any]) -> None:
    auth_data = registrations["yubikey-5-usb"].response.attestation_object.auth_data
    for data in (auth_data, bytes(auth_data)):
        own, fast = _both_ways(lambda d=data: AttestationObject.create(parts[0], d, parts[1]))
        assert fast == own


@dataclass(eq=False, frozen=True, kw_only=True)
class _IntFirst(fido2.utils._JsonDataObject):
    value: int | str | None = None


@dataclass(eq=False, frozen=True, kw_only=True)
class _StrFirst(fido2.utils._JsonDataObject):
    value: str | int | None = None


@dataclass(eq=False, frozen=True, kw_only=True)
class _Shouting(fido2.utils._JsonDataObject):
    """Overrides `_parse_value`: nested items and keys must still reach the override."""

    words: Sequence[str] | None = None
    counts: Mapping[str, int] | None = None

    @classmethod
    def _parse_value(cls, t: Any, value: Any) -> Any:
        if t is str:
            return value.upper()
        return super()._parse_value(t, value)


def test_nested_values_of_a_class_with_its_own_parse_value_reach_it() -> None:
    own, fast = _both_ways(lambda: _Shouting.from_dict({"words": ["a", "b"],
                                                        "counts": {"x": "1", "y": 2}}))
    assert fast == own
    assert own[1] == {"words": ["A", "B"], "counts": {"X": 1, "Y": 2}}


def test_equal_hints_in_another_order_parse_as_fido_parses_each() -> None:
    """`int | str | None == str | int | None`, yet fido2 tries the first type of each."""
    assert _IntFirst.__annotations__ != _StrFirst.__annotations__  # as written, not as equal
    for cls in (_IntFirst, _StrFirst, _IntFirst):
        own, fast = _both_ways(lambda cls=cls: cls.from_dict({"value": "5"}))
        assert fast == own
    assert _IntFirst.from_dict({"value": "5"}).value == 5
    assert _StrFirst.from_dict({"value": "5"}).value == "5"


@dataclass(eq=False, frozen=True, kw_only=True)
class _TaggedResponse(RegistrationResponse):
    tag: str | None = None


def test_a_subclass_of_a_response_parses_as_with_fido(
        registrations: dict[str, RegistrationResponse]) -> None:
    """A response's own fields take the responses' shortcut; a subclass goes by its method."""
    blob = {**dict(registrations["samsung-pass"]), "tag": "x"}
    for cls in (RegistrationResponse, _TaggedResponse):
        own, fast = _both_ways(lambda cls=cls: cls.from_dict(blob))
        assert fast == own
        assert not isinstance(own[0], type), own


@dataclass(eq=False, frozen=True, kw_only=True)
class _Values(fido2.utils._JsonDataObject):
    text: str | None = None
    data: bytes | None = None
    number: int | None = None
    flag: bool | None = None
    words: Sequence[str] | None = None
    maps: Sequence[Mapping[str, Any]] | None = None
    map: Mapping[str, Any] | None = None
    kind: PublicKeyCredentialType | None = None
    rp: PublicKeyCredentialRpEntity | None = None


@pytest.mark.parametrize("values", [
    {"text": "", "data": "", "words": [], "maps": [], "map": {}},
    {"text": "t", "data": "AQ", "number": 0, "flag": False, "words": ["a"], "map": {"k": 1},
     "maps": [{"a": 1}, {"b": 2}], "kind": "public-key", "rp": {"name": "n", "id": "i"}},
], ids=["empty", "plain"])
def test_a_data_objects_mapping_view_is_fidos(values: dict[str, Any]) -> None:
    """fido2 gives [] for an empty str or bytes (a Sequence all of whose items are Mappings)."""
    own, fast = _both_ways(lambda: dict(_Values.from_dict(values)))
    assert fast == own
    assert not isinstance(own[0], type), own


def test_remembered_authenticator_data_share_nothing_mutable(
        registrations: dict[str, RegistrationResponse]) -> None:
    raw = bytes(registrations["yubikey-5-usb"].response.attestation_object.auth_data)
    assert enable_fido2_speedups()
    first = AuthenticatorData(raw)
    assert first.credential_data is not None and first.extensions is not None
    first.credential_data.public_key[-2] = b"changed"
    first.extensions["credProtect"] = 3
    again = AuthenticatorData(raw)
    disable_fido2_speedups()
    assert _outcome(lambda: again) == _outcome(lambda: AuthenticatorData(raw))
    assert again.credential_data is not first.credential_data


def test_remembered_authenticator_data_are_bounded(
        registrations: dict[str, RegistrationResponse]) -> None:
    assert enable_fido2_speedups()
    raw = bytes(registrations["yubikey-5-usb"].response.attestation_object.auth_data)
    for counter in range(speedups._AUTH_DATA_MEMO + 10):
        AuthenticatorData(raw[:33] + counter.to_bytes(4) + raw[37:])
    assert len(speedups._auth_data) == speedups._AUTH_DATA_MEMO


def test_a_subclass_of_authenticator_data_is_parsed_by_fido(
        registrations: dict[str, RegistrationResponse]) -> None:
    class Tagged(AuthenticatorData):
        pass

    raw = bytes(registrations["yubikey-5-usb"].response.attestation_object.auth_data)
    assert enable_fido2_speedups()
    speedups._auth_data.clear()
    parsed = Tagged(raw)
    assert not speedups._auth_data
    disable_fido2_speedups()
    assert _outcome(lambda: parsed) == _outcome(lambda: Tagged(raw))



@dataclass(eq=False, frozen=True, kw_only=True)
class _Holder(fido2.utils._JsonDataObject):
    values: _Values | None = None


class _VirtualValues(dict[str, Any]):
    """A dict that `_Values` counts among its instances (an ABC's registered subclass)."""


_Values.register(_VirtualValues)


@pytest.mark.parametrize("data", [_VirtualValues(text="t"), {"text": "t"}],
                         ids=["registered", "plain-dict"])
def test_an_abcs_registered_instance_is_taken_as_it_is_as_with_fido(data: Any) -> None:
    """`isinstance` asks the ABC (its registry too): a registered class's object is kept."""
    own, fast = _both_ways(lambda: _Values.from_dict(data))
    assert fast == own
    own, fast = _both_ways(lambda: _Holder.from_dict({"values": data}))
    assert fast == own
    assert enable_fido2_speedups()
    assert (_Values.from_dict(data) is data) is (type(data) is _VirtualValues)
