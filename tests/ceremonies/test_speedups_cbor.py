"""The CBOR speed-up is fido2's codec, faster: the same bytes, the same values and rest, and the
same exception types on bad input; switching the speed-ups off gives fido2 its own functions."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from enum import IntEnum, StrEnum
from typing import Any

import fido2.cbor
import pytest
from fido2.cose import ES256
from fido2.hid import CTAPHID
from fido2.webauthn import Aaguid

from pkconf.authenticators.device import SoftwareAuthenticator
from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies.client import register
from pkconf.ceremonies.speedups import disable_fido2_speedups, enable_fido2_speedups

ORIGIN = "https://login.microsoft.com"
OPTIONS = {
    "rp": {"id": "login.microsoft.com", "name": "Microsoft"},
    "user": {"id": "dXNlci0x", "name": "adele@contoso.com", "displayName": "Adele Vance"},
    "challenge": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
    "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
    "authenticatorSelection": {"residentKey": "required", "userVerification": "required"},
    "attestation": "direct",
}


class _Number(IntEnum):
    SEVEN = 7


class _Word(StrEnum):
    WORD = "wörd"


class _Pairs(Mapping[Any, Any]):
    """A Mapping whose items repeat a key: fido2 keeps such pairs in their order."""

    def __init__(self, *pairs: tuple[Any, Any]):
        self.pairs = pairs

    def __getitem__(self, key: Any) -> Any:
        return dict(self.pairs)[key]

    def __iter__(self) -> Iterator[Any]:
        return (k for k, _ in self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def __repr__(self) -> str:
        return f"_Pairs{self.pairs!r}"


VALUES = [
    0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1,
    -1, -24, -25, -256, -257, -(2**64),
    True, False, "", "text", "ünïcode ✓", b"", b"\x00" * 24, b"\xff" * 300,
    bytearray(b"abc"), memoryview(b"view"), [], [1, [2, [3]]], (1, "two", b"3"),
    {1: "a", -1: "b", "k": 2, b"b": [], 10: {}, "kk": True, 100: 1},  # canonical key order
    _Number.SEVEN, _Word.WORD, Aaguid(bytes(range(16))),
    {1: 2, 3: -7, -1: 1, -2: b"x" * 32, -3: b"y" * 32},
    _Pairs((2, "b"), (1, "z"), (2, "a"), (1, "y")), _Pairs((1, 1), (_Number.SEVEN, 2), (7, 3)),
]
MALFORMED = [
    b"", b"\x18", b"\x19\x01", b"\x1a\x00\x00", b"\x1b" + b"\x00" * 7,  # ends early
    b"\x1c", b"\x1f",  # argument 28-31
    b"\xc0\x01",  # a tag
    b"\x5a\x00\x00\x00\x10ab", b"\x65abc",  # strings longer than the input: cut short
    b"\x62\xff\xfe",  # not UTF-8
    b"\xa1\x80\x01",  # an array as a map key
    b"\x82\x01", b"\xa2\x01\x02\x03",  # fewer items than announced
    b"\xf6", b"\xf7", b"\xf9\x3c\x00", b"\xfb" + b"\x00" * 8,  # null, undefined, floats
    b"\x01\x02\x03",  # trailing bytes
]


@pytest.fixture
def codecs() -> Iterator[tuple[Callable[..., Any], Callable[..., Any]]]:
    """(fido2's own codec, the speed-up's): encode and decode_from of each, as a pair."""
    disable_fido2_speedups()
    own = (fido2.cbor.encode, fido2.cbor.decode_from)
    assert enable_fido2_speedups()
    fast = (fido2.cbor.encode, fido2.cbor.decode_from)
    yield own, fast
    disable_fido2_speedups()
    enable_fido2_speedups()  # the plugin runs with them on


def _id(value: Any) -> str:
    """A stable test id (pytest-xdist workers must agree): no memory addresses."""
    text = repr(value)
    return type(value).__name__ if " at 0x" in text else text[:40]


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as e:  # the point: which type each side raises
        return type(e)


@pytest.mark.parametrize("value", VALUES, ids=_id)
def test_encoding_gives_fidos_bytes(codecs: Any, value: Any) -> None:
    (own_encode, _), (fast_encode, _) = codecs
    assert fast_encode(value) == own_encode(value)


@pytest.mark.parametrize("value", [None, 1.5, 2**64, {None: 1}, object(), {1: 2**64, 2**65: 1},
                                   {1: 1.5, None: 2**64}], ids=_id)
def test_encoding_fails_as_fido_fails(codecs: Any, value: Any) -> None:
    (own_encode, _), (fast_encode, _) = codecs
    own = _outcome(lambda: own_encode(value))
    assert isinstance(own, type) and issubclass(own, Exception)
    assert _outcome(lambda: fast_encode(value)) is own


@pytest.mark.parametrize("value", VALUES, ids=_id)
def test_decoding_gives_fidos_value_and_rest(codecs: Any, value: Any) -> None:
    (own_encode, own_decode), (_, fast_decode) = codecs
    data = own_encode(value) + b"\x01rest"
    assert fast_decode(data) == own_decode(data)


@pytest.mark.parametrize("data", MALFORMED, ids=lambda d: d.hex() or "empty")
def test_malformed_input_decodes_or_fails_as_with_fido(codecs: Any, data: bytes) -> None:
    (_, own_decode), (_, fast_decode) = codecs
    own = _outcome(lambda: own_decode(data))
    fast = _outcome(lambda: fast_decode(data))
    assert fast == own


@pytest.mark.parametrize("name", ["yubikey-5-usb", "windows-hello-hardware",
                                  "google-password-manager", "pixel-android-key"])
def test_a_devices_get_info_and_attestation_object_decode_as_with_fido(
        codecs: Any, name: str) -> None:
    (_, own_decode), (_, fast_decode) = codecs
    device = SoftwareAuthenticator(PROFILES[name])
    info = device.call(CTAPHID.CBOR, b"\x04")[1:]
    attestation = bytes(register(device, OPTIONS, ORIGIN).response.attestation_object)
    for data in (info, attestation):
        assert fast_decode(data) == own_decode(data)


def test_a_cose_key_encodes_as_with_fido(codecs: Any) -> None:
    (own_encode, _), (fast_encode, _) = codecs
    key = ES256({1: 2, 3: -7, -1: 1, -2: b"x" * 32, -3: b"y" * 32})
    assert fast_encode(key) == own_encode(key)


def test_disabling_gives_fido2_back_its_own_codec(codecs: Any) -> None:
    own, fast = codecs
    assert fast != own
    disable_fido2_speedups()
    assert (fido2.cbor.encode, fido2.cbor.decode_from) == own
    assert enable_fido2_speedups()
    assert (fido2.cbor.encode, fido2.cbor.decode_from) == fast


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    """A value of fido2's CBOR subset: ints at each head size, text and bytes either side of
    23 bytes, bools, and (nested) arrays and maps whose keys mix types, signs and lengths."""
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice([0, 1, 23, 24, 255, 256, 65536, 2**32, -1, -24, -25, -300, -2**40])
    if kind == 1:
        return "".join(rng.choice("aé✓") for _ in range(rng.choice([0, 1, 23, 24, 30])))
    if kind == 2:
        return rng.randbytes(rng.choice([0, 5, 23, 24, 300]))
    if kind == 3:
        return rng.choice([True, False, _Number.SEVEN])
    if kind == 4:
        return rng.choice([7, "k", b"b"])
    if kind == 5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(30))]
    keys = [_random_value(rng, 3) for _ in range(rng.randrange(30))]
    return {k: _random_value(rng, depth + 1) for k in keys}


@pytest.mark.parametrize("seed", range(40))
def test_random_values_encode_and_decode_as_with_fido(codecs: Any, seed: int) -> None:
    (own_encode, own_decode), (fast_encode, fast_decode) = codecs
    rng = random.Random(seed)
    value = _random_value(rng)
    data = own_encode(value)
    assert fast_encode(value) == data
    assert fast_decode(data + b"\x01") == own_decode(data + b"\x01")
    for _ in range(20):  # damaged: a byte changed, or the input cut short
        damaged = bytearray(data)
        damaged[rng.randrange(len(data))] = rng.randrange(256)
        for bad in (bytes(damaged), data[:rng.randrange(len(data))]):
            assert _outcome(lambda bad=bad: fast_decode(bad)) == _outcome(
                lambda bad=bad: own_decode(bad))
