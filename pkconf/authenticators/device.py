"""A software authenticator that speaks CTAP2 (and CTAP1 for U2F-only keys), driven by a profile.

It is a `fido2.ctap.CtapDevice`, so python-fido2's client talks to it exactly as to a key on
USB: the same getInfo negotiation, PIN protocol, UV and extension handling. That is the point:
what the suite registers went through a real CTAP client, not a shortcut that builds
attestation objects by hand. Behaviour follows CTAP 2.1 §6 closely enough for the errors a
client can observe (excluded credential, full key store, unsupported algorithm, missing UV).
"""

from __future__ import annotations

import hmac
import importlib
import itertools
import os
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from hashlib import sha256
from threading import Event
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fido2 import cbor
from fido2.cose import ES256, RS256, CoseKey
from fido2.ctap import STATUS, CtapDevice, CtapError
from fido2.ctap1 import APDU, Ctap1
from fido2.ctap2 import Ctap2
from fido2.ctap2.base import args
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2
from fido2.hid import CAPABILITY, CTAPHID
from fido2.webauthn import Aaguid, AuthenticatorData

from .. import testpki as pki
from .profiles import Attachment, AttesterSpec, Profile, Quirk, Uv
from .statements import Attester

ERR = CtapError.ERR
FLAG = AuthenticatorData.FLAG
_UP, _UV, _BE, _BS, _AT, _ED = (int(f) for f in (FLAG.UP, FLAG.UV, FLAG.BE, FLAG.BS, FLAG.AT,
                                                 FLAG.ED))
DEFAULT_PIN = "271828"  # the PIN every software key with client PIN is set up with
PIN_RETRIES = 8  # CTAP 2.1 §6.5.2: the PIN retry counter starts at 8
MAX_MSG_SIZE = 1200
MAX_CREDS_IN_LIST = 8
MAX_CRED_ID_LENGTH = 128
CRED_PROTECT_LEVELS = (1, 2, 3)
PIN_PROTOCOLS: dict[int, PinProtocolV1] = {2: PinProtocolV2(), 1: PinProtocolV1()}
SW_WRONG_LENGTH, SW_INS_NOT_SUPPORTED, SW_CLA_NOT_SUPPORTED = 0x6700, 0x6D00, 0x6E00
_GET_INFO = bytes([Ctap2.CMD.GET_INFO])  # the whole getInfo command (it has no parameters)


RSA_POOL_SIZE = 16
_rsa_pool: list[rsa.RSAPrivateKey] = []
_rsa_next = itertools.count()


def _rsa_key() -> rsa.RSAPrivateKey:
    """An RSA-2048 credential key from a small per-process pool.

    Generating one costs 50-100 ms, which would dominate every Windows Hello ceremony; the
    tenant only ever sees public keys, and credential ids stay unique, so a pool loses nothing
    a registration decision depends on.
    """
    i = next(_rsa_next) % RSA_POOL_SIZE
    if i >= len(_rsa_pool):
        _rsa_pool.append(rsa.generate_private_key(65537, 2048))
    return _rsa_pool[i]


@dataclass(frozen=True)
class _Algorithm:
    """How to make, describe and use a credential key of one COSE algorithm."""

    generate: Callable[[], Any]
    cose: Callable[[Any], CoseKey]
    sign: Callable[[Any, bytes], bytes]


def _es256_cose(key: ec.EllipticCurvePrivateKey) -> CoseKey:
    """`ES256.from_cryptography_key` of the public key, read from the point's bytes (fido2 goes
    through Python ints for the same 32-byte big-endian coordinates)."""
    point = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return ES256({1: 2, 3: ES256.ALGORITHM, -1: 1, -2: point[1:33], -3: point[33:]})


ALGORITHMS: dict[int, _Algorithm] = {
    ES256.ALGORITHM: _Algorithm(
        generate=lambda: ec.generate_private_key(ec.SECP256R1()),
        cose=_es256_cose,
        sign=lambda key, data: key.sign(data, ec.ECDSA(hashes.SHA256())),
    ),
    RS256.ALGORITHM: _Algorithm(
        generate=lambda: _rsa_key(),
        cose=lambda key: RS256.from_cryptography_key(key.public_key()),
        sign=lambda key, data: key.sign(data, padding.PKCS1v15(), hashes.SHA256()),
    ),
}


