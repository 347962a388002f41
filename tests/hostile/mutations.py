"""The hostile mutations, each modelled on a FIDO Alliance server-conformance negative case for
MakeCredential responses (`Server-ServerAuthenticatorAttestationResponse-Resp-N F-n`, from
fido-alliance/conformance-test-tools-resources docs/FIDO2/Server/README.md) or, where the
conformance tools have no case for it, on the spec paragraph it breaks (issue 14's faults).

A mutation takes a fresh `Hostile` copy of a valid sample and returns the response object to
judge. Changes to the authenticator data or the client data are signed again where the sample
can be (samples.py), so the statement stays valid and the check under test is the one that
must refuse it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fido2 import cbor
from fido2.cose import ES256
from fido2.utils import websafe_encode

from pkconf.authenticators.statements import Defect
from pkconf.tenant.registration import b64url_decode

from .samples import Sample, can_make, sample_format

UP, UV, BE, BS, AT, ED = 0x01, 0x04, 0x08, 0x10, 0x40, 0x80  # WebAuthn L3 §6.1 flag bits
NESTING = 5000  # far past Python's recursion limit (issue 14, fault 1)


def _cbor(value: Any) -> bytes:
    """CTAP2 canonical CBOR (RFC 8949 §4.2.1 order) of any value, null and floats too: fido2's
    encoder takes only what an authenticator would send."""
    return cbor2.dumps(value, canonical=True)


@dataclass
class AuthParts:
    """authData split at its fields (WebAuthn L3 §6.1, §6.5.1); `encode` joins them again."""

    rp_id_hash: bytes
    flags: int
    counter: bytes
    aaguid: bytes
    credential_id: bytes
    key: Any  # the COSE key, decoded
    rest: bytes  # extensions, or leftover bytes

    @classmethod
    def decode(cls, data: bytes) -> AuthParts:
        length = int.from_bytes(data[53:55], "big")
        key, rest = cbor.decode_from(data[55 + length:])
        return cls(data[:32], data[32], data[33:37], data[37:53], data[55:55 + length], key,
                   rest)

    def encode(self) -> bytes:
        return (self.rp_id_hash + bytes([self.flags]) + self.counter + self.aaguid
                + len(self.credential_id).to_bytes(2, "big") + self.credential_id
                + _cbor(self.key) + self.rest)


class Hostile:
    """A mutable copy of one sample, with the re-encoding and re-signing a mutation needs."""

    def __init__(self, sample: Sample):
        self.sample = sample
        self.response: dict[str, Any] = copy.deepcopy(dict(sample.response))
        body = self.response["response"]
        self.client_data_raw = b64url_decode(body["clientDataJSON"], "cd", standard_too=True)
        self.att: dict[str, Any] = dict(cbor.decode(  # type: ignore[arg-type]
            b64url_decode(body["attestationObject"], "ao", standard_too=True)))

    @property
    def auth_data(self) -> bytes:
        return bytes(self.att["authData"])

    def client_data(self) -> dict[str, Any]:
        return dict(json.loads(self.client_data_raw))

    def parts(self) -> AuthParts:
        return AuthParts.decode(self.auth_data)

    def _signed(self, auth_data: bytes, client_data: bytes, defect: Defect | None = None
                ) -> dict[str, Any]:
        att = {**self.att, "authData": auth_data}
        if self.sample.sign is not None:
            try:
                att["fmt"], att["attStmt"] = self.sample.sign(
                    auth_data, sha256(client_data).digest(), defect)
            except Exception:  # fido2 raises a zoo of types on such bytes
                # authData the authenticator's own code cannot read keeps the old statement:
                # it has to be refused as unreadable before any signature counts
                if defect is not None:
                    raise
        return self.with_attestation(_cbor(att), client_data)

    def with_client_data(self, data: dict[str, Any] | bytes) -> dict[str, Any]:
        """The response with this clientDataJSON (a dict is serialised), signed again."""
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        return self._signed(self.auth_data, raw)

    def with_auth_data(self, data: AuthParts | bytes) -> dict[str, Any]:
        """The response with this authData, signed again."""
        return self._signed(data if isinstance(data, bytes) else data.encode(),
                            self.client_data_raw)

    def with_defect(self, defect: Defect) -> dict[str, Any]:
        """The response signed again by the sample's attester making `defect`."""
        return self._signed(self.auth_data, self.client_data_raw, defect)

    def with_statement(self, **changes: Any) -> dict[str, Any]:
        """The response with attStmt keys replaced (`None` removes one); not signed again."""
        statement = dict(self.att["attStmt"])
        for key, value in changes.items():
            statement.pop(key, None) if value is None else statement.__setitem__(key, value)
        return self.with_attestation(_cbor({**self.att, "attStmt": statement}))

    def with_attestation(self, raw: bytes | dict[str, Any],
                         client_data: bytes | None = None) -> dict[str, Any]:
        """The response with this attestationObject (a dict is CBOR-encoded), not signed again."""
        response = copy.deepcopy(self.response)
        response["response"]["attestationObject"] = websafe_encode(
            raw if isinstance(raw, bytes) else _cbor(raw))
        if client_data is not None:
            response["response"]["clientDataJSON"] = websafe_encode(client_data)
        return response

    def with_fields(self, *path: str, value: Any = ...) -> dict[str, Any]:
        """The response JSON with the field at `path` set to `value`, or removed."""
        response = copy.deepcopy(self.response)
        *parents, last = path
        node = response
        for key in parents:
            node = node[key]
        if value is ...:
            node.pop(last, None)
        else:
            node[last] = value
        return response


