"""The Python side of the WebAuthn bridge: a software authenticator answering a real page.

`bridge.js` replaces `navigator.credentials.create()`/`.get()` in every frame and calls the
binding installed here; the call runs `client.register`/`client.authenticate` (python-fido2's
client, as the CTAP ceremony uses it) with the calling frame's origin, so the page receives what
a browser in front of that authenticator would hand it, and the profile's AAGUID and BE/BS
flags reach the tenant intact (Chromium's own virtual authenticator cannot carry them).

The bridge does the client-side checks a browser does before any authenticator is involved
(secure origin, RP ID valid for the origin, Related Origin Requests), and maps the client's
errors to the DOMException a page sees.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fido2.client import ClientError
from fido2.ctap import CtapDevice, CtapError
from fido2.rpid import verify_rp_id
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import AttestationObject
from playwright.sync_api import BrowserContext

from ..hosts import PAGES_ORIGIN
from ..tenant.rules import ALLOWED_ORIGINS, RP_ID
from . import client

BINDING = "pkconfAuthenticator"
SCRIPT = resources.files(__package__).joinpath("bridge.js").read_text(encoding="utf-8")

# What the RP's /.well-known/webauthn lists (Related Origin Requests, WebAuthn L3 §5.11): a page
# on mysignins.microsoft.com may create credentials for login.microsoft.com. Trusted as known
# rather than fetched: the emulator serves exactly this list (page contract).
RELATED_ORIGINS: Mapping[str, frozenset[str]] = {RP_ID: frozenset({*ALLOWED_ORIGINS,
                                                                   PAGES_ORIGIN})}


class DomError(Exception):
    """A rejection as the page sees it: a DOMException name (or TypeError) and a message."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name, self.message = name, message


@dataclass
class BridgeCall:
    """One create()/get() the page made, and what it got: evidence for a failed case."""

    kind: str  # create | get
    origin: str
    options: dict[str, Any]
    credential: dict[str, Any] | None = None
    error: DomError | None = None


def script(*, binding: str | None, platform: bool = False, attestation: str | None = None
           ) -> str:
    """The init script: bridge.js applied to its config (see its header)."""
    config = {"binding": binding, "platform": platform, "attestation": attestation}
    return f"({SCRIPT.strip()})({json.dumps(config)});"


Answer = Callable[[Mapping[str, Any], Any, Any], dict[str, Any]]


def install(context: BrowserContext, answer: Answer, *, platform: bool,
            attestation: str | None = None) -> None:
    """Bridge every page of the context to `answer` (a `Bridge.answer`). Installed once per
    context, since a binding cannot be removed: a context reused for many cases passes a
    callable that reaches the current case's bridge."""
    context.expose_binding(BINDING, answer)
    context.add_init_script(script=script(binding=BINDING, platform=platform,
                                          attestation=attestation))