@dataclass
class Credential:
    """One credential the authenticator holds (resident or not: all are kept, for sign-in)."""

    credential_id: bytes
    rp_id_hash: bytes
    alg: int
    key: Any
    user: Mapping[str, Any] | None = None
    resident: bool = False
    cred_protect: int = 1
    counter: int = 0


@dataclass
class _PinState:
    """Client PIN state (CTAP 2.1 §6.5): the PIN, its retries and the current token."""

    pin: str | None
    retries: int = PIN_RETRIES
    key_agreement: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    token: bytes | None = None
    protocol: int | None = None
    # the key agreement key and its getKeyAgreement COSE key (see _key_agreement_cose)
    key_agreement_cose: tuple[ec.EllipticCurvePrivateKey, dict[int, Any]] | None = None


_ATTESTERS = {  # fmt -> (module of statements/, class)
    "none": ("none", "NoneAttester"),
    "packed": ("packed", "PackedAttester"),
    "tpm": ("tpm", "TpmAttester"),
    "android-key": ("android_key", "AndroidKeyAttester"),
    "apple": ("apple", "AppleAttester"),
    "fido-u2f": ("fido_u2f", "FidoU2fAttester"),
}


def attester_for(spec: AttesterSpec) -> Attester:
    """The statements/ attester a profile names, with its defect if it is a broken variant;
    imported on use, so one format's absence breaks only the profiles that need it."""
    module, name = _ATTESTERS[spec.fmt]
    cls = getattr(importlib.import_module(f"{__package__}.statements.{module}"), name)
    if spec.vendor is None:
        return cls(defect=spec.defect)
    return cls(vendor=pki.vendor(spec.vendor), defect=spec.defect)


