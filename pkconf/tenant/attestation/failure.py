"""The one exception a verification step may raise, and the decorator that guarantees it.

The decision engine turns an `AttestationFailure` into a registration rejection, so every
problem with attacker-controlled input (CBOR, DER, JSON, signatures) must surface as one,
with a reason code from the rule book: a stray `KeyError` would be a 500, not a decision.
It subclasses fido2's `InvalidAttestation` so our verifiers honour fido2's `Attestation`
contract (fido2 callers that catch `InvalidAttestation` catch ours too).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from fido2.attestation import InvalidSignature, UnsupportedType
from fido2.attestation.base import InvalidAttestation

from ..rules import RULES

STATEMENT_INVALID = "ATTESTATION_STATEMENT_INVALID"
SIGNATURE_INVALID = "ATTESTATION_SIGNATURE_INVALID"
FORMAT_NOT_ACCEPTED = "ATTESTATION_FORMAT_NOT_ACCEPTED"
AAGUID_MISMATCH = "ATTESTATION_AAGUID_MISMATCH"
NONCE_MISMATCH = "ATTESTATION_NONCE_MISMATCH"
CERTIFICATE_INVALID = "ATTESTATION_CERTIFICATE_INVALID"
CERTIFICATE_EXPIRED = "ATTESTATION_CERTIFICATE_EXPIRED"
CHAIN_INVALID = "ATTESTATION_CHAIN_INVALID"
UNTRUSTED = "ATTESTATION_UNTRUSTED"
ATTESTATION_REQUIRED = "ATTESTATION_REQUIRED"
NOT_IN_METADATA = "AUTHENTICATOR_NOT_IN_METADATA"
NOT_ELIGIBLE = "AUTHENTICATOR_NOT_ELIGIBLE"
REVOKED = "AUTHENTICATOR_REVOKED"
KEY_COMPROMISED = "ATTESTATION_KEY_COMPROMISED"


class AttestationFailure(InvalidAttestation):
    """An attestation rejected for one rule-book reason, with a sentence saying why."""

    def __init__(self, reason: str, detail: str):
        if reason not in RULES:
            raise KeyError(f"unknown reason code {reason!r}")  # a programming error, loud
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def require(condition: object, reason: str, detail: str) -> None:
    """One spec requirement, one line: fail with `reason` unless `condition` holds."""
    if not condition:
        raise AttestationFailure(reason, detail)


P = ParamSpec("P")
R = TypeVar("R")


def failures_as(fallback: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Map whatever escapes a function onto a reason code, so callers see only AttestationFailure.

    Signature exceptions (fido2's and cryptography's) mean the signature did not verify;
    fido2's UnsupportedType means an unknown format; anything else (cbor, DER, JSON, a
    missing key, a wrong type) is `fallback`.
    """
    return lambda func: _typed(func, fallback)


def _typed(func: Callable[P, R], fallback: str) -> Callable[P, R]:
    @wraps(func)
    def inner(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except AttestationFailure:
            raise
        except (InvalidSignature, CryptoInvalidSignature) as e:
            raise AttestationFailure(
                SIGNATURE_INVALID, "The attestation signature does not verify."
            ) from e
        except UnsupportedType as e:
            raise AttestationFailure(
                FORMAT_NOT_ACCEPTED, f"The attestation format {e.fmt!r} is not supported."
            ) from e
        except Exception as e:
            raise AttestationFailure(
                fallback, f"The attestation input is malformed ({type(e).__name__}: {e})."
            ) from e

    return inner


typed_failures = failures_as(STATEMENT_INVALID)
