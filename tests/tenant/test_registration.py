"""Reading a registration response: what cannot be read is `MalformedRegistration`, never
another exception (unusable input: a 400 from the emulator, exit 2 from the CLI)."""

from __future__ import annotations

import cbor2
import pytest
from fido2.utils import websafe_decode, websafe_encode

from pkconf.tenant.registration import MalformedRegistration, parse_registration

from .builders import FLAG, client_data_json, make_response, nested, with_client_data


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
    with pytest.raises(MalformedRegistration, match="nests deeper than"):
        parse_registration(response)