class SoftwareAuthenticator(CtapDevice):
    """A CTAP authenticator in memory, behaving as its profile says.

    `attester` signs the attestation statement (by default the one the profile names); `pin`
    is the client PIN of a profile whose UV is a PIN (None: supported but not set).
    """

    def __init__(self, profile: Profile, attester: Attester | None = None, *,
                 pin: str | None = DEFAULT_PIN):
        self.profile = profile
        self.attester = attester or attester_for(profile.attestation)
        self.aaguid = Aaguid.parse(profile.aaguid)
        self.credentials: dict[bytes, Credential] = {}
        self._pin = _PinState(pin if profile.uv is Uv.PIN else None)
        self._pending: list[dict[int, Any]] = []  # getNextAssertion responses still to hand out
        self._u2f_only = Quirk.U2F_ONLY in profile.quirks
        # getInfo's encoded answer and what it was made from: (profile, AAGUID, PIN set, bytes)
        self._info: tuple[Profile, Aaguid, bool, bytes] | None = None

    @property
    def pin(self) -> str | None:
        return self._pin.pin

    # --- CtapDevice -----------------------------------------------------------------------------
    @property
    def capabilities(self) -> int:
        if self._u2f_only:
            return CAPABILITY.WINK
        return CAPABILITY.WINK | CAPABILITY.CBOR | CAPABILITY.NMSG

    def call(self, cmd: int, data: bytes = b"", event: Event | None = None,
             on_keepalive: Callable[[STATUS], None] | None = None) -> bytes:
        if event is not None and event.is_set():
            raise CtapError(ERR.KEEPALIVE_CANCEL)
        if cmd == CTAPHID.PING:
            return data
        if cmd == CTAPHID.WINK:
            return b""
        if cmd == CTAPHID.CBOR and not self._u2f_only:
            return self._cbor(data, on_keepalive)
        if cmd == CTAPHID.MSG and self._u2f_only:
            return self._apdu(data)
        raise CtapError(ERR.INVALID_COMMAND)

    @classmethod
    def list_devices(cls) -> Iterator[CtapDevice]:
        """Software authenticators are made, never discovered."""
        return iter(())

    # --- CTAP2 dispatch -------------------------------------------------------------------------
    def _cbor(self, data: bytes, on_keepalive: Callable[[STATUS], None] | None) -> bytes:
        """Run one CTAP2 command; every failure becomes its status byte, never an exception."""
        try:
            if not data:
                raise CtapError(ERR.INVALID_LENGTH)
            if data == _GET_INFO:  # the common case, from its cached answer
                self._pending.clear()
                return self._get_info()
            request = _decode_request(data[1:])
            handlers: dict[int, Callable[[], Mapping[int, Any]]] = {
                Ctap2.CMD.GET_INFO: lambda: self._info_map(),
                Ctap2.CMD.MAKE_CREDENTIAL: lambda: self._make_credential(request, on_keepalive),
                Ctap2.CMD.GET_ASSERTION: lambda: self._get_assertion(request, on_keepalive),
                Ctap2.CMD.GET_NEXT_ASSERTION: self._get_next_assertion,
                Ctap2.CMD.CLIENT_PIN: lambda: self._client_pin(request),
                Ctap2.CMD.RESET: self._reset,
                Ctap2.CMD.SELECTION: lambda: _selection(on_keepalive),
            }
            handler = handlers.get(data[0])
            if handler is None:
                raise CtapError(ERR.INVALID_COMMAND)
            if data[0] != Ctap2.CMD.GET_NEXT_ASSERTION:
                self._pending.clear()
            response = handler()
        except CtapError as e:
            return bytes([e.code])
        return b"\0" + (cbor.encode(response) if response else b"")

    # --- authenticatorGetInfo (CTAP 2.1 §6.4) -----------------------------------------------------
    def _get_info(self) -> bytes:
        """getInfo's answer, encoded again only when what it says can have changed (profile,
        AAGUID, whether a PIN is set): clients ask for it in every ceremony."""
        pin_set = self._pin.pin is not None
        cached = self._info
        if cached is None or cached[0] is not self.profile or cached[1] is not self.aaguid \
                or cached[2] is not pin_set:
            cached = self._info = (self.profile, self.aaguid, pin_set,
                                   b"\0" + cbor.encode(self._info_map()))
        return cached[3]

    def _info_map(self) -> dict[int, Any]:
        p = self.profile
        options = {"rk": p.rk_capacity > 0, "up": True, "plat": p.attachment is Attachment.PLATFORM}
        if p.uv is Uv.BUILT_IN:
            options["uv"] = True
        if p.uv is Uv.PIN:
            options["clientPin"] = self._pin.pin is not None
        if p.uv is not Uv.NONE:
            options["makeCredUvNotRqd"] = True
        if Quirk.ALWAYS_UV in p.quirks:
            options["alwaysUv"] = True
        return args(
            list(p.versions), list(p.extensions), self.aaguid, options, MAX_MSG_SIZE,
            list(PIN_PROTOCOLS), MAX_CREDS_IN_LIST, MAX_CRED_ID_LENGTH, list(p.transports) or None,
            [{"alg": alg, "type": "public-key"} for alg in p.algorithms],
        )

    # --- authenticatorMakeCredential (CTAP 2.1 §6.1) ---------------------------------------------
    def _make_credential(self, req: Mapping[int, Any],
                         on_keepalive: Callable[[STATUS], None] | None) -> dict[int, Any]:
        client_data_hash = _param(req, 1, bytes)
        rp = _param(req, 2, dict)
        user = _param(req, 3, dict)
        params = _param(req, 4, list)
        exclude = _param(req, 5, list, required=False) or []
        extensions = _param(req, 6, dict, required=False) or {}
        options = _param(req, 7, dict, required=False) or {}
        rp_id = _field(rp, "id", str)
        _field(user, "id", bytes)
        alg = self._choose_algorithm(params)
        if options.get("up") is False:
            raise CtapError(ERR.INVALID_OPTION)
        rk = options.get("rk") is True
        if rk and self.profile.rk_capacity == 0:
            raise CtapError(ERR.UNSUPPORTED_OPTION)
        uv = self._verify_user(req, client_data_hash, options, pin_param_key=8, needs_uv=rk)
        _touch(on_keepalive)
        rp_id_hash = sha256(rp_id.encode()).digest()
        for descriptor in exclude:
            found = self.credentials.get(_field(descriptor, "id", bytes))
            if found and found.rp_id_hash == rp_id_hash:
                raise CtapError(ERR.CREDENTIAL_EXCLUDED)
        if rk:
            self._make_room(rp_id_hash, user["id"])
        algorithm = ALGORITHMS[alg]
        cred = Credential(os.urandom(32), rp_id_hash, alg, algorithm.generate(), user=user,
                          resident=rk)
        outputs = self._extension_outputs(extensions, cred)
        auth_data = AuthenticatorData.create(  # parses all of it, the credential data too
            rp_id_hash, self._flags(uv=uv, up=True, extra=_AT | (_ED if outputs else 0)),
            cred.counter, _credential_data(self.aaguid, cred.credential_id,
                                           algorithm.cose(cred.key)),
            outputs or None,
        )
        fmt, att_stmt = self.attester.attest(auth_data, client_data_hash, cred.key)
        self.credentials[cred.credential_id] = cred
        return {1: fmt, 2: auth_data, 3: att_stmt}

    def _choose_algorithm(self, params: list[Any]) -> int:
        """The RP's first algorithm we support, or our own first if the profile insists."""
        offered = [_field(p, "alg", int) for p in params
                   if isinstance(p, dict) and p.get("type") == "public-key"]
        ours = [a for a in self.profile.algorithms if a in ALGORITHMS]
        if Quirk.DEVICE_ALGORITHM_ORDER in self.profile.quirks:
            choice = [a for a in ours if a in offered]
        else:
            choice = [a for a in offered if a in ours]
        if not choice:
            raise CtapError(ERR.UNSUPPORTED_ALGORITHM)
        return choice[0]

    def _make_room(self, rp_id_hash: bytes, user_id: bytes) -> None:
        """A resident credential for the same RP and user replaces the old one (§6.1.2 step 17)."""
        for cred in list(self.credentials.values()):
            if (cred.resident and cred.rp_id_hash == rp_id_hash and cred.user is not None
                    and cred.user["id"] == user_id):
                del self.credentials[cred.credential_id]
        if sum(c.resident for c in self.credentials.values()) >= self.profile.rk_capacity:
            raise CtapError(ERR.KEY_STORE_FULL)

    def _extension_outputs(self, inputs: Mapping[str, Any], cred: Credential) -> dict[str, Any]:
        """credProtect and hmac-secret, answered only by profiles that list them."""
        supported = self.profile.extensions
        outputs: dict[str, Any] = {}
        level = inputs.get("credProtect")
        if "credProtect" in supported and level in CRED_PROTECT_LEVELS:
            cred.cred_protect = level
            outputs["credProtect"] = level
        if "hmac-secret" in supported and inputs.get("hmac-secret") is True:
            outputs["hmac-secret"] = True
        return outputs

    def _flags(self, *, uv: bool, up: bool, extra: int = 0) -> FLAG:
        """The flags, worked out in ints (`IntFlag` arithmetic is a Python call per operator)
        and made a `FLAG` once per value."""
        p = self.profile
        return _flag((_UP if up else 0) | (_UV if uv else 0) | (_BE if p.backup_eligible else 0)
                     | (_BS if p.backup_state else 0) | extra)

    # --- user verification (CTAP 2.1 §6.1.2 steps 1-11, §6.2.2) ----------------------------------
    def _verify_user(self, req: Mapping[int, Any], client_data_hash: bytes,
                     options: Mapping[str, Any], *, pin_param_key: int, needs_uv: bool) -> bool:
        """Whether the user was verified; raises what a real authenticator answers instead."""
        pin_param = _param(req, pin_param_key, bytes, required=False)
        if pin_param is not None:
            if not pin_param:  # a zero-length pinUvAuthParam: the client probes for a touch
                raise CtapError(ERR.PIN_INVALID if self._pin.pin else ERR.PIN_NOT_SET)
            protocol = _param(req, pin_param_key + 1, int)
            if protocol not in PIN_PROTOCOLS:
                raise CtapError(ERR.INVALID_PARAMETER)
            token = self._pin.token
            if token is None or protocol != self._pin.protocol:
                raise CtapError(ERR.PIN_AUTH_INVALID)
            expected = PIN_PROTOCOLS[protocol].authenticate(token, client_data_hash)
            if not hmac.compare_digest(expected, pin_param):
                raise CtapError(ERR.PIN_AUTH_INVALID)
            return True
        if options.get("uv") is True:
            if self.profile.uv is not Uv.BUILT_IN:
                raise CtapError(ERR.INVALID_OPTION)
            return True
        protected = self.profile.uv is Uv.BUILT_IN or self._pin.pin is not None
        if protected and (needs_uv or Quirk.ALWAYS_UV in self.profile.quirks):
            raise CtapError(ERR.PUAT_REQUIRED)
        return False

    # --- authenticatorGetAssertion (CTAP 2.1 §6.2) ----------------------------------------------
    def _get_assertion(self, req: Mapping[int, Any],
                       on_keepalive: Callable[[STATUS], None] | None) -> dict[int, Any]:
        rp_id = _param(req, 1, str)
        client_data_hash = _param(req, 2, bytes)
        allow = _param(req, 3, list, required=False) or []
        options = _param(req, 5, dict, required=False) or {}
        up = options.get("up", True) is not False
        uv = self._verify_user(req, client_data_hash, options, pin_param_key=6,
                               needs_uv=Quirk.ALWAYS_UV in self.profile.quirks and up)
        rp_id_hash = sha256(rp_id.encode()).digest()
        if allow:
            ids = [_field(d, "id", bytes) for d in allow]
            found = [self.credentials[i] for i in ids if i in self.credentials]
        else:
            found = [c for c in reversed(self.credentials.values()) if c.resident]
        # credProtect (§12.1): level 3 needs UV; level 2 needs UV or an allow list
        creds = [c for c in found if c.rp_id_hash == rp_id_hash
                 and (uv or c.cred_protect == 1 or (c.cred_protect == 2 and allow))]
        if up:
            _touch(on_keepalive)
        if not creds:
            raise CtapError(ERR.NO_CREDENTIALS)
        responses = [self._assertion(c, client_data_hash, uv=uv, up=up, discoverable=not allow)
                     for c in creds]
        if len(responses) > 1:
            responses[0][5] = len(responses)
            self._pending = responses[1:]
        return responses[0]

    def _assertion(self, cred: Credential, client_data_hash: bytes, *, uv: bool, up: bool,
                   discoverable: bool) -> dict[int, Any]:
        if not self.profile.backup_eligible:  # synced providers keep the counter at 0
            cred.counter += 1
        auth_data = AuthenticatorData.create(cred.rp_id_hash, self._flags(uv=uv, up=up),
                                             cred.counter)
        response = {
            1: {"id": cred.credential_id, "type": "public-key"},
            2: auth_data,
            3: ALGORITHMS[cred.alg].sign(cred.key, auth_data + client_data_hash),
        }
        if discoverable and cred.user is not None:
            response[4] = {"id": cred.user["id"]}
        return response

    def _get_next_assertion(self) -> Mapping[int, Any]:
        if not self._pending:
            raise CtapError(ERR.NOT_ALLOWED)
        return self._pending.pop(0)

    # --- authenticatorClientPIN (CTAP 2.1 §6.5) -------------------------------------------------
    def _client_pin(self, req: Mapping[int, Any]) -> dict[int, Any]:
        if self.profile.uv is not Uv.PIN:
            raise CtapError(ERR.INVALID_COMMAND)
        protocol_version = _param(req, 1, int)
        sub = _param(req, 2, int)
        protocol = PIN_PROTOCOLS.get(protocol_version)
        if protocol is None:
            raise CtapError(ERR.INVALID_PARAMETER)
        state = self._pin
        if sub == ClientPin.CMD.GET_PIN_RETRIES:
            return {ClientPin.RESULT.PIN_RETRIES: state.retries}
        if sub == ClientPin.CMD.GET_KEY_AGREEMENT:
            return {ClientPin.RESULT.KEY_AGREEMENT: dict(_key_agreement_cose(state))}
        if sub in (ClientPin.CMD.GET_TOKEN_USING_PIN_LEGACY, ClientPin.CMD.GET_TOKEN_USING_PIN):
            return self._pin_token(req, protocol_version, protocol)
        raise CtapError(ERR.INVALID_SUBCOMMAND)

    def _pin_token(self, req: Mapping[int, Any], version: int,
                   protocol: PinProtocolV1) -> dict[int, Any]:
        state = self._pin
        platform_key = _param(req, 3, dict)
        pin_hash_enc = _param(req, 6, bytes)
        if state.pin is None:
            raise CtapError(ERR.PIN_NOT_SET)
        if state.retries == 0:
            raise CtapError(ERR.PIN_BLOCKED)
        x, y = platform_key.get(-2), platform_key.get(-3)
        if not isinstance(x, bytes) or not isinstance(y, bytes):
            raise CtapError(ERR.INVALID_PARAMETER)
        try:
            public = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x), int.from_bytes(y), ec.SECP256R1()).public_key()
            shared = protocol.kdf(state.key_agreement.exchange(ec.ECDH(), public))
            pin_hash = protocol.decrypt(shared, pin_hash_enc)
        except ValueError:  # not a P-256 point, or a ciphertext of the wrong length
            raise CtapError(ERR.INVALID_PARAMETER) from None
        if not hmac.compare_digest(pin_hash, sha256(state.pin.encode()).digest()[:16]):
            state.retries -= 1
            state.key_agreement = ec.generate_private_key(ec.SECP256R1())
            raise CtapError(ERR.PIN_BLOCKED if state.retries == 0 else ERR.PIN_INVALID)
        state.retries = PIN_RETRIES
        state.token, state.protocol = os.urandom(32), version
        return {ClientPin.RESULT.PIN_UV_TOKEN: protocol.encrypt(shared, state.token)}

    def _reset(self) -> dict[int, Any]:
        self.credentials.clear()
        self._pin = _PinState(None)
        return {}

    # --- CTAP1 / U2F raw messages (FIDO U2F Raw Message Formats §4-§6) ---------------------------
    def _apdu(self, data: bytes) -> bytes:
        """One U2F APDU (extended or short length); the answer ends with its status word."""
        if len(data) < 4:
            return _sw(SW_WRONG_LENGTH)
        cla, ins, p1 = data[0], data[1], data[2]
        body = _apdu_body(data)
        if cla != 0:
            return _sw(SW_CLA_NOT_SUPPORTED)
        if body is None:
            return _sw(SW_WRONG_LENGTH)
        if ins == Ctap1.INS.VERSION:
            return b"U2F_V2" + _sw(APDU.OK)
        if ins == Ctap1.INS.REGISTER:
            return self._u2f_register(body)
        if ins == Ctap1.INS.AUTHENTICATE:
            return self._u2f_authenticate(p1, body)
        return _sw(SW_INS_NOT_SUPPORTED)

    def _u2f_register(self, body: bytes) -> bytes:
        if len(body) != 64:
            return _sw(SW_WRONG_LENGTH)
        challenge, app_param = body[:32], body[32:]
        algorithm = ALGORITHMS[ES256.ALGORITHM]
        cred = Credential(os.urandom(64), app_param, ES256.ALGORITHM, algorithm.generate())
        cose = algorithm.cose(cred.key)
        auth_data = AuthenticatorData.create(
            app_param, FLAG.UP | FLAG.AT, 0,
            _credential_data(Aaguid.NONE, cred.credential_id, cose),
        )
        _, att_stmt = self.attester.attest(auth_data, challenge, cred.key)
        self.credentials[cred.credential_id] = cred
        return (b"\x05" + b"\x04" + cose[-2] + cose[-3] + bytes([len(cred.credential_id)])
                + cred.credential_id + att_stmt["x5c"][0] + att_stmt["sig"] + _sw(APDU.OK))

    def _u2f_authenticate(self, control: int, body: bytes) -> bytes:
        if len(body) < 65 or len(body) != 65 + body[64]:
            return _sw(SW_WRONG_LENGTH)
        client_param, app_param, key_handle = body[:32], body[32:64], body[65:]
        cred = self.credentials.get(key_handle)
        if cred is None or cred.rp_id_hash != app_param:
            return _sw(APDU.WRONG_DATA)
        if control == 0x07:  # check-only: "the key handle is mine" is said this way
            return _sw(APDU.USE_NOT_SATISFIED)
        cred.counter += 1
        signed = app_param + b"\x01" + struct.pack(">I", cred.counter) + client_param
        signature = ALGORITHMS[cred.alg].sign(cred.key, signed)
        return b"\x01" + struct.pack(">I", cred.counter) + signature + _sw(APDU.OK)


