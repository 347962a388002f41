"""Typed access to attestation statement fields, and what a COSE `alg` implies.

attStmt is attacker-controlled CBOR: a field can be missing, of the wrong type or empty, and
each of those is ATTESTATION_STATEMENT_INVALID before any cryptography runs (FIDO server
conformance Resp-3 F-13..19, Resp-5 F-3..5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .certificate import AttestationCertificate
from .failure import (
    CERTIFICATE_INVALID,
    STATEMENT_INVALID,
    AttestationFailure,
    present,
    require,
)

T = TypeVar("T")

# COSE algorithm -> (key family, hash). https://www.iana.org/assignments/cose
ALGORITHMS: dict[int, tuple[type, hashes.HashAlgorithm | None]] = {
    -7: (ec.EllipticCurvePublicKey, hashes.SHA256()),  # ES256
    -35: (ec.EllipticCurvePublicKey, hashes.SHA384()),  # ES384
    -36: (ec.EllipticCurvePublicKey, hashes.SHA512()),  # ES512
    -8: (ed25519.Ed25519PublicKey, None),  # EdDSA
    -257: (rsa.RSAPublicKey, hashes.SHA256()),  # RS256
    -258: (rsa.RSAPublicKey, hashes.SHA384()),  # RS384
    -259: (rsa.RSAPublicKey, hashes.SHA512()),  # RS512
    -65535: (rsa.RSAPublicKey, hashes.SHA1()),  # RS1 (Windows Hello TPMs)
    -37: (rsa.RSAPublicKey, hashes.SHA256()),  # PS256
    -38: (rsa.RSAPublicKey, hashes.SHA384()),  # PS384
    -39: (rsa.RSAPublicKey, hashes.SHA512()),  # PS512
}


def is_mapping(value: object) -> bool:
    """isinstance(value, Mapping), answered without the ABC machinery for a plain dict (what
    JSON and CBOR decoders give): it is asked several times per registration."""
    return type(value) is dict or isinstance(value, Mapping)


def field(statement: Mapping[str, Any], key: str, kind: type[T], fmt: str) -> T:
    """A required attStmt field of the given type, non-empty when it is a byte string.

    The messages are formatted only on failure: this runs several times per decision."""
    if key not in statement:
        raise AttestationFailure(STATEMENT_INVALID, f"The {fmt} statement has no {key!r}.")
    value = statement[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise AttestationFailure(STATEMENT_INVALID, f"The {fmt} statement's {key!r} must be "
                                                    f"{kind.__name__}, not {type(value).__name__}.")
    if value in (b"", ""):
        raise AttestationFailure(STATEMENT_INVALID, f"The {fmt} statement's {key!r} is empty.")
    return value


def algorithm(statement: Mapping[str, Any], fmt: str) -> int:
    alg = field(statement, "alg", int, fmt)
    if alg not in ALGORITHMS:
        raise AttestationFailure(STATEMENT_INVALID, f"The {fmt} statement's alg {alg} is unknown.")
    return alg


def x5c(statement: Mapping[str, Any], fmt: str) -> list[bytes]:
    """The x5c chain: a non-empty array of DER byte strings, leaf first."""
    chain = field(statement, "x5c", list, fmt)
    if not chain:
        raise AttestationFailure(STATEMENT_INVALID, f"The {fmt} statement's x5c is empty.")
    if not all(isinstance(c, bytes) and c for c in chain):
        raise AttestationFailure(STATEMENT_INVALID,
                                 f"The {fmt} statement's x5c must hold only DER byte strings.")
    return chain


def leaf(chain: list[bytes], fmt: str) -> AttestationCertificate:
    """The x5c leaf; a certificate that does not parse is an invalid certificate."""
    try:
        return AttestationCertificate.load(chain[0])
    except ValueError as e:
        raise AttestationFailure(
            CERTIFICATE_INVALID, f"The {fmt} attestation certificate does not parse ({e})."
        ) from e


def require_key_for(alg: int, key: object, fmt: str) -> None:
    """The certificate key must be of the family `alg` names (an RSA key cannot sign ES256)."""
    family, _ = ALGORITHMS[alg]
    require(isinstance(key, family), STATEMENT_INVALID,
            f"The {fmt} statement's alg {alg} does not match the attestation key type.")


def hash_algorithm(alg: int) -> hashes.HashAlgorithm:
    """The hash `alg` signs with; EdDSA's is built in, so it names none."""
    return present(ALGORITHMS[alg][1], STATEMENT_INVALID, f"alg {alg} names no hash algorithm.")


def digest(alg: int, data: bytes) -> bytes:
    """data hashed with the hash `alg` employs (TPM extraData, WebAuthn §8.3)."""
    h = hashes.Hash(hash_algorithm(alg))
    h.update(data)
    return h.finalize()
