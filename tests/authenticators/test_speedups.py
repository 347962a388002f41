"""python-fido2 speed-ups are explicit, reversible and change no result.

`enable_fido2_speedups()` replaces fido2 internals for the whole process, so importing pkconf
must not do it, switching it off must give fido2 back its own functions, and everything fido2
parses must come out the same with it as without it.
"""

from __future__ import annotations

import subprocess
import sys
import typing
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import fido2.client
import fido2.ctap2.base
import fido2.ctap2.pin
import fido2.utils
import fido2.webauthn
import pytest
from fido2 import cbor
from fido2.ctap2 import Info
from fido2.hid import CTAPHID
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticationResponse,
    AuthenticatorData,
    AuthenticatorTransport,
    CollectedClientData,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
)

from pkconf.authenticators.device import SoftwareAuthenticator
from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies import speedups
from pkconf.ceremonies.client import register
from pkconf.ceremonies.speedups import disable_fido2_speedups, enable_fido2_speedups
from tests.fido2_speedups import (
    OPTIONS,
    ORIGIN,
    keep_speedups_setting,  # noqa: F401 - autouse
    plain,
)

ROOT = Path(__file__).resolve().parents[2]
PROFILE_NAMES = ["yubikey-5-usb", "windows-hello-hardware", "google-password-manager",
                 "microsoft-authenticator-ios"]


def _parsed(obj: Any) -> tuple[str, Any]:
    return repr(obj), plain(obj)


def _both_ways(parse: Callable[[], Any]) -> tuple[tuple[str, Any], tuple[str, Any]]:
    disable_fido2_speedups()
    off = _parsed(parse())
    assert enable_fido2_speedups()
    return off, _parsed(parse())


def test_importing_pkconf_patches_nothing() -> None:
    probe = """
import pkgutil, typing, importlib
import fido2.ctap2.base, fido2.utils
from fido2.ctap2 import Ctap2
own = {"hints": fido2.utils.get_type_hints,
       "cbor": fido2.ctap2.base._CborDataObject.__dict__["_get_field_key"],
       "json": fido2.utils._JsonDataObject.__dict__["_get_field_key"],
       "get_info": Ctap2.__dict__["get_info"]}
import pkconf, pkconf.ceremonies.client
for m in pkgutil.walk_packages(pkconf.__path__, "pkconf."):
    if not m.name.endswith("__main__"):
        importlib.import_module(m.name)
now = {"hints": fido2.utils.get_type_hints,
       "cbor": fido2.ctap2.base._CborDataObject.__dict__["_get_field_key"],
       "json": fido2.utils._JsonDataObject.__dict__["_get_field_key"],
       "get_info": Ctap2.__dict__["get_info"]}
assert own["hints"] is typing.get_type_hints, "fido2.utils.get_type_hints"
changed = [k for k in own if now[k] is not own[k]]
assert not changed, changed
"""
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr


REPLACED = [  # (class, attribute) the speed-ups replace, besides get_type_hints and the codec
    (fido2.ctap2.base._CborDataObject, "_get_field_key"),
    (fido2.utils._JsonDataObject, "_get_field_key"),
    (fido2.utils._DataClassMapping, "_parse_value"),
    (fido2.utils._JsonDataObject, "_parse_value"),
    (fido2.utils._DataClassMapping, "_parse_from_dict"),
    (fido2.utils._DataClassMapping, "__post_init__"),
    (fido2.utils._DataClassMapping, "from_dict"),
    (fido2.utils._DataClassMapping, "__getitem__"),
    (RegistrationResponse, "_parse_value"),
    (AuthenticationResponse, "_parse_value"),
    (AuthenticatorData, "__init__"),
    (AttestedCredentialData, "unpack_from"),
    (AttestationObject, "create"),
    (CollectedClientData, "create"),
    (fido2.webauthn, "sha256"),
    (fido2.ctap2.pin, "sha256"),
    (fido2.webauthn, "_as_cbor"),
    (fido2.client, "_as_cbor"),
]


def test_disabling_gives_fido2_back_its_own_functions() -> None:
    disable_fido2_speedups()
    own = [owner.__dict__[name] for owner, name in REPLACED]
    assert fido2.utils.get_type_hints is typing.get_type_hints

    assert enable_fido2_speedups()
    assert fido2.utils.get_type_hints is not typing.get_type_hints
    assert all(owner.__dict__[name] is not was
               for (owner, name), was in zip(REPLACED, own, strict=True))

    disable_fido2_speedups()
    assert fido2.utils.get_type_hints is typing.get_type_hints
    assert all(owner.__dict__[name] is was
               for (owner, name), was in zip(REPLACED, own, strict=True))


