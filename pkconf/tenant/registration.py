"""Reading a WebAuthn registration response into typed parts, or refusing it as unusable.

Two kinds of wrong are kept apart. A response that cannot be read (bad base64url, truncated or
trailing CBOR, missing or mistyped fields, the FIDO server-conformance Resp-1/Resp-3 structure
cases) is *unusable input*: `MalformedRegistration`, a 400 from the emulator and exit 2 from the
CLI. A response that reads fine but is wrong (a `webauthn.get` type, another challenge, another
origin) is a *ceremony rejection* that the decision engine reports.

The same reader takes the browser's `PublicKeyCredential.toJSON()` form and Graph's
`publicKeyCredential` (no `type`, no `rawId`, `@odata.type` annotations).
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fido2.webauthn import AttestationObject, AuthenticatorData, CollectedClientData

from . import jsontext
from .attestation import AttestationFailure
from .attestation import parse_attestation_object as strict_attestation_object
from .attestation.fields import is_mapping
from .attestation.statement import assembled

_B64URL = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
_B64_ANY = re.compile(r"^[A-Za-z0-9_+/-]*={0,2}$")
_TO_STANDARD = {False: bytes.maketrans(b"-_+/", b"+/!!"), True: bytes.maketrans(b"-_", b"+/")}
_PADDING = (b"", b"===", b"==", b"=")  # by length modulo 4 (one more than 4k is never valid)
TOKEN_BINDING_STATUSES = ("present", "supported", "not-supported")
ATTACHMENTS = ("platform", "cross-platform")
MAX_CREDENTIAL_ID_BYTES = 1023  # WebAuthn §7.1: "credentialId ... less than or equal to 1023"


class MalformedRegistration(ValueError):
    """The response cannot be read; the message names the field."""


@dataclass(frozen=True)
class Registration:
    credential_id: bytes
    client_data: CollectedClientData
    attestation_object: AttestationObject
    top_origin: str | None = None  # clientDataJSON.topOrigin, which fido2 does not read
    transports: tuple[str, ...] = ()
    authenticator_attachment: str | None = None
    client_extension_results: Mapping[str, Any] | None = None

    @property
    def auth_data(self) -> AuthenticatorData:
        return self.attestation_object.auth_data


def b64url_decode(value: Any, field: str, *, standard_too: bool = False) -> bytes:
    """Base64url (RFC 4648 §5), padding optional, as WebAuthn and Graph send it.

    `standard_too` also takes the standard alphabet (+ /), which some libraries' captures
    use for the response blobs; credential ids stay strictly base64url.
    """
    if not isinstance(value, str):
        raise MalformedRegistration(f"{field} must be a base64url string")
    bare = value.rstrip("=")
    if len(value) - len(bare) <= 2 and bare.isascii():
        # What the expressions accept, read in one strict pass: the alphabet mapped onto the
        # standard one (+ and / onto a non-alphabet byte unless taken), then padded; whatever
        # that pass refuses is judged as before, by the expression and the lenient decoder
        text = bare.encode().translate(_TO_STANDARD[standard_too])
        try:
            return binascii.a2b_base64(text + _PADDING[len(text) % 4], strict_mode=True)
        except binascii.Error:
            pass
    if not (_B64_ANY if standard_too else _B64URL).match(value):
        raise MalformedRegistration(f"{field} is not base64url")
    try:  # base64.urlsafe_b64decode's own steps, with fewer copies of the text
        return binascii.a2b_base64(bare.replace("-", "+").replace("_", "/")
                                   + "=" * (-len(bare) % 4))
    except (binascii.Error, ValueError):
        raise MalformedRegistration(f"{field} is not base64url") from None


def _required_bytes(obj: Mapping[str, Any], key: str, field: str) -> bytes:
    if key not in obj or obj[key] is None:
        raise MalformedRegistration(f"{field} is missing")
    data = b64url_decode(obj[key], field, standard_too=True)
    if not data:
        raise MalformedRegistration(f"{field} is empty")
    return data


def parse_client_data(raw: bytes) -> tuple[CollectedClientData, str | None]:
    """clientDataJSON: an I-JSON object (`jsontext`) with string type, challenge and origin
    (Resp-2 structure) and the optional members of WebAuthn §5.8.1 typed as it defines them;
    with its topOrigin, if it has one."""
    try:
        data = jsontext.loads(raw.decode("utf-8"))  # WebAuthn §7.1 step 5: UTF-8 decode
    except UnicodeDecodeError:
        raise MalformedRegistration("clientDataJSON is not UTF-8 JSON") from None
    except jsontext.JsonTextError as e:  # §7.1 step 6: parse, here with bounded nesting
        raise MalformedRegistration(f"clientDataJSON {e}") from None
    if not isinstance(data, dict):
        raise MalformedRegistration("clientDataJSON is not a JSON object")
    for key in ("type", "challenge", "origin"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise MalformedRegistration(f"clientDataJSON.{key} is missing or not a string")
    challenge = b64url_decode(data["challenge"], "clientDataJSON.challenge")
    # §5.8.1: crossOrigin is a boolean; topOrigin, the top-level origin, a non-empty string
    if "crossOrigin" in data and not isinstance(data["crossOrigin"], bool):
        raise MalformedRegistration("clientDataJSON.crossOrigin must be true or false")
    top_origin = data.get("topOrigin")
    if "topOrigin" in data and not (isinstance(top_origin, str) and top_origin):
        raise MalformedRegistration("clientDataJSON.topOrigin must be an origin (a string)")
    tb = data.get("tokenBinding")
    if tb is not None and (not isinstance(tb, dict) or tb.get("status") not in
                           TOKEN_BINDING_STATUSES):
        raise MalformedRegistration("clientDataJSON.tokenBinding is malformed")
    # §5.8.1 TokenBinding.id: "MUST be present if status is present", base64url
    if tb is not None and tb["status"] == "present" and not b64url_decode(
            tb.get("id"), "clientDataJSON.tokenBinding.id"):
        raise MalformedRegistration("clientDataJSON.tokenBinding.id is empty")
    return _client_data(raw, data, challenge), top_origin


def _client_data(raw: bytes, data: dict[str, Any], challenge: bytes) -> CollectedClientData:
    """`CollectedClientData(raw)` from what was read above: fido2's constructor parses the
    JSON and decodes the challenge again, to the same values (the JSON has no repeated member,
    the challenge is base64url), and sets these attributes; its class is a frozen bytes."""
    return assembled(CollectedClientData, raw, _data=data, type=data["type"],
                     challenge=challenge, origin=data["origin"],
                     cross_origin=data.get("crossOrigin", False))


def parse_attestation_object(raw: bytes) -> AttestationObject:
    """attestationObject: CBOR {fmt: text, attStmt: map, authData: bytes} with credential data."""
    try:
        att = strict_attestation_object(raw)  # cbor2 first: fido2 forgives truncated strings
    except AttestationFailure as e:
        raise MalformedRegistration(f"attestationObject is not a valid CBOR attestation object "
                                    f"({e.detail})") from None
    except Exception as e:  # cbor and fido2 raise a zoo of types on hostile bytes
        raise MalformedRegistration(f"attestationObject is not a valid CBOR attestation object "
                                    f"({type(e).__name__}: {e})") from None
    if not isinstance(att.fmt, str) or not att.fmt:
        raise MalformedRegistration("attestationObject.fmt must be a non-empty text string")
    if not is_mapping(att.att_stmt):
        raise MalformedRegistration("attestationObject.attStmt must be a map")
    if att.auth_data.credential_data is None:
        raise MalformedRegistration("authData has no attested credential data (AT flag unset)")
    return att


def parse_registration(obj: Any) -> Registration:
    """Read a registration response (browser JSON or Graph publicKeyCredential)."""
    if not is_mapping(obj):
        raise MalformedRegistration("the registration response must be a JSON object")
    if obj.get("type", "public-key") != "public-key":
        raise MalformedRegistration("type must be 'public-key'")
    if "id" not in obj:
        raise MalformedRegistration("id is missing")
    response_id = b64url_decode(obj["id"], "id")
    if not response_id:
        raise MalformedRegistration("id is empty")
    # the same text as id decodes to the same bytes: only another text is decoded
    if "rawId" in obj and obj["rawId"] != obj["id"] \
            and b64url_decode(obj["rawId"], "rawId") != response_id:
        raise MalformedRegistration("rawId differs from id")
    response = obj.get("response")
    if not is_mapping(response):
        raise MalformedRegistration("response is missing or not an object")
    client_data, top_origin = parse_client_data(
        _required_bytes(response, "clientDataJSON", "response.clientDataJSON"))
    attestation = parse_attestation_object(
        _required_bytes(response, "attestationObject", "response.attestationObject"))
    assert attestation.auth_data.credential_data is not None  # checked above
    stored_id = attestation.auth_data.credential_data.credential_id
    if not 1 <= len(stored_id) <= MAX_CREDENTIAL_ID_BYTES:
        raise MalformedRegistration(f"authData's credential id is {len(stored_id)} bytes "
                                    f"(WebAuthn: 1 to {MAX_CREDENTIAL_ID_BYTES})")
    transports = response.get("transports", obj.get("transports", []))
    if not isinstance(transports, list) or not all(isinstance(t, str) for t in transports):
        raise MalformedRegistration("transports must be a list of strings")
    attachment = obj.get("authenticatorAttachment")
    if attachment is not None and attachment not in ATTACHMENTS:
        raise MalformedRegistration("authenticatorAttachment must be platform or cross-platform")
    extensions = obj.get("clientExtensionResults")
    if extensions is not None and not is_mapping(extensions):
        raise MalformedRegistration("clientExtensionResults must be an object")
    return Registration(
        # The relying party keys the credential by authData's id, as WebAuthn §7.1 does; some
        # real captures carry a response id that differs from it.
        credential_id=stored_id,
        client_data=client_data,
        attestation_object=attestation,
        top_origin=top_origin,
        transports=tuple(transports),
        authenticator_attachment=attachment,
        client_extension_results=extensions,
    )