def origin_of(url: str) -> str | None:
    """The serialized origin of a frame URL; None for an opaque origin (about:, data:...)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port not in (None, default) else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def check_rp_id(rp_id: str, origin: str,
                related: Mapping[str, frozenset[str]] = RELATED_ORIGINS) -> None:
    """The browser's RP ID check: a registrable suffix of the origin's host, or an origin the
    RP lists for Related Origin Requests; anything else is a SecurityError."""
    if not verify_rp_id(rp_id, origin) and origin not in related.get(rp_id, frozenset()):
        raise DomError("SecurityError", f"the RP ID {rp_id!r} is not valid for {origin}")


def _checked(rp_id: str, origin: str) -> bool:
    """For python-fido2's collector: `check_rp_id` has already judged this pair.

    fido2 accepts only registrable suffixes; Related Origin Requests (a page on mysignins for
    rp.id login.microsoft.com) need the browser's fuller check, which the bridge makes first.
    """
    return True


def dom_error(kind: str, error: ClientError) -> DomError:
    """The DOMException a browser reports for a client error (WebAuthn L3 §5.1.3, §5.1.4)."""
    cause = error.cause.code if isinstance(error.cause, CtapError) else None
    if error.code is ClientError.ERR.DEVICE_INELIGIBLE and kind == "create":
        return DomError("InvalidStateError", "the authenticator holds an excluded credential")
    if cause is CtapError.ERR.UNSUPPORTED_ALGORITHM:
        return DomError("NotSupportedError", "no offered algorithm is supported")
    return DomError("NotAllowedError", f"the authenticator refused ({error!r})")


# keyed by (kty, crv) as the COSE key states them, whatever their types: others simply miss
_SPKI: dict[tuple[object, object], Callable[[Mapping[int, Any]], Any]] = {
    (2, 1): lambda k: ec.EllipticCurvePublicNumbers(
        int.from_bytes(k[-2]), int.from_bytes(k[-3]), ec.SECP256R1()).public_key(),
    (3, None): lambda k: rsa.RSAPublicNumbers(
        int.from_bytes(k[-2]), int.from_bytes(k[-1])).public_key(),
    (1, 6): lambda k: ed25519.Ed25519PublicKey.from_public_bytes(k[-2]),
}


def public_key_spki(cose: Mapping[int, Any]) -> bytes | None:
    """getPublicKey(): the credential key as DER SubjectPublicKeyInfo, None when the client
    does not know its type (as the spec allows). python-fido2 has no COSE-to-SPKI export."""
    kty = cose.get(1)
    load = _SPKI.get((kty, None if kty == 3 else cose.get(-1)))
    if load is None:
        return None
    return load(cose).public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def registration_json(response: Mapping[str, Any]) -> dict[str, Any]:
    """A RegistrationResponseJSON with the L3 members fido2 leaves out: authenticatorData,
    publicKey and publicKeyAlgorithm (what getAuthenticatorData() and friends return)."""
    out = json.loads(json.dumps(dict(response)))
    auth = AttestationObject(websafe_decode(out["response"]["attestationObject"])).auth_data
    key = auth.credential_data.public_key if auth.credential_data else None
    spki = public_key_spki(key) if key is not None else None
    out["response"].update({
        "authenticatorData": websafe_encode(bytes(auth)),
        "publicKeyAlgorithm": key[3] if key is not None else None,
        **({"publicKey": websafe_encode(spki)} if spki is not None else {}),
    })
    return out


def _check_buffers(kind: str, options: Mapping[str, Any]) -> None:
    """The BufferSource members a browser's IDL conversion insists on (python-fido2 would
    turn a number into that many zero bytes); bridge.js sends every buffer as base64url."""
    user = options.get("user") if kind == "create" else {"id": ""}
    if not isinstance(options.get("challenge"), str) or not isinstance(user, dict) \
            or not isinstance(user.get("id"), str):
        raise DomError("TypeError", "challenge and user.id must be BufferSources")


@dataclass
class Bridge:
    """One software authenticator answering the WebAuthn calls of one case's pages."""

    device: CtapDevice
    related_origins: Mapping[str, frozenset[str]] = field(default_factory=lambda: RELATED_ORIGINS)
    calls: list[BridgeCall] = field(default_factory=list)
    failure: BaseException | None = None  # an unexpected error inside the bridge (a bug)

    def __post_init__(self) -> None:
        self.interaction = client.ScriptedInteraction(getattr(self.device, "pin", None))

    def answer(self, source: Mapping[str, Any], kind: str, options: Any) -> dict[str, Any]:
        """The binding: a credential or an error object, never a stray exception for input."""
        origin = origin_of(source["frame"].url)
        call = BridgeCall(str(kind), origin or "null", options if isinstance(options, dict)
                          else {"invalid": repr(options)[:200]})
        self.calls.append(call)
        try:
            call.credential = self.perform(call.kind, origin, options)
            return {"credential": call.credential}
        except DomError as e:
            call.error = e
            return {"error": {"name": e.name, "message": e.message}}
        except Exception as e:
            self.failure = e
            raise

    def perform(self, kind: str, origin: str | None, options: Any) -> dict[str, Any]:
        """create()/get() for `origin` with the JSON form of the publicKey options."""
        if origin is None:
            raise DomError("NotAllowedError", "an opaque origin cannot use WebAuthn")
        if kind not in ("create", "get") or not isinstance(options, dict):
            raise DomError("TypeError", "expected create or get with publicKey options")
        rp = options.get("rp") if kind == "create" else {"id": options.get("rpId")}
        if not isinstance(rp, dict):
            raise DomError("TypeError", "publicKey.rp must be a dictionary")
        rp_id = rp.get("id") or urlsplit(origin).hostname or ""
        if not isinstance(rp_id, str):
            raise DomError("TypeError", "the RP ID must be a string")
        check_rp_id(rp_id, origin, self.related_origins)
        _check_buffers(kind, options)
        try:
            if kind == "create":
                return registration_json(client.register(
                    self.device, options, origin, user_interaction=self.interaction,
                    verify_rp_id=_checked))
            return json.loads(json.dumps(dict(client.authenticate(
                self.device, options, origin, user_interaction=self.interaction,
                verify_rp_id=_checked))))
        except ClientError as e:
            raise dom_error(kind, e) from None
        except (TypeError, ValueError, KeyError) as e:  # options fido2 cannot read
            raise DomError("TypeError", f"invalid publicKey options: {e}") from None
