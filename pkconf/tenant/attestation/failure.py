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
from fido2.attestation.base import InvalidAttestation, InvalidSignature, UnsupportedType

from ..rules import Reason

# The reasons an attestation fails for, by the names the verifiers use
STATEMENT_INVALID = Reason.ATTESTATION_STATEMENT_INVALID
SIGNATURE_INVALID = Reason.ATTESTATION_SIGNATURE_INVALID
FORMAT_NOT_ACCEPTED = Reason.ATTESTATION_FORMAT_NOT_ACCEPTED
AAGUID_MISMATCH = Reason.ATTESTATION_AAGUID_MISMATCH
NONCE_MISMATCH = Reason.ATTESTATION_NONCE_MISMATCH
CERTIFICATE_INVALID = Reason.ATTESTATION_CERTIFICATE_INVALID
CERTIFICATE_EXPIRED = Reason.ATTESTATION_CERTIFICATE_EXPIRED
CHAIN_INVALID = Reason.ATTESTATION_CHAIN_INVALID
UNTRUSTED = Reason.ATTESTATION_UNTRUSTED
ATTESTATION_REQUIRED = Reason.ATTESTATION_REQUIRED
NOT_IN_METADATA = Reason.AUTHENTICATOR_NOT_IN_METADATA
NOT_ELIGIBLE = Reason.AUTHENTICATOR_NOT_ELIGIBLE
NOT_CERTIFIED = Reason.AUTHENTICATOR_NOT_CERTIFIED
REVOKED = Reason.AUTHENTICATOR_REVOKED
KEY_COMPROMISED = Reason.ATTESTATION_KEY_COMPROMISED

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class AttestationFailure(InvalidAttestation):
    """An attestation rejected for one rule-book reason, with a sentence saying why."""

    def __init__(self, reason: Reason, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def require(condition: object, reason: Reason, detail: str) -> None:
    """One spec requirement, one line: fail with `reason` unless `condition` holds."""
    if not condition:
        raise AttestationFailure(reason, detail)


def present(value: T | None, reason: Reason, detail: str) -> T:
    """`value`, which the spec requires to be there: fail with `reason` when it is None."""
    if value is None:
        raise AttestationFailure(reason, detail)
    return value


def of_type(value: object, kind: type[T], reason: Reason, detail: str) -> T:
    """`value` as a `kind` (never a bool for a number): fail with `reason` when it is not."""
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise AttestationFailure(reason, detail)
    return value


def failures_as(fallback: Reason) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Map whatever escapes a function onto a reason code, so callers see only AttestationFailure.

    Signature exceptions (fido2's and cryptography's) mean the signature did not verify;
    fido2's UnsupportedType means an unknown format; anything else (cbor, DER, JSON, a
    missing key, a wrong type) is `fallback`.
    """
    return lambda func: _typed(func, fallback)


def _typed(func: Callable[P, R], fallback: Reason) -> Callable[P, R]:
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