# --- helpers -------------------------------------------------------------------------------------
@cache
def _flag(value: int) -> FLAG:
    return FLAG(value)


def _key_agreement_cose(state: _PinState) -> dict[int, Any]:
    """getKeyAgreement's COSE key (ECDH-ES+HKDF-256, alg -25), made once per key agreement key:
    the PIN family asks for it every ceremony, and the key changes only after a wrong PIN."""
    made = state.key_agreement_cose
    if made is None or made[0] is not state.key_agreement:
        made = state.key_agreement_cose = (state.key_agreement,
                                           {**_es256_cose(state.key_agreement), 3: -25})
    return made[1]


def _touch(on_keepalive: Callable[[STATUS], None] | None) -> None:
    """User presence: a real key asks for a touch (keepalive UPNEEDED); ours is touched at once."""
    if on_keepalive is not None:
        on_keepalive(STATUS.UPNEEDED)


def _selection(on_keepalive: Callable[[STATUS], None] | None) -> dict[int, Any]:
    """authenticatorSelection (CTAP 2.1 §6.9): a touch, and an empty success."""
    _touch(on_keepalive)
    return {}


def _credential_data(aaguid: Aaguid, credential_id: bytes, public_key: CoseKey) -> bytes:
    """The bytes of `AttestedCredentialData.create` (WebAuthn §6.5.2), not parsed back: the
    authenticator data they go into parse them anyway."""
    return aaguid + struct.pack(">H", len(credential_id)) + credential_id + cbor.encode(public_key)