@dataclass(frozen=True)
class Mutation:
    """One hostile change. `formats`: the attestation formats it applies to (None: all);
    `enforced_only`: it breaks only what an
    enforcing policy verifies (unenforced, Entra reads a statement without verifying it:
    rules.py, [DOC S3] and the [INFERRED] packed-form rule), so it is judged under that one."""

    case: str  # the conformance case id, or the spec paragraph
    title: str
    make: Callable[[Hostile], Any]
    formats: frozenset[str] | None = None
    enforced_only: bool = False
    defect: Defect | None = None  # made by the sample's own attester, where it can

    def applies_to(self, name: str) -> bool:
        if self.formats is not None and sample_format(name) not in self.formats:
            return False
        return self.defect is None or can_make(name, self.defect)


R1 = "Resp-1"  # Server-ServerAuthenticatorAttestationResponse-Resp-1: the response structure
R2 = "Resp-2"  # CollectedClientData
R3 = "Resp-3"  # the attestation object and authData


def _client(**changes: Any) -> Callable[[Hostile], Any]:
    """clientDataJSON with fields replaced (`...` removes one), signed again."""
    def make(h: Hostile) -> Any:
        data = h.client_data()
        for key, value in changes.items():
            data.pop(key, None) if value is ... else data.__setitem__(key, value)
        return h.with_client_data(data)
    return make


def _client_raw(render: Callable[[dict[str, Any]], str]) -> Callable[[Hostile], Any]:
    """clientDataJSON written by hand (what json.dumps would never write), signed again."""
    return lambda h: h.with_client_data(render(h.client_data()).encode())


def _flags(set_: int = 0, clear: int = 0) -> Callable[[Hostile], Any]:
    def make(h: Hostile) -> Any:
        parts = h.parts()
        parts.flags = (parts.flags | set_) & ~clear
        return h.with_auth_data(parts)
    return make


def _auth(change: Callable[[AuthParts], None]) -> Callable[[Hostile], Any]:
    def make(h: Hostile) -> Any:
        parts = h.parts()
        change(parts)
        return h.with_auth_data(parts)
    return make


def _att(**changes: Any) -> Callable[[Hostile], Any]:
    """The attestation object with top-level keys replaced (`...` removes one)."""
    def make(h: Hostile) -> Any:
        att = dict(h.att)
        for key, value in changes.items():
            att.pop(key, None) if value is ... else att.__setitem__(key, value)
        return h.with_attestation(att)
    return make