def test_enabling_twice_patches_once() -> None:
    disable_fido2_speedups()
    assert enable_fido2_speedups()
    patched = fido2.utils.get_type_hints
    assert enable_fido2_speedups()
    assert fido2.utils.get_type_hints is patched
    disable_fido2_speedups()
    assert fido2.utils.get_type_hints is typing.get_type_hints


def test_an_unchecked_fido2_version_is_left_alone_with_one_warning(
        monkeypatch: pytest.MonkeyPatch) -> None:
    disable_fido2_speedups()
    monkeypatch.setattr(speedups, "version", lambda _: "3.0.0")
    monkeypatch.setattr(speedups, "_warned", False)
    with pytest.warns(RuntimeWarning, match="fido2 3.0.0 is not a version"):
        assert not enable_fido2_speedups()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not enable_fido2_speedups()
    assert fido2.utils.get_type_hints is typing.get_type_hints


@pytest.mark.parametrize("module, name, value", [
    (fido2.utils, "get_type_hints", lambda obj: {}),
    (fido2.ctap2.base, "_CborDataObject", None),
    (fido2.utils, "_JsonDataObject", object),
    (fido2.utils._DataClassMapping, "_parse_value", lambda cls, t, value: value),
    (fido2.utils._JsonDataObject, "_parse_value", staticmethod(lambda t, value: value)),
    (fido2.utils._DataClassMapping, "_parse_from_dict", lambda data: data),
    (fido2.webauthn, "sha256", lambda data: b""),
    (fido2.client, "_as_cbor", lambda data: {}),
], ids=["get_type_hints-replaced", "cbor-base-gone", "json-base-without-field-key",
        "parse-value-not-a-classmethod", "json-parse-value-a-staticmethod",
        "parse-from-dict-not-a-classmethod", "sha256-not-fidos", "as-cbor-not-fidos"])
def test_unexpected_fido2_internals_are_left_alone(monkeypatch: pytest.MonkeyPatch,
                                                   module: Any, name: str, value: Any) -> None:
    disable_fido2_speedups()
    monkeypatch.setattr(module, name, value)
    monkeypatch.setattr(speedups, "_warned", False)
    with pytest.warns(RuntimeWarning, match="speed-ups left off"):
        assert not enable_fido2_speedups()
    assert vars(module)[name] is value


@pytest.mark.parametrize("data", [b"", b"abc" * 100, bytearray(b"abc"), memoryview(b"view"),
                                  CollectedClientData(b'{"type":"webauthn.create",'
                                                      b'"challenge":"","origin":"o"}'),
                                  "text", None, 5])
def test_the_client_data_hash_is_fidos_sha256(data: Any) -> None:
    """Digest for digest, and the same exception type for what is not bytes-like."""
    disable_fido2_speedups()
    own = fido2.webauthn.sha256
    assert enable_fido2_speedups()
    fast = fido2.webauthn.sha256
    assert fast is not own and fido2.ctap2.pin.sha256 is fast
    assert _outcome(lambda: fast(data)) == _outcome(lambda: own(data))


class _Tagged(CollectedClientData):
    pass


@pytest.mark.parametrize("cls, args", [
    (CollectedClientData, (CollectedClientData.TYPE.CREATE, bytes(range(32)), ORIGIN)),
    (CollectedClientData, ("webauthn.get", "Y2hhbGxlbmdl", ORIGIN, True)),
    (CollectedClientData, ("webauthn.create", b"c", "https://exämple.com")),
    (CollectedClientData, ("webauthn.create", b"c", "https://x.com/\ud83d\ude00")),
    (CollectedClientData, ("webauthn.create", b"c", ORIGIN, 1)),
    (CollectedClientData, ("webauthn.create", b"c", ORIGIN, False, {"topOrigin": ORIGIN})),
    (CollectedClientData, ("webauthn.create", "not base64!", ORIGIN)),
    (CollectedClientData, ("webauthn.create", 7, ORIGIN)),
    (_Tagged, ("webauthn.create", b"c", ORIGIN)),
], ids=["create-enum", "get-text-challenge-cross-origin", "non-ascii-origin",
        "surrogate-pair-origin", "cross-origin-an-int", "further-members",
        "challenge-not-base64", "challenge-an-int", "subclass"])
def test_client_data_are_made_as_by_fido(cls: type[CollectedClientData], args: tuple) -> None:
    def made() -> Any:
        *positional, extra = args if isinstance(args[-1], dict) else (*args, {})
        return _outcome(lambda: _client_data_fields(cls.create(*positional, **extra)))

    disable_fido2_speedups()
    own = made()
    assert enable_fido2_speedups()
    assert made() == own