def _decode_request(data: bytes) -> Mapping[int, Any]:
    """The CBOR parameter map of a command (empty when absent); malformed CBOR is INVALID_CBOR."""
    if not data:
        return {}
    try:
        value, rest = cbor.decode_from(data)
    except Exception:  # fido2's decoder raises whatever the bytes provoke
        raise CtapError(ERR.INVALID_CBOR) from None
    if rest:
        raise CtapError(ERR.INVALID_CBOR)
    if not isinstance(value, dict):
        raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
    return value


def _param(req: Mapping[int, Any], key: int, kind: type, *, required: bool = True) -> Any:
    value = req.get(key)
    if value is None:
        if required:
            raise CtapError(ERR.MISSING_PARAMETER)
        return None
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
    return value


def _field(obj: Any, key: str, kind: type) -> Any:
    if not isinstance(obj, dict):
        raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
    if key not in obj:
        raise CtapError(ERR.MISSING_PARAMETER)
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
    return value


def _apdu_body(data: bytes) -> bytes | None:
    """The data field of an extended-length (00 Lc1 Lc2) or short-length APDU, or None."""
    rest = data[4:]
    if not rest:
        return b""
    if rest[0] == 0 and len(rest) >= 3:
        length = int.from_bytes(rest[1:3])
        body = rest[3:3 + length]
        return body if len(body) == length and len(rest) - 3 - length in (0, 2) else None
    length = rest[0]
    body = rest[1:1 + length]
    return body if len(body) == length and len(rest) - 1 - length in (0, 1) else None


def _sw(status: int) -> bytes:
    return struct.pack(">H", status)
