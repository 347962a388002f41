"""Tenant-side attestation: statement formats, certificate chains and FIDO metadata."""

from .failure import AttestationFailure
from .statement import VerifiedStatement, parse_attestation_object, verify_statement

__all__ = [
    "AttestationFailure",
    "VerifiedStatement",
    "parse_attestation_object",
    "verify_statement",
]