def _set(parts: AuthParts, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(parts, name, value)


def _key(**entries: Any) -> Callable[[AuthParts], None]:
    """COSE key entries replaced by label (`k_1` is label -1, `k3` label 3)."""
    def change(parts: AuthParts) -> None:
        for name, value in entries.items():
            label = -int(name[2:]) if name.startswith("k_") else int(name[1:])
            parts.key[label] = value
    return change


def _ec2_key(change: Callable[[dict[int, Any]], None]) -> Callable[[AuthParts], None]:
    """An ES256 key (the sample's own, or a fresh one where it is RSA) with `change` made."""
    def apply(parts: AuthParts) -> None:
        if parts.key.get(1) != 2:
            public = ec.generate_private_key(ec.SECP256R1()).public_key()
            parts.key = dict(ES256.from_cryptography_key(public))
        change(parts.key)
    return apply


def _rsa_key(n: int, e: int) -> Callable[[AuthParts], None]:
    def change(parts: AuthParts) -> None:
        parts.key = {1: 3, 3: -257, -1: n.to_bytes((n.bit_length() + 7) // 8, "big"),
                     -2: e.to_bytes((e.bit_length() + 7) // 8, "big")}
    return change


_RSA_N = rsa.generate_private_key(65537, 2048).public_key().public_numbers().n


def _defect(case: str, title: str, defect: Defect) -> Mutation:
    """A statement the sample's attester signs with one deliberate mistake (statements/)."""
    return Mutation(case, title, lambda h: h.with_defect(defect), enforced_only=True,
                    defect=defect)


def _flip_last(value: bytes) -> bytes:
    return value[:-1] + bytes([value[-1] ^ 1])


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


PACKED = frozenset({"packed"})
X5C_FORMATS = frozenset({"packed", "tpm", "android-key", "apple", "fido-u2f"})

MUTATIONS: tuple[Mutation, ...] = (
    # --- Resp-1: the response JSON -------------------------------------------------------------
    Mutation(f"{R1} F-1", "id is missing", lambda h: h.with_fields("id")),
    Mutation(f"{R1} F-2", "id is not a string", lambda h: h.with_fields("id", value=12345)),
    Mutation(f"{R1} F-3", "id is not base64url", lambda h: h.with_fields("id", value="a+b/c==%")),
    # Resp-1 F-4 (type missing) is not hostile here: Graph's publicKeyCredential has no type
    # and the parser reads that form (registration.py).
    Mutation(f"{R1} F-5", "type is not a string", lambda h: h.with_fields("type", value=1)),
    Mutation(f"{R1} F-6", "type is not public-key",
             lambda h: h.with_fields("type", value="private-key")),
    Mutation(f"{R1} F-7", "response is missing", lambda h: h.with_fields("response")),
    Mutation(f"{R1} F-8", "response is not an object",
             lambda h: h.with_fields("response", value="response")),
    Mutation(f"{R1} F-9", "clientDataJSON is missing",
             lambda h: h.with_fields("response", "clientDataJSON")),
    Mutation(f"{R1} F-10", "clientDataJSON is not a string",
             lambda h: h.with_fields("response", "clientDataJSON", value=[1, 2])),
    Mutation(f"{R1} F-11", "clientDataJSON is empty",
             lambda h: h.with_fields("response", "clientDataJSON", value="")),
    Mutation(f"{R1} F-12", "attestationObject is missing",
             lambda h: h.with_fields("response", "attestationObject")),
    Mutation(f"{R1} F-13", "attestationObject is not a string",
             lambda h: h.with_fields("response", "attestationObject", value={"a": 1})),
    Mutation(f"{R1} F-14", "attestationObject is empty",
             lambda h: h.with_fields("response", "attestationObject", value="")),
    Mutation("WebAuthn L3 §5.1 rawId", "rawId differs from id",
             lambda h: h.with_fields("rawId", value=websafe_encode(b"another credential"))),
    Mutation("WebAuthn L3 §5.1 toJSON", "the response is a JSON array, not an object",
             lambda h: [h.response]),
    Mutation("WebAuthn L3 §5.2.1 credProps", "credProps.rk is false",
             lambda h: h.with_fields("clientExtensionResults", value={"credProps": {"rk": False}})),
    # --- Resp-2: CollectedClientData (signed again over the new clientDataJSON) ------------------
    Mutation(f"{R2} F-1", "clientData type is missing", _client(type=...)),
    Mutation(f"{R2} F-2", "clientData type is not a string", _client(type=7)),
    Mutation(f"{R2} F-3", "clientData type is empty", _client(type="")),
    Mutation(f"{R2} F-4", "clientData type is not webauthn.create",
             _client(type="payment.create")),
    Mutation(f"{R2} F-5", "clientData type is webauthn.get", _client(type="webauthn.get")),
    Mutation(f"{R2} F-6", "challenge is missing", _client(challenge=...)),
    Mutation(f"{R2} F-7", "challenge is not a string", _client(challenge=123)),
    Mutation(f"{R2} F-8", "challenge is empty", _client(challenge="")),
    Mutation(f"{R2} F-9", "challenge is not base64url", _client(challenge="no+base64/url!")),
    Mutation(f"{R2} F-10", "challenge is not the issued one",
             _client(challenge=websafe_encode(b"\0" * 32))),
    Mutation(f"{R2} F-11", "origin is missing", _client(origin=...)),
    Mutation(f"{R2} F-12", "origin is not a string", _client(origin=["https://x"])),
    Mutation(f"{R2} F-13", "origin is empty", _client(origin="")),
    Mutation(f"{R2} F-14", "origin is not the relying party's", _client(origin="https://evil.example")),
    Mutation(f"{R2} F-15", "tokenBinding is not an object", _client(tokenBinding="present")),
    Mutation(f"{R2} F-16", "tokenBinding has no status", _client(tokenBinding={})),
    Mutation(f"{R2} F-17", "tokenBinding status is unknown",
             _client(tokenBinding={"status": "enabled"})),
    Mutation("WebAuthn L2 §5.8.1 tokenBinding.id", "tokenBinding present without an id",
             _client(tokenBinding={"status": "present"})),
    Mutation("WebAuthn L3 §7.1 step 9 (crossOrigin)", "crossOrigin true with a foreign topOrigin",
             _client(crossOrigin=True, topOrigin="https://evil.example")),
    Mutation("WebAuthn L3 §5.8.1 crossOrigin", "crossOrigin is not a boolean",
             _client(crossOrigin="yes")),
    Mutation("RFC 8259 §4 / RFC 7493 §2.3", "type duplicated: webauthn.get, then webauthn.create",
             _client_raw(lambda d: '{"type":"webauthn.get",' + json.dumps(d)[1:])),
    Mutation("RFC 8259 §6", "a NaN value (not JSON)",
             _client_raw(lambda d: json.dumps(d)[:-1] + ',"x":NaN}')),
    Mutation("issue 14 fault 1", f"clientDataJSON nested {NESTING} levels deep",
             _client_raw(lambda d: json.dumps(d)[:-1] + f',"x":{_nested(NESTING)}}}')),
    Mutation("RFC 8259 §2", "clientDataJSON is a JSON array",
             _client_raw(lambda d: json.dumps([d]))),
    Mutation("RFC 8259 §8.1", "clientDataJSON is not UTF-8",
             lambda h: h.with_client_data(h.client_data_raw[:-1] + b'\xff"}')),
    # --- Resp-3: the attestation object -----------------------------------------------------------
    Mutation(f"{R3} F-1", "attestationObject is a CBOR array, not a map",
             lambda h: h.with_attestation(_cbor([h.att["fmt"], h.att["authData"]]))),
    Mutation(f"{R3} F-1", "attestationObject is not CBOR at all",
             lambda h: h.with_attestation(b"\xff\xfe not cbor")),
    Mutation("RFC 8949 §5.3.1", "trailing bytes after the attestation object",
             lambda h: h.with_attestation(_cbor(h.att) + b"\x00")),
    Mutation("RFC 8949 §3", "the attestation object is truncated",
             lambda h: h.with_attestation(_cbor(h.att)[:-7])),
    Mutation(f"{R3} F-2", "fmt is missing", _att(fmt=...)),
    Mutation(f"{R3} F-3", "fmt is not a text string", _att(fmt=7)),
    Mutation(f"{R3} F-4", "attStmt is missing", _att(attStmt=...)),
    Mutation(f"{R3} F-5", "attStmt is not a map", _att(attStmt=[1])),
    Mutation(f"{R3} F-6", "authData is missing", _att(authData=...)),
    Mutation(f"{R3} F-7", "authData is not a byte string", _att(authData="authData")),
    Mutation(f"{R3} F-8", "authData is empty", _att(authData=b"")),
    Mutation(f"{R3} F-9", "AT unset although attested credential data follows",
             lambda h: h.with_attestation({**h.att, "authData": h.auth_data[:32] + bytes(
                 [h.auth_data[32] & ~AT]) + h.auth_data[33:]})),
    Mutation(f"{R3} F-10", "AT unset and no attested credential data",
             lambda h: h.with_attestation({**h.att, "authData": h.auth_data[:32] + bytes(
                 [h.auth_data[32] & ~AT & ~ED]) + h.auth_data[33:37]})),
    Mutation(f"{R3} F-11", "AT set but no attested credential data",
             lambda h: h.with_attestation({**h.att, "authData": h.auth_data[:37]})),
    Mutation(f"{R3} F-12", "leftover bytes after the attested credential data",
             _auth(lambda p: _set(p, rest=p.rest + b"\x00\x01"))),
    Mutation("WebAuthn L3 §6.1 (ED)", "ED set, extensions an array, not a CBOR map",
             _auth(lambda p: _set(p, flags=p.flags | ED, rest=_cbor([1, 2])))),
    Mutation("WebAuthn L3 §6.1 (ED)", "ED set, no extension data",
             _auth(lambda p: _set(p, flags=p.flags | ED, rest=b""))),
    Mutation("WebAuthn L3 §6.1 (ED)", "extension data without ED",
             _auth(lambda p: _set(p, flags=p.flags & ~ED, rest=_cbor({"credProtect": 1})))),
    Mutation("WebAuthn L3 §6.1 (BE/BS)", "BS set without BE", _flags(set_=BS, clear=BE)),
    Mutation("WebAuthn L3 §7.1 step 13", "rpIdHash is another RP's",
             _auth(lambda p: _set(p, rp_id_hash=sha256(b"evil.example").digest()))),
    Mutation("WebAuthn L3 §7.1 step 14", "UP unset", _flags(clear=UP)),
    Mutation("WebAuthn L3 §7.1 step 16", "UV unset", _flags(clear=UV)),
    Mutation("WebAuthn L3 §6.5.1", "credential id length 0",
             _auth(lambda p: _set(p, credential_id=b""))),
    Mutation("WebAuthn L3 §7.1 step 20", "credential id longer than 1023 bytes",
             _auth(lambda p: _set(p, credential_id=b"\x07" * 1024))),
    Mutation("WebAuthn L3 §6.5.1", "credentialIdLength claims more bytes than follow",
             lambda h: h.with_attestation({**h.att, "authData": h.auth_data[:53] + b"\xff\xff"
                                           + h.auth_data[55:]})),
    Mutation("WebAuthn L3 §6.1", "authData cut inside the COSE key",
             lambda h: h.with_attestation({**h.att, "authData": h.auth_data[:70]})),
    # --- Resp-3 F-13..F-19: the packed statement's form (read even where not enforced) ----------
    Mutation(f"{R3} F-13", "packed attStmt is an empty map", _att(attStmt={}), formats=PACKED),
    Mutation(f"{R3} F-14", "packed alg is missing", lambda h: h.with_statement(alg=None),
             formats=PACKED),
    Mutation(f"{R3} F-15", "packed alg is not a number", lambda h: h.with_statement(alg="ES256"),
             formats=PACKED),
    Mutation(f"{R3} F-17", "packed sig is missing", lambda h: h.with_statement(sig=None),
             formats=PACKED),
    Mutation(f"{R3} F-18", "packed sig is not a byte string",
             lambda h: h.with_statement(sig="signature"), formats=PACKED),
    Mutation(f"{R3} F-19", "packed sig is empty", lambda h: h.with_statement(sig=b""),
             formats=PACKED),
    # --- the credential public key (Resp-4 is the positive side; these are its negatives) ------
    Mutation("WebAuthn L3 §7.1 step 17 (Resp-4)", "the key claims ES384 (not offered)",
             _auth(_key(k3=-35))),
    Mutation("RFC 9052 §7", "the COSE key is not a map", _auth(lambda p: _set(p, key=7))),
    Mutation("RFC 9052 §7.1", "the COSE key has no alg", _auth(lambda p: p.key.pop(3, None))),
    Mutation("RFC 9053 §7.1.1", "ES256 point not on the curve",
             _auth(_ec2_key(lambda k: k.__setitem__(-3, _flip_last(k[-3]))))),
    Mutation("RFC 9053 §7.1.1", "ES256 key on curve P-384",
             _auth(_ec2_key(lambda k: k.__setitem__(-1, 2)))),
    Mutation("RFC 9053 §7.1.1", "ES256 x coordinate 31 bytes",
             _auth(_ec2_key(lambda k: k.__setitem__(-2, k[-2][1:])))),
    Mutation("RFC 8017 §3.1 (issue 14 fault 6)", "RS256 key with an even modulus",
             _auth(_rsa_key(_RSA_N - 1, 65537))),
    Mutation("RFC 8017 §3.1 (issue 14 fault 6)", "RS256 exponent not smaller than the modulus",
             _auth(_rsa_key(_RSA_N, _RSA_N + 2))),
    Mutation("RFC 8017 §3.1", "RS256 key of 1024 bits",
             _auth(_rsa_key(rsa.generate_private_key(65537, 1024).public_key()
                            .public_numbers().n, 65537))),
    # --- Resp-5..A: statements, verified only where attestation is enforced ----------------------
    Mutation("Resp-5 F-1 / Resp-6 F-3", "fmt is an unknown format",
             lambda h: h.with_attestation({**h.att, "fmt": "packed-2"}), enforced_only=True),
    Mutation("Resp-5 F-2 / Resp-6 F-1 / Resp-8 F-2", "attStmt.sig does not verify",
             lambda h: h.with_statement(sig=_flip_last(h.att["attStmt"]["sig"])),
             formats=frozenset({"packed", "fido-u2f", "tpm", "android-key"}), enforced_only=True),
    Mutation("Resp-5 F-3", "x5c is missing", lambda h: h.with_statement(x5c=None),
             formats=X5C_FORMATS, enforced_only=True),
    Mutation("Resp-5 F-4", "x5c is not an array",
             lambda h: h.with_statement(x5c=h.att["attStmt"].get("x5c", [b""])[0]),
             formats=X5C_FORMATS, enforced_only=True),
    Mutation("Resp-5 F-5", "x5c is empty", lambda h: h.with_statement(x5c=[]),
             formats=X5C_FORMATS, enforced_only=True),
    _defect("Resp-5 F-6", "the leaf certificate expired", Defect.EXPIRED_LEAF),
    _defect("Resp-5 F-10", "x5c includes the root", Defect.ROOT_INCLUDED),
    _defect("Resp-5 F-11 / Resp-9 F-1 / Resp-A F-3", "x5c is in the wrong order",
            Defect.WRONG_ORDER),
    _defect("Resp-5 F-13", "sig does not verify with the leaf's key", Defect.BAD_SIGNATURE),
    _defect("WebAuthn L3 §8.2.1", "the certificate's AAGUID is not authData's",
            Defect.AAGUID_MISMATCH),
    Mutation("Resp-7 F-1", "a packed statement relabelled as none",
             lambda h: h.with_attestation({**h.att, "fmt": "none"}),
             formats=frozenset({"packed"}), enforced_only=True),
    Mutation("Resp-8 F-1", "fido-u2f with a non-zero AAGUID",
             _auth(lambda p: _set(p, aaguid=b"\x01" * 16)), formats=frozenset({"fido-u2f"}),
             enforced_only=True),
    _defect("Resp-9 F-2", "tpm certInfo.extraData is another hash", Defect.EXTRA_DATA_MISMATCH),
    _defect("Resp-9 F-3", "tpm certInfo.magic is not TPM_GENERATED_VALUE", Defect.MAGIC_MISMATCH),
    _defect("Resp-9 F-4", "tpm pubArea.unique is another key", Defect.PUB_AREA_MISMATCH),
    _defect("Resp-A F-1", "android-key attestationChallenge is not the clientDataHash",
            Defect.CHALLENGE_MISMATCH),
    _defect("Resp-A F-2", "android-key leaf certifies another key", Defect.LEAF_KEY_MISMATCH),
    _defect("WebAuthn L3 §8.8", "apple nonce hashes other bytes", Defect.NONCE_MISMATCH),
    Mutation("Resp-B F-1", "android-safetynet ver is empty", lambda h: h.with_statement(ver=""),
             formats=frozenset({"android-safetynet"}), enforced_only=True),
    Mutation("Resp-B F-2", "android-safetynet response is empty",
             lambda h: h.with_statement(response=b""),
             formats=frozenset({"android-safetynet"}), enforced_only=True),
)
