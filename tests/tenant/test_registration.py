"""Reading a registration response: what cannot be read is `MalformedRegistration`, never
another exception (unusable input: a 400 from the emulator, exit 2 from the CLI)."""

from __future__ import annotations

import re

import cbor2
import pytest
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import CollectedClientData

from pkconf.tenant.registration import (
    MalformedRegistration,
    b64url_decode,
    parse_client_data,
    parse_registration,
)

from .builders import CHALLENGE, FLAG, client_data_json, make_response, nested, with_client_data


def _with_attestation_object(response: dict, change) -> dict:
    att = cbor2.loads(websafe_decode(response["response"]["attestationObject"]))
    change(att)
    response["response"]["attestationObject"] = websafe_encode(cbor2.dumps(att))
    return response


def _deep_extensions(att: dict) -> None:
    """ED set and authenticator extensions nested 100,000 CBOR arrays deep."""
    auth_data = bytearray(att["authData"])
    auth_data[32] |= FLAG.ED
    att["authData"] = bytes(auth_data) + b"\x81" * 100_000 + b"\x01"


def _deep_statement(att: dict) -> None:
    """An attStmt member nested 300 CBOR arrays deep: within cbor2's limit, not ours."""
    att["attStmt"] = {"x": cbor2.loads(b"\x81" * 300 + b"\x01")}


@pytest.mark.parametrize("response", [
    pytest.param(with_client_data(make_response(), client_data_json(
        f'"x":{nested(depth, opener)}')), id=f"client-data-{opener}-{depth}")
    for depth in (100, 100_000) for opener in "[{"
] + [
    pytest.param(_with_attestation_object(make_response(), _deep_extensions),
                 id="authenticator-extensions"),
    pytest.param(_with_attestation_object(make_response(), _deep_statement),
                 id="attestation-statement"),
])
def test_deep_nesting_is_unusable_input_not_a_recursion_error(response):
    with pytest.raises(MalformedRegistration, match="nests too deeply"):
        parse_registration(response)


@pytest.mark.parametrize(("members", "type_", "message"), [
    # RFC 7493 §2.3 (I-JSON): member names are unique; a last-wins reader sees webauthn.create
    (('"type":"webauthn.create"',), "webauthn.get", "'type' twice"),
    (('"challenge":"AAAA"',), "webauthn.create", "'challenge' twice"),
    (('"x":1', '"x":2'), "webauthn.create", "'x' twice"),
    (('"x":{"a":1,"a":1}',), "webauthn.create", "'a' twice"),
    # RFC 8259 §6: NaN and Infinity are not JSON numbers
    (('"x":NaN',), "webauthn.create", "NaN is not JSON"),
    (('"x":Infinity',), "webauthn.create", "Infinity is not JSON"),
    (('"x":-Infinity',), "webauthn.create", "-Infinity is not JSON"),
    # WebAuthn §5.8.1 TokenBinding: id "MUST be present if status is present"
    (('"tokenBinding":{"status":"present"}',), "webauthn.create", "tokenBinding.id"),
    (('"tokenBinding":{"status":"present","id":""}',), "webauthn.create", "tokenBinding.id"),
    (('"tokenBinding":{"status":"present","id":7}',), "webauthn.create", "tokenBinding.id"),
])
def test_client_data_json_that_is_not_strict_json_is_unusable(members, type_, message):
    response = with_client_data(make_response(), client_data_json(*members, type_=type_))
    with pytest.raises(MalformedRegistration, match=message):
        parse_registration(response)


@pytest.mark.parametrize("token_binding", [
    '{"status":"present","id":"AQID"}',
    '{"status":"supported"}',
])
def test_a_well_formed_token_binding_is_read(token_binding):
    raw = client_data_json(f'"tokenBinding":{token_binding}')
    parsed = parse_registration(with_client_data(make_response(), raw))
    assert parsed.client_data.type == "webauthn.create"


@pytest.mark.parametrize(("member", "message"), [
    # WebAuthn §5.8.1: crossOrigin is a boolean, topOrigin a DOMString (an origin)
    ('"crossOrigin":"true"', "crossOrigin must be true or false"),
    ('"crossOrigin":1', "crossOrigin must be true or false"),
    ('"crossOrigin":null', "crossOrigin must be true or false"),
    ('"topOrigin":true', "topOrigin must be an origin"),
    ('"topOrigin":""', "topOrigin must be an origin"),
])
def test_mistyped_cross_origin_members_are_unusable(member, message):
    response = with_client_data(make_response(), client_data_json(member))
    with pytest.raises(MalformedRegistration, match=message):
        parse_registration(response)


# What the base64url reader accepts is what its regular expressions define (RFC 4648 §5 with
# optional padding; `standard_too` adds + and /), whichever path a text takes through it
_DEFINED = {False: re.compile(r"^[A-Za-z0-9_-]*={0,2}$"),
            True: re.compile(r"^[A-Za-z0-9_+/-]*={0,2}$")}


@pytest.mark.parametrize("standard_too", [False, True])
@pytest.mark.parametrize("text", [
    "", "AQID", "AQ", "AQ=", "AQ==", "AQ===", "A", "AQ\n", "AQ==\n", "AQ\n\n", "A Q", "a+b/",
    "a-b_", "AQ=A", "=AQ", "AQé", "ＡＱ", "AQ\x00", "A" * 2001 + "Q",
])
def test_base64url_takes_exactly_its_alphabet_and_padding(text, standard_too):
    if not _DEFINED[standard_too].match(text):
        with pytest.raises(MalformedRegistration, match="is not base64url"):
            b64url_decode(text, "x", standard_too=standard_too)
        return
    try:
        expected = websafe_decode(text)
    except ValueError:  # a length no padding completes
        with pytest.raises(MalformedRegistration, match="is not base64url"):
            b64url_decode(text, "x", standard_too=standard_too)
    else:
        assert b64url_decode(text, "x", standard_too=standard_too) == expected


@pytest.mark.parametrize("members", [
    (), ('"crossOrigin":false',), ('"crossOrigin":true',), ('"topOrigin":"https://a.example"',),
    ('"tokenBinding":{"status":"supported"}', '"x":[1,{"y":null}]'),
])
@pytest.mark.parametrize("challenge", ["AQIDBA", "AQIDBA==", "AQIDBAU=", "-_-_"])
def test_client_data_reads_as_fido2_reads_it(members, challenge):
    raw = client_data_json(*members).replace(websafe_encode(CHALLENGE).encode(),
                                             challenge.encode())
    ours, _ = parse_client_data(raw)
    theirs = CollectedClientData(raw)
    assert type(ours) is type(theirs) and bytes(ours) == bytes(theirs)
    assert vars(ours) == vars(theirs)
