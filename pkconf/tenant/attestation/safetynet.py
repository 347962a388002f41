"""Strict android-safetynet verification (WebAuthn §8.5) on top of fido2's verifier.

fido2 checks the nonce, ctsProfileMatch, the leaf's CN and the JWS signature, but with one
generic error, and never looks at `timestampMs`. The checks below come first so each failure
has its own reason; fido2 then verifies the JWS signature.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.constant_time import bytes_eq
from fido2.attestation.android import AndroidSafetynetAttestation
from fido2.attestation.base import AttestationResult
from fido2.utils import websafe_decode
from fido2.webauthn import AuthenticatorData

from .. import jsontext
from . import fields
from .failure import (
    CERTIFICATE_INVALID,
    NONCE_MISMATCH,
    STATEMENT_INVALID,
    AttestationFailure,
    of_type,
    require,
    typed_failures,
)

ATTEST_HOSTNAME = "attest.android.com"
# FIDO server conformance Resp-B: a response more than a minute old, or from the future, fails.
MAX_AGE = timedelta(minutes=1)


class StrictSafetynetAttestation(AndroidSafetynetAttestation):
    """SafetyNet with its timestamp judged at `at` (None: the timestamp is not judged)."""

    def __init__(self, at: datetime | None = None):
        super().__init__(allow_rooted=False)
        self.at = at

    @typed_failures
    def verify(self, statement: Mapping[str, Any], auth_data: AuthenticatorData,
               client_data_hash: bytes) -> AttestationResult:
        fields.field(statement, "ver", str, "android-safetynet")
        jws = fields.field(statement, "response", bytes, "android-safetynet")
        header, payload = _jws_parts(jws)

        # step 3: nonce = base64(SHA-256(authenticatorData || clientDataHash))
        expected = hashes.Hash(hashes.SHA256())
        expected.update(bytes(auth_data) + client_data_hash)
        require(bytes_eq(_base64(payload.get("nonce")), expected.finalize()), NONCE_MISMATCH,
                "The SafetyNet nonce does not hash authData and clientDataHash.")

        # step 4: the leaf is issued to attest.android.com
        chain = header.get("x5c")
        if not (isinstance(chain, list) and chain and all(isinstance(c, str) for c in chain)):
            raise AttestationFailure(STATEMENT_INVALID,
                                     "The SafetyNet JWS header has no x5c certificate array.")
        leaf = fields.leaf([base64.b64decode(chain[0])], "android-safetynet")
        require(leaf.subject_values(x509.NameOID.COMMON_NAME) == [ATTEST_HOSTNAME],
                CERTIFICATE_INVALID, f"The SafetyNet certificate is not issued to "
                                     f"{ATTEST_HOSTNAME}.")
        # step 5: the device passed the CTS profile check
        require(payload.get("ctsProfileMatch") is True, CERTIFICATE_INVALID,
                "The SafetyNet response says ctsProfileMatch is false (device not "
                "CTS-compatible).")
        self._require_fresh(payload.get("timestampMs"))
        result: AttestationResult = super().verify(statement, auth_data, client_data_hash)
        return result

    def _require_fresh(self, timestamp_ms: object) -> None:
        milliseconds = of_type(timestamp_ms, int, STATEMENT_INVALID,
                               "The SafetyNet response has no integer timestampMs.")
        if self.at is None:
            return
        issued = datetime.fromtimestamp(milliseconds / 1000, UTC)
        require(issued <= self.at, STATEMENT_INVALID,
                f"The SafetyNet response is dated {issued.isoformat()}, in the future.")
        require(self.at - issued <= MAX_AGE, STATEMENT_INVALID,
                f"The SafetyNet response is dated {issued.isoformat()}, over a minute old.")


def _jws_parts(jws: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON header and payload of a compact JWS; the signature is fido2's business."""
    parts = jws.split(b".")
    require(len(parts) == 3, STATEMENT_INVALID, "The SafetyNet response is not a compact JWS.")
    try:
        # bounded nesting: the JWS is the attacker's JSON, read before fido2 reads it again
        header, payload = (jsontext.loads(websafe_decode(p).decode()) for p in parts[:2])
    except (ValueError, binascii.Error) as e:
        raise AttestationFailure(
            STATEMENT_INVALID, f"The SafetyNet JWS is not JSON ({e})."
        ) from e
    require(isinstance(header, dict) and isinstance(payload, dict), STATEMENT_INVALID,
            "The SafetyNet JWS header and payload must be JSON objects.")
    return header, payload


def _base64(value: object) -> bytes:
    text = of_type(value, str, NONCE_MISMATCH, "The SafetyNet response has no nonce.")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise AttestationFailure(NONCE_MISMATCH, "The SafetyNet nonce is not base64.") from None