def _client_data_fields(data: CollectedClientData) -> list[tuple[Any, type]]:
    """Each value fido2's client data carry, with its exact type."""
    values = [bytes(data), type(data), data._data, data.type, data.challenge, data.origin,
              data.cross_origin, *data._data.values()]
    return [(value, type(value)) for value in values]


class _Relabelled(PublicKeyCredentialUserEntity):
    """Iterates its keys in reverse: `_as_cbor` follows the object's own iteration."""

    def __iter__(self) -> Iterator[str]:
        return reversed(list(super().__iter__()))


@pytest.mark.parametrize("value", [
    PublicKeyCredentialRpEntity(id="login.microsoft.com", name="Microsoft"),
    PublicKeyCredentialRpEntity(name="Microsoft"),
    PublicKeyCredentialUserEntity(id=b"user", name="adele", display_name=""),
    PublicKeyCredentialParameters(type=PublicKeyCredentialType.PUBLIC_KEY, alg=-7),
    PublicKeyCredentialDescriptor(type=PublicKeyCredentialType.PUBLIC_KEY, id=b"\x01",
                                  transports=[AuthenticatorTransport.USB]),
    PublicKeyCredentialDescriptor(type=PublicKeyCredentialType.PUBLIC_KEY, id=b"\x01",
                                  transports=[]),
    _Relabelled(id=b"user", name="adele"),
], ids=["rp", "rp-without-id", "user-empty-display-name", "parameters", "descriptor",
        "descriptor-no-transports", "own-iteration"])
def test_the_client_sends_data_objects_as_fidos_as_cbor(value: Any) -> None:
    disable_fido2_speedups()
    own_as_cbor = fido2.client._as_cbor
    own = own_as_cbor(value)
    assert enable_fido2_speedups()
    assert fido2.client._as_cbor is not own_as_cbor  # the client's own was replaced
    fast = fido2.client._as_cbor(value)
    assert list(fast.items()) == list(own.items())
    assert [type(v) for v in fast.values()] == [type(v) for v in own.values()]


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as e:  # the point: which type each side raises
        return type(e)


def test_speedups_give_the_same_parsed_options() -> None:
    off, on = _both_ways(lambda: PublicKeyCredentialCreationOptions.from_dict(OPTIONS))
    assert on == off
    assert off[1]["challenge"] == OPTIONS["challenge"]


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_speedups_give_the_same_parsed_get_info(name: str) -> None:
    answer = SoftwareAuthenticator(PROFILES[name]).call(CTAPHID.CBOR, b"\x04")
    assert answer[0] == 0
    info = cbor.decode(answer[1:])
    assert isinstance(info, Mapping)
    off, on = _both_ways(lambda: Info.from_dict(info))
    assert on == off
    assert off[1][3] == bytes.fromhex(PROFILES[name].aaguid.replace("-", ""))


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_speedups_give_the_same_parsed_registration(name: str) -> None:
    response = register(SoftwareAuthenticator(PROFILES[name]), OPTIONS, ORIGIN)
    blob = dict(response)

    off, on = _both_ways(lambda: RegistrationResponse.from_dict(blob))
    assert on == off
    att = response.response.attestation_object
    off, on = _both_ways(lambda: AttestationObject(bytes(att)))
    assert on == off
    assert f"fmt='{PROFILES[name].attestation.fmt}'" in off[0]
    off, on = _both_ways(lambda: CollectedClientData(bytes(response.response.client_data)))
    assert on == off


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_speedups_give_the_same_registration(name: str) -> None:
    """Everything of a fresh registration that is not random comes out the same."""

    def registration() -> dict[str, Any]:
        response = register(SoftwareAuthenticator(PROFILES[name]), OPTIONS, ORIGIN)
        att = response.response.attestation_object
        auth_data = att.auth_data
        assert auth_data.credential_data is not None
        return {"client_data": bytes(response.response.client_data),
                "fmt": att.fmt, "statement_keys": sorted(att.att_stmt),
                "rp_id_hash": auth_data.rp_id_hash, "flags": auth_data.flags,
                "counter": auth_data.counter, "aaguid": auth_data.credential_data.aaguid,
                "algorithm": auth_data.credential_data.public_key[3],
                "transports": dict(response.response).get("transports"),
                "attachment": response.authenticator_attachment,
                "extensions": plain(response.client_extension_results)}

    disable_fido2_speedups()
    off = registration()
    assert enable_fido2_speedups()
    assert registration() == off
